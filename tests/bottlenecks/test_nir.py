"""NIR export: the written graph loads, and Norse / snnTorch re-imports spike like our bottlenecks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snn_codec.bottlenecks.nir_export import bottleneck_to_nir, folded_affine
from snn_codec.errors import ConfigError

nir = pytest.importorskip("nir")


def latent():
    torch.manual_seed(1)
    return torch.randn(2, 4, 60) * 2


def round_trip(graph, tmp_path):
    path = tmp_path / "bottleneck.nir"
    nir.write(path, graph)
    return nir.read(path)


def run_stateful(module, x):
    """Feeds (B, C, T) frame by frame to an imported GraphExecutor; (B, N, T) bool spikes."""
    state, spikes = None, []
    with torch.no_grad():
        for t in range(x.shape[-1]):
            z, state = module(x[..., t], state)
            spikes.append(z)
    return torch.stack(spikes, dim=-1) > 0


def test_batchnorm_folds_into_the_affine(trained):
    bottleneck = trained("threshold")
    x = latent()
    weight, bias = folded_affine(bottleneck)
    with torch.no_grad():
        current = bottleneck.norm(bottleneck.project(x))
    folded = torch.einsum("nc,bct->bnt", torch.from_numpy(weight), x.double()) + torch.from_numpy(bias)[:, None]
    torch.testing.assert_close(folded.float(), current, rtol=1e-5, atol=1e-5)


def test_threshold_graph_round_trips_and_evaluates_to_the_events(trained, tmp_path):
    bottleneck = trained("threshold")
    graph = round_trip(bottleneck_to_nir(bottleneck), tmp_path)
    assert isinstance(graph.nodes["neuron"], nir.Threshold)
    affine = graph.nodes["affine"]
    x = latent()
    current = np.einsum("nc,bct->bnt", affine.weight, x.numpy()) + affine.bias[:, None]
    assert np.array_equal(current > graph.nodes["neuron"].threshold[:, None], bottleneck(x).events.numpy())


@pytest.mark.parametrize(("kind", "options"), [("snntorch_leaky", {"beta": 0.8}), ("norse_lif", {"beta": 0.7})])
def test_lif_graph_imports_into_norse_with_the_same_spikes(trained, kind, options, tmp_path):
    import norse.torch

    bottleneck = trained(kind, **options)
    graph = round_trip(bottleneck_to_nir(bottleneck, dt=0.02), tmp_path)
    assert isinstance(graph.nodes["neuron"], nir.LIF)
    x = latent()
    events = bottleneck(x).events
    assert 0.05 < events.float().mean() < 0.95
    assert torch.equal(run_stateful(norse.torch.from_nir(graph, dt=0.02), x), events)


@pytest.mark.parametrize(("kind", "options"), [("snntorch_leaky", {"beta": 0.8}), ("norse_lif", {"beta": 0.7})])
def test_lif_graph_imports_into_snntorch_with_the_same_spikes(trained, kind, options, tmp_path):
    from snntorch.import_nir import import_from_nir

    bottleneck = trained(kind, **options)
    graph = round_trip(bottleneck_to_nir(bottleneck, dt=1e-4), tmp_path)  # snnTorch's fixed import dt
    x = latent()
    assert torch.equal(run_stateful(import_from_nir(graph), x), bottleneck(x).events)


@pytest.mark.parametrize("target", ["norse", "snntorch"])
def test_synaptic_graph_imports_as_cuba_lif_with_the_same_spikes(trained, target, tmp_path):
    bottleneck = trained("snntorch_synaptic", alpha=0.5, beta=0.8)
    graph = round_trip(bottleneck_to_nir(bottleneck, dt=1e-4), tmp_path)
    assert isinstance(graph.nodes["neuron"], nir.CubaLIF)
    if target == "norse":
        import norse.torch

        module = norse.torch.from_nir(graph, dt=1e-4)
    else:
        from snntorch.import_nir import import_from_nir

        module = import_from_nir(graph)
    x = latent()
    events = bottleneck(x).events
    assert 0.05 < events.float().mean() < 0.95
    assert torch.equal(run_stateful(module, x), events)


@pytest.mark.parametrize("reset", ["subtract", "none"])
def test_resets_nir_cannot_express_are_config_errors(trained, reset):
    with pytest.raises(ConfigError, match="reset='zero'"):
        bottleneck_to_nir(trained("snntorch_leaky", reset=reset))
