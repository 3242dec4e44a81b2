"""The neuromorphic encoder's benchmark (benchmarks/neuromorphic.py): a tiny run end to end, offline."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import torch

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import neuromorphic  # noqa: E402
from eval_set import Clip  # noqa: E402

from snn_codec.codec import Codec  # noqa: E402
from snn_codec.model_io import save_model  # noqa: E402


def test_tiny_run_reports_quality_activity_and_a_plot(tmp_path, tiny_config, tiny_model_file, make_audio,
                                                      monkeypatch):
    def clip(work, seed, seconds, sample_rate):
        return Clip(f"piano_{seed}", "piano", make_audio(seconds, sample_rate, seed=seed)[0], sample_rate, "test")

    monkeypatch.setattr(neuromorphic, "piano_clip", clip)
    torch.manual_seed(0)
    encoder = replace(tiny_config.encoder, kind="filterbank", bands=6, low_hz=100.0, high_hz=3000.0, hidden=(12,))
    model = save_model(Codec(replace(tiny_config, name="tiny-nm", encoder=encoder)).eval(), tmp_path / "nm.safetensors")
    argv = ["--model", str(model), "--reference", str(tiny_model_file), "--classical", "--clips", "2",
            "--seconds", "1", "--visqol-seconds", "0", "--out", str(tmp_path)]
    assert neuromorphic.main(argv) == 0
    summary = {row["system"]: row for row in json.loads((tmp_path / "neuromorphic.json").read_text())["summary"]}
    assert set(summary) == {"tiny-nm", "tiny-test"}
    assert summary["tiny-nm"]["encoder_synops_per_s"] > 0 and summary["tiny-test"]["encoder_synops_per_s"] == 0
    assert all(row["kbps"] > 0 and row["events_per_s"] > 0 for row in summary.values())
    assert (tmp_path / "neuromorphic.png").stat().st_size > 0 and "tiny-nm" in (tmp_path / "neuromorphic.md").read_text()
