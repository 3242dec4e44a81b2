"""Aggregation on hand-made ratings: post-screening, means and t-distribution confidence intervals."""

from __future__ import annotations

import json
import math

import pytest

from snn_codec.cli import main
from snn_codec.listen.results import Listener, mean_ci95, screen, summarize, write_results


def trials(reference: list[int], anchor: list[int], system: list[int]) -> dict[str, dict[str, int]]:
    return {f"clip{i}": {"reference": r, "anchor-7kHz": a, "codec": s}
            for i, (r, a, s) in enumerate(zip(reference, anchor, system))}


def test_mean_and_95_percent_interval_use_students_t():
    mean, half = mean_ci95([50, 60, 70])
    assert mean == 60
    assert half == pytest.approx(4.302653 * 10 / math.sqrt(3), rel=1e-6)  # t(0.975, 2) x s / sqrt(n)
    assert mean_ci95([42])[0] == 42 and math.isnan(mean_ci95([42])[1])
    assert all(math.isnan(v) for v in mean_ci95([]))


def test_listeners_failing_the_hidden_reference_in_over_15_percent_are_excluded():
    ten = [100] * 10
    kept = screen(Listener("kept", trials([80] + [100] * 9, [50] * 10, ten)))  # 1 of 10 = 10 %
    assert kept.is_kept and kept.reference_below == 1
    dropped = screen(Listener("dropped", trials([80, 85] + [100] * 8, [50] * 10, ten)))  # 2 of 10 = 20 %
    assert not dropped.is_kept and "hidden reference < 90 in 2/10" in dropped.reasons[0]
    anchor = screen(Listener("anchor", trials(ten, [95, 95] + [50] * 8, ten)))
    assert not anchor.is_kept and "mid anchor > 90 in 2/10" in anchor.reasons[0]
    assert not screen(Listener("idle", {})).is_kept


def test_summary_pools_the_listeners_kept():
    listeners = [
        Listener("a", trials([100, 100], [40, 50], [60, 70])),
        Listener("b", trials([100, 95], [30, 40], [80, 90])),
        Listener("bad", trials([10, 20], [100, 100], [0, 0])),
    ]
    summary = summarize(listeners)
    assert [s.listener for s in summary.screenings if s.is_kept] == ["a", "b"]
    codec = next(s for s in summary.scores if s.condition == "codec")
    assert codec.n == 4 and codec.mean == 75
    assert codec.ci95 == pytest.approx(mean_ci95([60, 70, 80, 90])[1])
    assert summary.scores[0].condition == "reference"  # sorted best first
    assert [s.mean for s in summary.per_clip["clip0"] if s.condition == "codec"] == [70]


def write_listener(folder, name, clip_scores, submitted=True):
    record = {"format": "snn_codec-mushra-ratings", "listener": name, "trials": [
        {"clip": clip, "order": sorted(scores), "scores": scores, "submitted": submitted}
        for clip, scores in clip_scores.items()]}
    (folder / f"{name}.json").write_text(json.dumps(record))


def test_results_command_writes_summary_and_plot(small_test, capsys):
    for name, offset in (("ana", 0), ("ben", 10)):
        write_listener(small_test.results_dir, name, {
            clip.name: {"reference": 100, "anchor-3.5kHz": 10 + offset, "anchor-7kHz": 30 + offset,
                        "tiny-test": 20 + offset, "classic": 60 + offset} for clip in small_test.clips})
    write_listener(small_test.results_dir, "cy", {"clip0": {"reference": 50}}, submitted=False)
    assert main(["listen", "--results", str(small_test.results_dir)]) == 0
    out = capsys.readouterr().out
    assert "2 of 3 listeners kept" in out and "| classic | 6.00 | 4 | 65.0 |" in out
    assert "## Scores by bitrate" in out and "## Clip clip1" in out
    assert (small_test.folder / "summary.md").read_text().startswith("# MUSHRA results")
    assert (small_test.folder / "scores.png").read_bytes()[:4] == b"\x89PNG"
    summary, path = write_results(small_test.folder, small_test.folder / "elsewhere")
    assert path.is_file() and (path.parent / "scores.png").is_file()
    tiny = next(s for s in summary.scores if s.condition == "tiny-test")
    assert tiny.bitrate_kbps == pytest.approx(sum(c.bitrate_kbps["tiny-test"] for c in small_test.clips) / 2)


def test_results_errors_are_one_line(tmp_path, capsys):
    assert main(["listen", "--results", str(tmp_path)]) == 1
    assert "no listener results" in capsys.readouterr().err
    (tmp_path / "junk.json").write_text("{")
    assert main(["listen", "--results", str(tmp_path)]) == 1
    assert "not a listener results file" in capsys.readouterr().err
    assert main(["listen", "--results", str(tmp_path / "missing")]) == 1
    assert "no such folder" in capsys.readouterr().err
