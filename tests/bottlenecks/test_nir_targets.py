"""NIR export targets: each graph, read the way its simulator's importer reads it, gives our spikes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snn_codec.bottlenecks.nir_export import bottleneck_to_nir
from snn_codec.bottlenecks.nir_readings import read_graph
from snn_codec.bottlenecks.nir_targets import TARGETS
from snn_codec.errors import ConfigError

nir = pytest.importorskip("nir")


def latent():
    torch.manual_seed(1)
    return torch.randn(1, 4, 120) * 2


def events(bottleneck, x) -> np.ndarray:
    """(T, N) float spikes of our bottleneck."""
    return bottleneck(x).events[0].T.numpy().astype(np.float64)


def round_trip(graph, tmp_path):
    path = tmp_path / "bottleneck.nir"
    nir.write(path, graph)
    return nir.read(path)


def read(graph, x, reading, adapted=True):
    return read_graph(graph, x[0].T.numpy(), reading, dt=0.02, adapted=adapted)


def test_the_generic_target_is_the_default_graph(trained):
    bottleneck = trained("snntorch_leaky", beta=0.8)
    default, generic = bottleneck_to_nir(bottleneck), bottleneck_to_nir(bottleneck, target="generic")
    assert default.edges == generic.edges
    for name, node in default.nodes.items():
        assert type(generic.nodes[name]) is type(node)
        for field, value in vars(node).items():
            if isinstance(value, np.ndarray):
                assert np.array_equal(getattr(generic.nodes[name], field), value)


@pytest.mark.parametrize("target", ["rockpool", "sinabs", "spyx"])
def test_the_threshold_model_exports_to_every_target_with_our_spikes(trained, target, tmp_path):
    bottleneck = trained("threshold")
    graph = round_trip(bottleneck_to_nir(bottleneck, dt=0.02, target=target), tmp_path)
    x = latent()
    out = read(graph, x, target)
    assert np.isin(out, (0.0, 1.0)).all()
    assert np.array_equal(out, events(bottleneck, x))


@pytest.mark.parametrize("kind,options", [("snntorch_leaky", {"beta": 0.8}), ("norse_lif", {"beta": 0.7})])
def test_lif_exports_to_sinabs_with_our_spikes(trained, kind, options, tmp_path):
    bottleneck = trained(kind, **options)
    graph = round_trip(bottleneck_to_nir(bottleneck, target="sinabs"), tmp_path)
    x = latent()
    ours = events(bottleneck, x)
    assert 0.05 < ours.mean() < 0.95
    assert np.array_equal(read(graph, x, "sinabs"), ours)
    assert not np.isin(read(graph, x, "sinabs", adapted=False), (0.0, 1.0)).all()  # several spikes per step


def test_spyx_and_rockpool_lif_differ_only_by_their_subtractive_resets(trained, tmp_path):
    """Spyx (shifted) is snnTorch's subtract reset; Rockpool removes theta before the decay, like Norse's."""
    zero = trained("snntorch_leaky", beta=0.8)
    subtract = trained("snntorch_leaky", beta=0.8, reset="subtract")
    norse_subtract = trained("norse_lif", beta=0.8, v_th=1.0, reset="subtract")
    for other in (subtract, norse_subtract):
        other.load_state_dict(zero.state_dict(), strict=False)
    x = latent()
    spyx = read(round_trip(bottleneck_to_nir(zero, target="spyx"), tmp_path), x, "spyx")
    rockpool = read(round_trip(bottleneck_to_nir(zero, target="rockpool"), tmp_path), x, "rockpool")
    assert np.array_equal(spyx, events(subtract, x))
    assert np.array_equal(rockpool, events(norse_subtract, x))
    assert not np.array_equal(spyx, events(zero, x))


def test_spyx_lif_spikes_one_step_late_without_the_adapter(trained, tmp_path):
    bottleneck = trained("snntorch_leaky", beta=0.8)
    graph = round_trip(bottleneck_to_nir(bottleneck, target="spyx"), tmp_path)
    x = latent()
    assert np.array_equal(read(graph, x, "spyx", adapted=False)[1:], read(graph, x, "spyx")[:-1])


def test_a_dropped_threshold_passes_the_float_current_through(trained):
    bottleneck = trained("threshold")
    x = latent()
    out = read(bottleneck_to_nir(bottleneck), x, "spyx")
    assert not np.isin(out, (0.0, 1.0)).all()
    assert np.array_equal(out > 0, events(bottleneck, x) > 0)  # what a check that binarises would accept


@pytest.mark.parametrize("target", ["rockpool", "spyx"])
def test_synaptic_lif_exports_where_cuba_lif_imports(trained, target):
    graph = bottleneck_to_nir(trained("snntorch_synaptic", alpha=0.5, beta=0.8), target=target)
    assert isinstance(graph.nodes["neuron"], nir.CubaLIF)
    out = read(graph, latent(), target)
    assert np.isin(out, (0.0, 1.0)).all() and 0.05 < out.mean() < 0.95


def test_sinabs_has_no_cuba_lif_and_unknown_targets_are_refused(trained):
    with pytest.raises(ConfigError, match="CubaLIF"):
        bottleneck_to_nir(trained("snntorch_synaptic"), target="sinabs")
    with pytest.raises(ConfigError, match="unknown NIR target"):
        bottleneck_to_nir(trained("threshold"), target="lava")


@pytest.mark.parametrize("importer", ["norse", "snntorch"])
def test_the_norse_target_gives_the_threshold_model_to_norse_and_snntorch(trained, importer, tmp_path):
    bottleneck = trained("threshold")
    dt = 0.02 if importer == "norse" else 1e-4  # snnTorch's fixed import step
    graph = round_trip(bottleneck_to_nir(bottleneck, dt=dt, target="norse"), tmp_path)
    if importer == "norse":
        import norse.torch

        module = norse.torch.from_nir(graph, dt=dt)
    else:
        from snntorch.import_nir import import_from_nir

        module = import_from_nir(graph)
    x = latent()
    state, spikes = None, []
    with torch.no_grad():
        for t in range(x.shape[-1]):
            z, state = module(x[..., t], state)
            spikes.append(z[0])
    assert torch.equal(torch.stack(spikes).double(), torch.from_numpy(events(bottleneck, x)))


def test_export_nir_command_takes_a_target(tmp_path, tiny_config, capsys):
    from dataclasses import replace

    from snn_codec.cli import build_parser, main
    from snn_codec.codec import Codec
    from snn_codec.model_io import save_model

    torch.manual_seed(0)
    model = save_model(Codec(replace(tiny_config, bottleneck={"kind": "threshold", "units": 8})).eval(),
                       tmp_path / "m.safetensors")
    assert main(["export-nir", str(model), str(tmp_path / "b.nir"), "--target", "spyx"]) == 0
    graph = nir.read(tmp_path / "b.nir")
    assert isinstance(graph.nodes["li"], nir.LI) and isinstance(graph.nodes["neuron"], nir.Threshold)
    export = build_parser()._subparsers._group_actions[0].choices["export-nir"]
    target = next(action for action in export._actions if action.dest == "target")
    assert tuple(target.choices) == TARGETS
