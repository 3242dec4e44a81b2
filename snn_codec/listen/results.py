"""Aggregating a MUSHRA test: post-screening of listeners, mean scores with 95 % confidence intervals,
a plot and a markdown summary.

Post-screening follows ITU-R BS.1534-3: a listener is excluded who rates the hidden reference below 90
in more than 15 % of their trials, or the mid-range anchor (7 kHz low-pass) above 90 in more than 15 %.
Only submitted trials count. Confidence intervals use Student's t with n - 1 degrees of freedom over
every (listener, clip) score of the listeners kept.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from snn_codec.audio import atomic_output
from snn_codec.errors import CodecError, FormatError
from snn_codec.eval.plots import pyplot, save_png
from snn_codec.listen.design import MID_ANCHOR, RESULTS_DIR, TEST_FILE, ListeningTest, load_test
from snn_codec.listen.systems import HIDDEN_REFERENCE

REFERENCE_MIN_SCORE = 90
MID_ANCHOR_MAX_SCORE = 90
MAX_FAILED_FRACTION = 0.15


@dataclass(frozen=True)
class Listener:
    """A listener's submitted trials: clip name -> {condition: score}."""

    name: str
    trials: dict[str, dict[str, int]]


@dataclass(frozen=True)
class Screening:
    """Why a listener is kept or excluded."""

    listener: str
    trials: int
    reference_below: int  # trials with the hidden reference under 90
    anchor_above: int  # trials with the mid-range anchor over 90

    @property
    def reasons(self) -> list[str]:
        limit = MAX_FAILED_FRACTION * self.trials
        reasons = []
        if self.reference_below > limit:
            reasons.append(f"hidden reference < {REFERENCE_MIN_SCORE} in {self.reference_below}/{self.trials} trials")
        if self.anchor_above > limit:
            reasons.append(f"mid anchor > {MID_ANCHOR_MAX_SCORE} in {self.anchor_above}/{self.trials} trials")
        return reasons

    @property
    def is_kept(self) -> bool:
        return self.trials > 0 and not self.reasons


@dataclass(frozen=True)
class Score:
    """Mean score of a condition with the half-width of its 95 % confidence interval (nan when n < 2)."""

    condition: str
    n: int
    mean: float
    ci95: float
    bitrate_kbps: float | None = None


@dataclass(frozen=True)
class Summary:
    screenings: list[Screening]
    scores: list[Score]  # per condition, pooled over clips
    per_clip: dict[str, list[Score]]


def read_listeners(results_dir: str | os.PathLike) -> list[Listener]:
    """Every listener file in `results_dir`, keeping submitted trials only."""
    listeners = []
    for path in sorted(Path(results_dir).glob("*.json")):
        try:
            record = json.loads(path.read_text())
            submitted = [t for t in record["trials"] if t["submitted"]]
            trials = {t["clip"]: {name: int(score) for name, score in t["scores"].items()} for t in submitted}
            listeners.append(Listener(str(record["listener"]), trials))
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise FormatError(f"{path}: not a listener results file ({err})") from None
    if not listeners:
        raise CodecError(f"{results_dir}: no listener results (*.json) yet")
    return listeners


def screen(listener: Listener) -> Screening:
    """Counts the trials that fail the BS.1534-3 post-screening rules."""
    trials = [t for t in listener.trials.values() if HIDDEN_REFERENCE in t]
    below = sum(t[HIDDEN_REFERENCE] < REFERENCE_MIN_SCORE for t in trials)
    above = sum(t.get(MID_ANCHOR, 0) > MID_ANCHOR_MAX_SCORE for t in trials)
    return Screening(listener.name, len(trials), below, above)


def mean_ci95(scores: list[float]) -> tuple[float, float]:
    """Mean and half-width of the two-sided 95 % Student-t confidence interval (nan when n < 2)."""
    values = np.asarray(scores, dtype=float)
    if values.size == 0:
        return math.nan, math.nan
    if values.size < 2:
        return float(values.mean()), math.nan
    half = stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size)
    return float(values.mean()), float(half)


def _scores(trials: list[dict[str, int]], bitrates: dict[str, float]) -> list[Score]:
    conditions = sorted({name for t in trials for name in t})
    out = []
    for name in conditions:
        mean, half = mean_ci95([t[name] for t in trials if name in t])
        out.append(Score(name, sum(name in t for t in trials), mean, half, bitrates.get(name)))
    return sorted(out, key=lambda s: -s.mean)


def _mean_bitrates(test: ListeningTest | None) -> dict[str, float]:
    if test is None:
        return {}
    per_condition: dict[str, list[float]] = {}
    for clip in test.clips:
        for name, kbps in clip.bitrate_kbps.items():
            per_condition.setdefault(name, []).append(kbps)
    return {name: float(np.mean(values)) for name, values in per_condition.items()}


def summarize(listeners: list[Listener], test: ListeningTest | None = None) -> Summary:
    """Screens the listeners and pools the scores of those kept, overall and per clip."""
    screenings = [screen(listener) for listener in listeners]
    kept = [listener for listener, s in zip(listeners, screenings) if s.is_kept]
    bitrates = _mean_bitrates(test)
    pooled = [scores for listener in kept for scores in listener.trials.values()]
    clips = sorted({clip for listener in kept for clip in listener.trials})
    per_clip = {}
    for clip in clips:
        clip_bitrates = test.clip(clip).bitrate_kbps if test and clip in {c.name for c in test.clips} else {}
        per_clip[clip] = _scores([k.trials[clip] for k in kept if clip in k.trials], clip_bitrates)
    return Summary(screenings, _scores(pooled, bitrates), per_clip)


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _score_table(scores: list[Score]) -> list[str]:
    lines = ["| condition | kbps | n | mean | 95% CI |", "|---|---|---|---|---|"]
    for s in scores:
        ci = "-" if math.isnan(s.ci95) else f"{s.mean - s.ci95:.1f} to {s.mean + s.ci95:.1f}"
        lines.append(f"| {s.condition} | {_fmt(s.bitrate_kbps, 2)} | {s.n} | {_fmt(s.mean)} | {ci} |")
    return lines


def to_markdown(summary: Summary) -> str:
    """The summary as markdown: listeners and screening, scores per condition, per bitrate and per clip."""
    kept = [s for s in summary.screenings if s.is_kept]
    lines = ["# MUSHRA results", "",
             f"{len(kept)} of {len(summary.screenings)} listeners kept after post-screening (ITU-R BS.1534-3).", "",
             "| listener | trials | reference < 90 | mid anchor > 90 | kept |", "|---|---|---|---|---|"]
    for s in summary.screenings:
        verdict = "yes" if s.is_kept else "no: " + ("; ".join(s.reasons) or "no submitted trials")
        lines.append(f"| {s.listener} | {s.trials} | {s.reference_below} | {s.anchor_above} | {verdict} |")
    lines += ["", "## Scores per condition", "", *_score_table(summary.scores)]
    rated = sorted((s for s in summary.scores if s.bitrate_kbps is not None), key=lambda s: s.bitrate_kbps)
    if rated:
        lines += ["", "## Scores by bitrate", "", *_score_table(rated)]
    for clip, scores in summary.per_clip.items():
        lines += ["", f"## Clip {clip}", "", *_score_table(scores)]
    return "\n".join(lines) + "\n"


def plot_summary(summary: Summary, path: str | os.PathLike) -> Path:
    """A PNG: mean and 95 % CI per condition, and score against bitrate for conditions with a bitrate."""
    plt = pyplot()

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    scores = summary.scores
    errors = [0 if math.isnan(s.ci95) else s.ci95 for s in scores]
    left.errorbar(range(len(scores)), [s.mean for s in scores], yerr=errors, fmt="o", capsize=4)
    left.set_xticks(range(len(scores)), [s.condition for s in scores], rotation=30, ha="right")
    rated = [s for s in scores if s.bitrate_kbps is not None]
    for s in rated:
        right.errorbar(s.bitrate_kbps, s.mean, yerr=0 if math.isnan(s.ci95) else s.ci95, fmt="o", capsize=4)
        right.annotate(s.condition, (s.bitrate_kbps, s.mean), textcoords="offset points", xytext=(6, 4))
    right.set_xlabel("bitrate (kbps)")
    if not rated:
        right.text(0.5, 0.5, "no condition with a known bitrate", ha="center", transform=right.transAxes)
    for ax in (left, right):
        ax.set_ylim(0, 100)
        ax.set_yticks([0, 20, 40, 60, 80, 100])
        ax.set_ylabel("MUSHRA score (mean, 95% CI)")
        ax.grid(axis="y", alpha=0.3)
    return save_png(fig, path)


def locate(folder: str | os.PathLike) -> tuple[Path, ListeningTest | None]:
    """A test folder or its results folder -> (results folder, the test if its description is there)."""
    folder = Path(folder)
    if (folder / TEST_FILE).is_file():
        return folder / RESULTS_DIR, load_test(folder)
    if (folder.parent / TEST_FILE).is_file():
        return folder, load_test(folder.parent)
    if not folder.is_dir():
        raise CodecError(f"{folder}: no such folder")
    return folder, None


def write_results(folder: str | os.PathLike, out_dir: str | os.PathLike | None = None) -> tuple[Summary, Path]:
    """Aggregates the ratings of a test (its folder or its results folder) into summary.md and scores.png.

    Returns:
        The summary and the markdown file written (in `out_dir`, default: the test folder).
    """
    results_dir, test = locate(folder)
    summary = summarize(read_listeners(results_dir), test)
    out = Path(out_dir) if out_dir else (test.folder if test else results_dir)
    out.mkdir(parents=True, exist_ok=True)
    if summary.scores:
        plot_summary(summary, out / "scores.png")
    markdown = to_markdown(summary)
    if summary.scores:
        markdown += "\n![scores](scores.png)\n"
    with atomic_output(out / "summary.md") as tmp:
        Path(tmp).write_text(markdown)
    return summary, out / "summary.md"
