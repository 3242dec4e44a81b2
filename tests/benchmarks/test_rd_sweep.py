"""The rate-distortion sweep (benchmarks/rd_sweep.py): what each point trains, and how results are summed up."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))

import rd_sweep  # noqa: E402

from snn_codec.config import load_config  # noqa: E402


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch):
    monkeypatch.chdir(Path(__file__).parents[2])  # the sweep reads configs/ relative to the repository


@pytest.mark.parametrize("neuron", ["threshold", "snntorch_leaky", "norse_lsnn"])
def test_a_spiking_point_is_the_base_config_with_its_neuron_and_target(tmp_path, neuron):
    name, run_dir, point = rd_sweep.spiking_run(neuron, 0.75, steps=123, runs=tmp_path)
    config = load_config(run_dir / "sweep.yaml")
    base = load_config(rd_sweep.BASE)
    assert name == config.model.name == f"rd-{neuron.replace('_', '-')}-0.75k"
    assert config.model.bottleneck["kind"] == neuron
    assert (config.model.encoder, config.model.decoder) == (base.model.encoder, base.model.decoder)
    assert config.train.rate_control.target_kbps == 0.75 and config.train.steps == 123
    assert config.train.init_from == rd_sweep.INIT_FROM and config.train.data == base.train.data
    assert point == {"family": rd_sweep.FAMILIES[neuron], "target_kbps": 0.75}


def test_a_vq_point_keeps_its_codebooks_and_trains_as_long_from_the_same_start(tmp_path):
    _, run_dir, point = rd_sweep.vq_run("piano-rvq-1.5k", steps=77, runs=tmp_path)
    config = load_config(run_dir / "sweep.yaml")
    assert config.model.bottleneck == load_config("configs/piano-rvq-1.5k.yaml").model.bottleneck
    assert config.train.steps == 77 and config.train.init_from == rd_sweep.INIT_FROM
    assert point["family"] == "VQ-VAE" and point["target_kbps"] is None


def test_controller_accuracy_and_summary(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps({"val/payload_kbps": 1.05, "val_unseen/payload_kbps": 1.2,
                                                       "trim/kbps_before": 1.3}))
    accuracy = rd_sweep.controller_accuracy(tmp_path, 1.0)
    assert accuracy["rate_error_pct"] == pytest.approx(5.0)
    assert accuracy["before_trim_kbps"] == 1.3 and accuracy["val_unseen_kbps"] == 1.2
    rows = [{"system": "a", "set": name, "kbps": kbps, "log_mel_db": 3.0 + kbps}
            for name in rd_sweep.SETS.values() for kbps in (1.0, 2.0)]
    (summary,) = rd_sweep.summarize(rows, {"a": {"family": "threshold", **accuracy}})
    for name in rd_sweep.SETS.values():
        assert summary[f"kbps ({name})"] == 1.5 and summary[f"log_mel_db ({name})"] == 4.5
    assert summary["rate_error_pct"] == pytest.approx(5.0) and summary["family"] == "threshold"


def test_plot_draws_every_family_and_the_controller_panel(tmp_path, monkeypatch):
    monkeypatch.setattr(rd_sweep, "RESULTS", tmp_path)
    sets = {f"{key} ({name})": value for name in rd_sweep.SETS.values()
            for key, value in (("kbps", 1.0), ("log_mel_db", 4.0))}
    summary = [
        {"system": "rd-threshold-1k", "family": "threshold", "target_kbps": 1.0, "val_kbps": 1.0,
         "before_trim_kbps": 1.04, **sets},
        {"system": "piano-rvq-1.5k", "family": "VQ-VAE", "target_kbps": None, "val_kbps": 1.45, **sets},
        {"system": "piano-v3", "family": "shipped", **sets},
    ]
    path = rd_sweep.plot(summary)
    assert path == tmp_path / "rd_sweep.png" and path.stat().st_size > 20_000
