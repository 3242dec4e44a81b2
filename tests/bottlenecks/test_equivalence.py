"""The spiking bottlenecks against the threshold reference and against each other, on tiny inputs."""

from __future__ import annotations

import pytest
import torch

from snn_codec.bottlenecks import build_bottleneck

LATENT_DIM, UNITS, FRAMES = 4, 5, 64


def built(kind: str, **options):
    """A bottleneck whose projection and BatchNorm equal every other one built here (same seed)."""
    torch.manual_seed(0)
    bottleneck = build_bottleneck(kind, latent_dim=LATENT_DIM, units=UNITS, **options)
    torch.manual_seed(1)
    bottleneck.project.weight.data = torch.randn(UNITS, LATENT_DIM, 1)
    bottleneck.project.bias.data = torch.randn(UNITS) * 0.1
    bottleneck.norm.running_mean = torch.randn(UNITS) * 0.1
    bottleneck.norm.running_var = torch.rand(UNITS) + 0.5
    bottleneck.norm.weight.data = torch.rand(UNITS) + 0.5
    bottleneck.norm.bias.data = torch.randn(UNITS) * 0.1
    return bottleneck.eval()


def latent(seed: int = 2):
    torch.manual_seed(seed)
    return torch.randn(2, LATENT_DIM, FRAMES)


@pytest.mark.parametrize("reset", ["zero", "none", "subtract"])
def test_leaky_without_decay_or_threshold_is_the_threshold_reference(reset):
    # beta = 0 forgets everything and threshold 0 makes H(U - 0) = H(I): exactly the reference
    reference = built("threshold")
    leaky = built("snntorch_leaky", beta=0.0, threshold=0.0, reset=reset)
    x = latent()
    assert torch.equal(leaky(x).events, reference(x).events)
    assert torch.equal(leaky(x).z, reference(x).z)


@pytest.mark.parametrize("reset", ["zero", "none"])
def test_leaky_without_decay_thresholds_each_frame(reset):
    leaky = built("snntorch_leaky", beta=0.0, threshold=1.0, reset=reset)
    x = latent()
    with torch.no_grad():
        current = leaky.norm(leaky.project(x))
    assert torch.equal(leaky(x).events, current - 1.0 > 0)


def test_leaky_without_decay_subtract_reset_raises_the_next_threshold():
    # snnTorch subtracts the threshold at the step after a spike, even when beta = 0:
    # S[t] = H(I[t] - theta * S[t-1] - theta), so "subtract" is not the memoryless reference
    leaky = built("snntorch_leaky", beta=0.0, threshold=1.0, reset="subtract")
    x = latent()
    with torch.no_grad():
        current = leaky.norm(leaky.project(x))
    previous = torch.zeros_like(current[..., 0])
    expected = []
    for t in range(FRAMES):
        previous = (current[..., t] - previous * 1.0) - 1.0 > 0
        expected.append(previous)
        previous = previous.float()
    expected = torch.stack(expected, dim=-1)
    assert torch.equal(leaky(x).events, expected)
    assert not torch.equal(expected, current - 1.0 > 0)


@pytest.mark.parametrize("beta", [0.5, 0.8, 0.95])
def test_snntorch_leaky_and_norse_lif_spike_identically(beta):
    snn = built("snntorch_leaky", beta=beta, threshold=1.0, reset="zero")
    norse = built("norse_lif", beta=beta, v_th=1.0, reset="zero")
    x = latent() * 2
    a, b = snn(x), norse(x)
    assert 0.05 < float(a.stats["firing_rate"]) < 0.95
    assert torch.equal(a.events, b.events)
    # snnTorch keeps the pre-reset membrane, Norse the post-reset one
    last = a.events[..., -1].float()
    torch.testing.assert_close((1 - last) * a.state["mem"], b.state["v"], rtol=1e-5, atol=1e-5)


def test_norse_tau_mem_is_euler_not_exponential():
    # tau_mem = 0.1 s at dt = 0.02 s is beta = 1 - 0.2 = 0.8 (forward Euler), not exp(-0.2) = 0.819
    euler = built("snntorch_leaky", beta=0.8)
    norse = built("norse_lif", tau_mem=0.1, dt=0.02)
    x = latent() * 2
    assert torch.equal(euler(x).events, norse(x).events)
    assert torch.allclose(norse.beta, torch.tensor(0.8))


def test_subtract_resets_differ_between_the_libraries():
    # snnTorch: U[t] = beta U[t-1] + I[t] - theta S[t-1]; Norse: v[t] = beta (v[t-1] - theta z[t-1]) + I[t]
    beta = 0.9
    snn = built("snntorch_leaky", beta=beta, reset="subtract")
    norse = built("norse_lif", beta=beta, reset="subtract")
    x = latent() * 2
    with torch.no_grad():
        current = snn.norm(snn.project(x))
    v = torch.zeros_like(current[..., 0])
    expected = []
    for t in range(FRAMES):
        v = beta * v + current[..., t]
        z = v > 1.0
        v = v - z.float() * 1.0  # Norse subtracts v_th at once, so it decays with v
        expected.append(z)
    expected = torch.stack(expected, dim=-1)
    assert (norse(x).events != expected).float().mean() < 0.01  # same law, float rounding aside
    assert not torch.equal(snn(x).events, norse(x).events)


def lsnn_reference(current: torch.Tensor, a: float, r: float, v_th: float, adapt: float) -> torch.Tensor:
    """The LSNN recurrence of `NorseLSNN`'s docstring, written out: current (B, N, T) -> spikes."""
    v = torch.zeros(current.shape[:2])
    i = torch.zeros_like(v)
    b = torch.full_like(v, v_th)
    spikes = []
    for t in range(current.shape[-1]):
        v = v + a * ((0 - v) + i)  # the same operations, in the same order, as Norse
        b = b + r * (v_th - b)
        z = (v - b > 0).float()
        v = (1 - z) * v
        b = b + z * adapt
        i = i + (-1.0 * i) + current[..., t]
        spikes.append(z)
    return torch.stack(spikes, dim=-1).bool()


@pytest.mark.parametrize("adapt", [0.0, 0.8])
def test_norse_lsnn_follows_its_documented_recurrence(adapt):
    lsnn = built("norse_lsnn", beta=0.8, v_th=1.0, tau_adapt=0.1, adapt=adapt, dt=0.02)
    x = latent() * 3
    current = lsnn.input_current(x) * lsnn.input_gain[:, None]
    expected = lsnn_reference(current.detach(), a=0.2, r=0.2, v_th=1.0, adapt=adapt)
    assert torch.equal(lsnn(x).events, expected)


def test_norse_lsnn_adaptation_lowers_the_rate_and_raises_thresholds():
    x = latent() * 3 + 2.0  # strong drive: units would fire often
    plain = built("norse_lsnn", beta=0.8, adapt=0.0)
    adaptive = built("norse_lsnn", beta=0.8, adapt=1.0, tau_adapt=0.2)
    fast, slow = plain(x), adaptive(x)
    assert slow.events.float().mean() < 0.8 * fast.events.float().mean()
    assert (slow.state["b"] >= 1.0 - 1e-6).all() and slow.state["b"].max() > 1.5


def test_norse_lsnn_is_not_exported_to_nir():
    from snn_codec.bottlenecks.nir_export import bottleneck_to_nir
    from snn_codec.errors import ConfigError

    with pytest.raises(ConfigError, match="adaptive threshold"):
        bottleneck_to_nir(built("norse_lsnn"), dt=0.02)
