"""benchmarks/simulators.py: the spike comparison, rows for missing simulators, and the runners."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))

import simulators  # noqa: E402

from snn_codec.bottlenecks import build_bottleneck  # noqa: E402


def spikes() -> np.ndarray:
    return np.random.default_rng(0).random((30, 6)) < 0.3


def test_equal_binary_output_is_exact():
    ours = spikes()
    result = simulators.compare(ours, ours.astype(np.float64))
    assert result["exact"] and result["flipped"] == 0 and result["agreement"].startswith("exact")


def test_flipped_spikes_are_counted():
    ours = spikes()
    theirs = ours.astype(np.float64)
    theirs[3, 2] = 1 - theirs[3, 2]
    theirs[7, 0] = 1 - theirs[7, 0]
    result = simulators.compare(ours, theirs)
    assert not result["exact"] and result["flipped"] == 2 and result["flipped_fraction"] == 2 / ours.size


def test_a_dropped_threshold_returning_the_float_current_fails():
    """The current's sign is our spikes: binarising the output would pass; the comparison must not."""
    ours = spikes()
    current = np.where(ours, 0.5, -0.5) + np.random.default_rng(1).random(ours.shape) * 0.1
    result = simulators.compare(ours, current)
    assert not result["exact"] and not result["binary"] and result["flipped"] == 0
    assert "float values" in result["agreement"]
    assert "dropped" in simulators.cause("sinabs", "threshold", "generic", False, result, {"dropped": ["Threshold"]})


def test_spike_counts_and_wrong_shapes_fail():
    ours = spikes()
    counts = ours * 3.0
    assert "spike counts" in simulators.compare(ours, counts)["agreement"]
    assert not simulators.compare(ours, counts[:-1])["exact"]
    assert not simulators.compare(ours, None)["exact"]


def tiny_case() -> simulators.Case:
    torch.manual_seed(0)
    bottleneck = build_bottleneck("threshold", latent_dim=4, units=5)
    bottleneck(torch.randn(2, 4, 20) * 2)
    bottleneck.eval()
    latent = torch.randn(1, 4, 40) * 2
    events = bottleneck(latent).events[0].T.numpy()
    return simulators.Case("tiny", bottleneck, latent[0].T.numpy().astype(np.float32), events)


def test_a_missing_simulator_is_a_row_with_the_reason(tmp_path):
    sims = simulators.simulators(venvs=tmp_path / "none")
    for name in ("rockpool", "sinabs", "spyx"):
        rows = simulators.rows_for(tiny_case(), sims[name], tmp_path)
        assert len(rows) == 1 and rows[0]["agreement"] == "not run"
        assert "scripts/simulators.sh" in rows[0]["cause"] and not rows[0]["exact"]


def test_norse_runs_through_its_runner(tmp_path):
    pytest.importorskip("norse")
    rows = simulators.rows_for(tiny_case(), simulators.simulators()["norse"], tmp_path)
    by_graph = {row["graph"]: row for row in rows}
    assert by_graph["norse"]["exact"], by_graph["norse"]
    assert not by_graph["generic"]["exact"] and "dropped" in by_graph["generic"]["cause"]  # Norse has no Threshold


@pytest.mark.parametrize("name", ["rockpool", "sinabs", "spyx"])
def test_each_installed_simulator_gives_our_threshold_spikes_from_its_target(name, tmp_path):
    sim = simulators.simulators()[name]
    if (reason := sim.missing()) is not None:
        pytest.skip(reason)
    rows = simulators.rows_for(tiny_case(), sim, tmp_path)
    adapted = [row for row in rows if row["graph"] == name][-1]
    assert adapted["exact"] and adapted["matches_reading"], adapted
