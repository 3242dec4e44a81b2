"""The comparison runner (benchmarks/run.py): its tables and figures, the peers' import shims, one quick run."""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import peers  # noqa: E402
import report  # noqa: E402
import run  # noqa: E402
from eval_set import Clip, ensemble_midi  # noqa: E402

from snn_codec.audio import save_audio  # noqa: E402


def fake_rows() -> list[dict]:
    rows = []
    for clip, domain in (("a", "piano"), ("b", "piano"), ("c", "speech")):
        rows.append({"system": "spiky", "kind": "spiking", "clip": clip, "domain": domain, "kbps": 2.0,
                     "log_mel_db": 3.0 if clip != "b" else 5.0, "si_sdr_db": -20.0, "mrstft": 0.5, "visqol": 4.0,
                     "events_per_s": 900.0, "firing_rate": 0.3})
        for kbps in (6.0, 12.0):
            rows.append({"system": f"opus-{kbps:g}", "kind": "classical", "clip": clip, "domain": domain,
                         "kbps": kbps + 1, "log_mel_db": 12 / kbps, "si_sdr_db": kbps, "mrstft": 0.2, "visqol": 3.5})
    return rows


def fake_speed() -> list[dict]:
    return [{"system": "spiky", "kind": "spiking", "sample_rate": 24000, "kbps": 2.0, "encode_x_realtime": 30.0,
             "decode_x_realtime": 90.0, "round_trip_x_realtime": 22.5},
            {"system": "peer", "kind": "peer (random weights)", "sample_rate": 24000, "kbps": 1.5,
             "encode_x_realtime": 5.0, "decode_x_realtime": 5.0, "round_trip_x_realtime": 2.5,
             "parameters": 10, "quoted_quality": "quality quoted, not measured: a paper"}]


def test_domain_means_average_each_system_per_domain():
    means = {(m["system"], m["domain"]): m for m in report.domain_means(fake_rows())}
    assert means["spiky", "piano"]["log_mel_db"] == pytest.approx(4.0)
    assert means["spiky", "piano"]["clips"] == 2 and means["spiky", "speech"]["clips"] == 1
    assert "firing_rate" not in means["opus-6", "piano"]


def test_outputs_are_written_from_a_fake_result_set(tmp_path):
    clips = [Clip(name, domain, np.zeros(10, np.float32), 8000, "made up") for name, domain in
             (("a", "piano"), ("b", "piano"), ("c", "speech"))]
    paths = report.write_outputs(tmp_path, "python benchmarks/run.py --fake", clips, fake_rows(), fake_speed(),
                                 {"dac-44khz": "not installed"}, 12.0)
    names = {p.name for p in paths}
    assert {"comparison.json", "comparison.csv", "comparison.md", "summary.md", "comparison_rate_distortion.png",
            "comparison_speed.png", "comparison_events.png"} <= names
    for png in tmp_path.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(tmp_path / "comparison.csv") as handle:
        assert len(list(csv.DictReader(handle))) == len(fake_rows())
    assert json.loads((tmp_path / "comparison.json").read_text())["unavailable"] == {"dac-44khz": "not installed"}
    document = (tmp_path / "comparison.md").read_text()
    assert "**piano** (2 clips, mean)" in document and "| opus-12 | 13.0 |" in document
    assert "quality quoted, not measured" in document and "dac-44khz: not measured: not installed" in document
    summary = (tmp_path / "summary.md").read_text()
    assert "python benchmarks/run.py --fake" in summary and "| system | kbps | piano | speech |" in summary


def test_ensemble_midi_splits_registers_between_two_programs():
    midi = ensemble_midi([(0.0, 0.5, 48, 80), (0.25, 1.0, 72, 90)], low=48, high=73)
    messages = [m for m in midi.tracks[0] if not m.is_meta]
    programs = {m.channel: m.program for m in messages if m.type == "program_change"}
    notes = {m.note: m.channel for m in messages if m.type == "note_on"}
    assert programs == {0: 48, 1: 73} and notes == {48: 0, 72: 1}
    assert midi.length == pytest.approx(1.0)


def test_stand_ins_cover_missing_modules_only_during_the_import():
    name = "snn_codec_missing_package_for_test"
    with peers._stand_ins((name, f"{name}.ml")):
        from snn_codec_missing_package_for_test import ml  # type: ignore[import-not-found]

        base = ml.BaseModel
    assert issubclass(base, torch.nn.Module)
    assert name not in sys.modules and f"{name}.ml" not in sys.modules


def test_unknown_system_is_an_error(capsys):
    assert run.main(["--quick", "--systems", "aac-320"]) == 1
    assert "unknown systems ['aac-320']" in capsys.readouterr().err


def test_quick_run_end_to_end(tmp_path, tiny_model_file, make_audio):
    clip = tmp_path / "clip.wav"
    save_audio(clip, make_audio(2.0, 16000), 16000)
    out = tmp_path / "results"
    start = time.perf_counter()
    code = run.main(["--quick", "--no-visqol", "--model", str(tiny_model_file), "--systems", "tiny-test",
                     "codec2-1200", "--audio", str(clip), "--out", str(out)])
    assert code == 0 and time.perf_counter() - start < 60
    payload = json.loads((out / "comparison.json").read_text())
    assert {r["system"] for r in payload["quality"]} == {"tiny-test", "codec2-1200"}
    assert {r["system"] for r in payload["speed"]} == {"tiny-test", "codec2-1200"}
    spiking = next(r for r in payload["quality"] if r["system"] == "tiny-test")
    assert spiking["kind"] == "spiking" and 0 <= spiking["firing_rate"] <= 1 and spiking["kbps"] > 0
    assert "visqol" not in spiking
    assert "| tiny-test |" in (out / "summary.md").read_text()
