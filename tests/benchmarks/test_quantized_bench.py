"""The quantisation benchmark (benchmarks/quantized.py) on a tiny model: systems at the float rate,
paired deltas, the integer check, and the published files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))

import quantized  # noqa: E402

from snn_codec.quantization import quantized_codec  # noqa: E402
from snn_codec.rate import probe_kbps  # noqa: E402


def test_precisions_parse_and_bad_ones_are_refused():
    assert quantized.parse_precision("8:8") == (8, 8) and quantized.parse_precision("4") == (4, 0)
    for bad in ("8:x", "8:8:8", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            quantized.parse_precision(bad)


def test_systems_are_trimmed_to_the_float_rate_and_compared_per_clip(tiny_codec, make_audio, tmp_path, monkeypatch):
    rate = tiny_codec.config.sample_rate
    probe = [torch.from_numpy(make_audio(2.0, rate, seed=s)).view(1, 1, -1) for s in range(2)]
    qat = quantized_codec(tiny_codec, 4, name="tiny-test-w4")  # named like the PTQ model of the same precision
    systems = quantized.build_systems(tiny_codec, [(8, 8), (4, 0)], [qat], probe)
    assert [(s.name, s.method) for s in systems] == [("tiny-test", "float"), ("tiny-test-w8i8", "PTQ"),
                                                     ("tiny-test-w4", "PTQ"), ("tiny-test-w4 (QAT)", "QAT")]
    target = systems[0].probe_kbps_before
    for system in systems[1:]:  # each within the trim's tolerance of the float rate, or as close as it gets
        assert abs(probe_kbps(system.codec, probe) / target - 1) < 0.05
    assert systems[1].events_changed is not None and systems[2].events_changed is None

    clips = [("a", make_audio(2.0, rate, seed=5)[0]), ("b", make_audio(2.0, rate, seed=6)[0])]
    rows = quantized.evaluate(systems, clips, rate)
    assert len(rows) == 2 * len(systems)
    summary = quantized.summarize(systems, rows)
    by_name = {line["system"]: line for line in summary}
    assert "delta_db" not in by_name["tiny-test"]
    w8 = by_name["tiny-test-w8i8"]
    reference = {r["clip"]: r["log_mel_db"] for r in rows if r["system"] == "tiny-test"}
    mine = [r["log_mel_db"] - reference[r["clip"]] for r in rows if r["system"] == "tiny-test-w8i8"]
    assert w8["delta_db"] == pytest.approx(sum(mine) / 2) and w8["integer_exact"] == "2/2"
    assert w8["precision"] == "8-bit weights, 8-bit inputs (step 2^-" + str(
        systems[1].codec.bottleneck.quantization.input_frac_bits) + ")"
    assert by_name["tiny-test-w4"]["integer_exact"] == "n/a" and "accumulator_bits" not in by_name["tiny-test-w4"]
    assert "events_changed_pct" not in by_name["tiny-test-w4 (QAT)"] and "events_changed_pct" in w8
    assert sum(r["system"] == "tiny-test-w4 (QAT)" for r in rows) == 2

    import common

    monkeypatch.setattr(sys, "argv", ["benchmarks/quantized.py", "--clips", "2"])
    markdown = common.publish("quantized", "t", "intro", common.markdown_table(summary, quantized.COLUMNS),
                              {"summary": summary}, out=tmp_path)
    assert "`python benchmarks/quantized.py --clips 2`" in markdown and "tiny-test-w8i8" in markdown
    assert json.loads((tmp_path / "quantized.json").read_text())["summary"][1]["system"] == "tiny-test-w8i8"
