"""SE-adLIF: the symplectic Euler update checked against a trace computed by hand."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from snn_codec.bottlenecks import build_bottleneck
from snn_codec.errors import ConfigError


def one_neuron(**options) -> nn.Module:
    """An adLIF neuron whose input current is the latent itself (projection 1, no BatchNorm)."""
    bottleneck = build_bottleneck("adlif", latent_dim=1, units=1, **options)
    with torch.no_grad():
        bottleneck.project.weight.fill_(1.0)
        bottleneck.project.bias.zero_()
    bottleneck.norm = nn.Identity()
    return bottleneck


def test_dynamics_match_a_hand_computed_trace():
    """beta = rho = 0.5, a = 0.5, b = 1, theta = 0.5; every value is a dyadic fraction, so exact in float32.

    t  I     u^ = .5 u + .5 (I - w)     S   u        w = .5 w + .5 (.5 u + S)
    1  1.5   0.75                       1   0        0.5
    2  1.0   0.25                       0   0.25     0.3125      (the new u enters w: symplectic Euler)
    3  1.0   0.46875                    0   0.46875  0.2734375
    4  1.0   0.59765625                 1   0        0.63671875
    5  -1.0  -0.818359375               0   -0.8184  0.11376953125
    """
    neuron = one_neuron(beta=0.5, rho=0.5, a=0.5, b=1.0, threshold=0.5)
    out = neuron(torch.tensor([[[1.5, 1.0, 1.0, 1.0, -1.0]]]))
    assert out.events[0, 0].tolist() == [True, False, False, True, False]
    assert out.state["u"].item() == -0.818359375
    assert out.state["w"].item() == 0.11376953125


def test_state_continues_the_trace():
    neuron = one_neuron(beta=0.5, rho=0.5, a=0.5, b=1.0, threshold=0.5)
    head = neuron(torch.tensor([[[1.5, 1.0]]]))
    assert head.state["u"].item() == 0.25 and head.state["w"].item() == 0.3125
    tail = neuron(torch.tensor([[[1.0, 1.0, -1.0]]]), head.state)
    assert tail.events[0, 0].tolist() == [False, True, False]
    assert tail.state["w"].item() == 0.11376953125


def test_spike_triggered_adaptation_lowers_the_firing_rate():
    drive = torch.full((1, 1, 200), 2.0)
    plain = one_neuron(a=0.0, b=0.0)(drive).events.sum()
    adapted = one_neuron(a=0.0, b=2.0)(drive).events.sum()
    assert 0 < adapted < plain


def test_subthreshold_coupling_makes_the_membrane_oscillate():
    """With a > 0 the (u, w) system is a damped oscillator: after a pulse u overshoots below rest."""
    neuron = one_neuron(beta=0.9, rho=0.9, a=8.0, b=0.0, threshold=100.0)
    pulse = torch.zeros(1, 1, 60)
    pulse[..., 0] = 10.0
    trace = []
    state = None
    for t in range(60):
        state = neuron(pulse[..., t : t + 1], state).state
        trace.append(state["u"].item())
    assert trace[0] > 0 and min(trace) < -0.05 * trace[0]
    lifeless = one_neuron(beta=0.9, rho=0.9, a=0.0, b=0.0, threshold=100.0)
    assert lifeless(pulse).state["u"].item() >= 0


def test_adaptation_parameters_learn():
    neuron = build_bottleneck("adlif", latent_dim=4, units=3)
    out = neuron(torch.randn(2, 4, 40))
    (out.z * torch.randn_like(out.z)).sum().backward()
    assert neuron.a.grad is not None and neuron.b.grad is not None and neuron.b.grad.abs().sum() > 0
    fixed = build_bottleneck("adlif", latent_dim=4, units=3, learn_adaptation=False)
    assert not fixed.a.requires_grad and not fixed.b.requires_grad


@pytest.mark.parametrize("options,message", [({"beta": 1.0}, "beta"), ({"rho": -0.1}, "rho"), ({"a": -1.0}, "a and b"),
                                             ({"threshold": 0.0}, "threshold"), ({"surrogate": "nope"}, "surrogate")])
def test_invalid_options_are_config_errors(options, message):
    with pytest.raises(ConfigError, match=message):
        build_bottleneck("adlif", latent_dim=4, **options)
