"""The compress-to-a-bitrate benchmark (benchmarks/target_bitrate.py): measurement and summary."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))

import target_bitrate  # noqa: E402


def test_measure_reports_bytes_error_and_quality_or_the_reason_it_could_not(tiny_codec, make_audio):
    clip, rate = make_audio(4.0, 8000, seed=3)[0], 8000
    own = target_bitrate.measure(tiny_codec, clip, rate, None)
    assert own["kbps"] > 0 and own["log_mel_db"] > 0 and "rate_error_pct" not in own
    out_of_reach = target_bitrate.measure(tiny_codec, clip, rate, 90.0)
    assert "kbps" not in out_of_reach and "no closer" in out_of_reach["error"]


def test_summary_counts_reached_clips_and_keeps_the_worst_error():
    rows = [
        {"set": "a", "target_kbps": None, "kbps": 1.2, "log_mel_db": 3.0},
        {"set": "a", "target_kbps": 1.0, "kbps": 1.01, "log_mel_db": 3.5, "rate_error_pct": 1.0},
        {"set": "a", "target_kbps": 1.0, "kbps": 0.97, "log_mel_db": 3.7, "rate_error_pct": -3.0},
        {"set": "a", "target_kbps": 1.0, "error": "out of reach"},
    ]
    own, one = target_bitrate.summarize(rows, [1.0])
    assert own["target"] == "model's own" and own["clips"] == "1/1" and own["kbps"] == 1.2
    assert one["clips"] == "2/3" and one["worst_error_pct"] == -3.0
    assert one["kbps"] == pytest.approx(0.99) and one["log_mel_db"] == pytest.approx(3.6)


def test_publish_writes_the_markdown_and_json_with_the_command(tmp_path, monkeypatch, capsys):
    import json

    import common

    monkeypatch.setattr(common, "RESULTS", tmp_path)
    monkeypatch.setattr(sys, "argv", ["benchmarks/target_bitrate.py", "--pieces", "2"])
    markdown = common.publish("x", "A title", "What was run.", "| a |\n|---|\n| 1 |", {"summary": [1]})
    assert markdown.startswith("# A title\n\n`python benchmarks/target_bitrate.py --pieces 2`\n\nWhat was run.")
    assert (tmp_path / "x.md").read_text() == markdown and "| 1 |" in capsys.readouterr().out
    assert json.loads((tmp_path / "x.json").read_text())["summary"] == [1] and "machine" in json.loads(
        (tmp_path / "x.json").read_text())
