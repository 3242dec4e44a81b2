"""Tables and figures of the codec comparison (`benchmarks/run.py`), written from its result rows.

A quality row is one system on one clip: system, kind, clip, domain, kbps, si_sdr_db, log_mel_db, mrstft,
visqol (optional), events_per_s and firing_rate (spiking models). A speed row is one system: system, kind,
sample_rate, kbps, encode/decode/round_trip_x_realtime, and for the neural peers parameters and
quoted_quality.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np

from snn_codec.audio import atomic_output
from snn_codec.eval.plots import pyplot, save_png

sys.path.insert(0, str(Path(__file__).parent))
from common import machine  # noqa: E402

METRICS = {"kbps": "kbps", "log_mel_db": "log-mel distance (dB)", "visqol": "ViSQOL",
           "si_sdr_db": "SI-SDR (dB)", "mrstft": "MR-STFT distance", "events_per_s": "events/s",
           "firing_rate": "firing rate"}
PLOTTED = ("visqol", "log_mel_db", "si_sdr_db")  # rate-distortion panels, one row each
BITRATE_NOTE = (
    "Bitrate is the size of each system's own file x 8 / duration: the .snnc file (header included) for "
    "snn_codec, the Ogg Opus file, the .mp3 file, codec2's frame file. The neural peers store no file: "
    "their rate is nominal (codebooks x 10 bits x frames per second). Metrics are those of "
    "snn_codec.eval.metrics, computed at each clip's own rate after decoding, resampling back and "
    "removing the classical codecs' fixed delay (found by cross-correlation); ViSQOL (v3 audio mode, "
    "48 kHz) on the first seconds of each clip (`--visqol-seconds`, default 5). SI-SDR measures waveform "
    "match: decoders that synthesise their own phase (snn_codec, codec2) score far below zero even when "
    "they sound close; log-mel distance and ViSQOL are the perceptually meaningful scores."
)
SPEED_NOTE = (
    "Audio seconds per wall-clock second, best of 3 (2 for the peers, on at most the first 5 s). snn_codec "
    "and the peers run with the torch thread count of the command (default one); the classical codecs are "
    "single-threaded programs, timed as whole processes (start-up and file I/O included)."
)
RATE_TICKS = (0.5, 1, 2, 4, 8, 16, 32)
KIND_COLOURS = {"spiking": "tab:red", "vq": "tab:purple", "classical": "tab:blue"}


def domain_means(rows: list[dict]) -> list[dict]:
    """Mean of every metric per (system, domain), in the order systems and domains first appear."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["system"], row["domain"]), []).append(row)
    means = []
    for (system, domain), members in groups.items():
        mean = {"system": system, "kind": members[0]["kind"], "domain": domain, "clips": len(members)}
        for key in METRICS:
            values = [m[key] for m in members if m.get(key) is not None]
            if values:
                mean[key] = float(np.mean(values))
        means.append(mean)
    return means


def markdown_table(rows: list[dict], columns: list[str], headers: dict[str, str] | None = None) -> str:
    """A markdown table; floats get 3 significant digits (no decimals from 100 up), missing cells are blank."""
    headers = headers or {}

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}" if abs(value) < 100 else f"{value:.0f}"
        return "" if value is None else str(value)

    lines = ["| " + " | ".join(headers.get(c, c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def quality_tables(means: list[dict]) -> str:
    """One table per domain, systems sorted by actual bitrate."""
    columns = ["system", "kbps", "log_mel_db", "visqol", "si_sdr_db", "events_per_s", "firing_rate"]
    if not any("visqol" in m for m in means):
        columns.remove("visqol")
    if not any("firing_rate" in m for m in means):
        columns = columns[: -2]
    parts = []
    for domain in dict.fromkeys(m["domain"] for m in means):
        rows = sorted((m for m in means if m["domain"] == domain), key=lambda m: m.get("kbps", 0.0))
        parts.append(f"**{domain}** ({rows[0]['clips']} clip{'s' if rows[0]['clips'] > 1 else ''}, mean)\n\n"
                     + markdown_table(rows, columns, METRICS))
    return "\n\n".join(parts)


def speed_table(speed: list[dict]) -> str:
    columns = ["system", "sample_rate", "kbps", "encode_x_realtime", "decode_x_realtime", "round_trip_x_realtime"]
    headers = {"sample_rate": "rate (Hz)", "encode_x_realtime": "encode (x real time)",
               "decode_x_realtime": "decode (x real time)", "round_trip_x_realtime": "encode + decode"}
    return markdown_table(sorted(speed, key=lambda s: -s["round_trip_x_realtime"]), columns, headers)


def pivot_table(means: list[dict], metric: str) -> str:
    """`metric` per system (rows) and domain (columns), plus the mean actual kbps over all clips."""
    domains = list(dict.fromkeys(m["domain"] for m in means))
    rows = {}
    for m in means:
        row = rows.setdefault(m["system"], {"system": m["system"], "_kbps": []})
        row[m["domain"]] = m.get(metric)
        row["_kbps"].append(m["kbps"])
    table = [r | {"kbps": float(np.mean(r["_kbps"]))} for r in rows.values()]
    return markdown_table(sorted(table, key=lambda r: r["kbps"]), ["system", "kbps", *domains])


def write_outputs(out: Path, command: str, clips: list, rows: list[dict], speed: list[dict],
                  unavailable: dict[str, str], elapsed_s: float) -> list[Path]:
    """Writes comparison.{json,csv,md}, the figures and summary.md into `out`. Returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    means = domain_means(rows)
    clip_rows = [{"clip": c.name, "domain": c.domain, "sample_rate": c.sample_rate, "seconds": c.duration_s,
                  "source": c.source} for c in clips]
    payload = {"command": command, "machine": machine(), "elapsed_s": elapsed_s, "clips": clip_rows,
               "quality": rows, "domain_means": means, "speed": speed, "unavailable": unavailable}
    paths = [write_json(out / "comparison.json", payload), write_csv(out / "comparison.csv", rows),
             plot_rate_distortion(out / "comparison_rate_distortion.png", means),
             plot_speed(out / "comparison_speed.png", speed)]
    events = plot_events(out / "comparison_events.png", means)
    paths += [events] if events else []
    notes = [f"- {p['system']}: {p['quoted_quality']}." for p in speed if "quoted_quality" in p]
    notes += [f"- {name}: not measured: {reason}" for name, reason in unavailable.items()]
    document = "\n\n".join([
        f"# Codec comparison\n\n`{command}` ({elapsed_s / 60:.0f} min on {machine()['cpu']}, torch "
        f"{machine()['torch']}).",
        BITRATE_NOTE,
        "## Quality per domain\n\n" + quality_tables(means),
        "## Speed (first clip)\n\n" + SPEED_NOTE + "\n\n" + speed_table(speed),
        "Neural peers (random weights: speed only):\n\n" + "\n".join(notes) if notes else "",
        "## Evaluation set\n\n" + markdown_table(clip_rows, ["clip", "domain", "sample_rate", "seconds", "source"]),
    ]) + "\n"
    paths.append(_write_text(out / "comparison.md", document))
    summary = "\n\n".join([
        f"Measured with `{command}`; full tables, figures and the evaluation set in `benchmarks/results/`.",
        "**Piano, unseen timbre** (MuseScore General soundfont, mean of the clips):\n\n"
        + quality_tables([m for m in means if m["domain"] == "piano"]).split("\n\n", 1)[-1]
        if any(m["domain"] == "piano" for m in means) else "",
        "**Log-mel distance (dB) per domain** (lower is better):\n\n" + pivot_table(means, "log_mel_db"),
        "**Speed** (x real time, one CPU thread):\n\n" + speed_table(speed),
    ]) + "\n"
    paths.append(_write_text(out / "summary.md", summary))
    return paths


def _write_text(path: Path, text: str) -> Path:
    with atomic_output(path) as tmp:
        Path(tmp).write_text(text)
    return path


def write_csv(path: Path, rows: list[dict]) -> Path:
    """All rows in one csv; the columns are the union of the rows' keys, in first-seen order."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with atomic_output(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_json(path: Path, payload: dict) -> Path:
    with atomic_output(path) as tmp:
        Path(tmp).write_text(json.dumps(payload, indent=2) + "\n")
    return path


def plot_rate_distortion(path: Path, means: list[dict]) -> Path:
    """Metric against actual kbps, one column per domain; settings of one codec family are joined by a line."""
    plt = pyplot()
    metrics = [m for m in PLOTTED if any(m in row for row in means)]
    domains = list(dict.fromkeys(m["domain"] for m in means))
    fig, axes = plt.subplots(len(metrics), len(domains), figsize=(4 * len(domains), 3.2 * len(metrics)),
                             squeeze=False, constrained_layout=True)
    for col, domain in enumerate(domains):
        rows = [m for m in means if m["domain"] == domain]
        for row_index, metric in enumerate(metrics):
            ax = axes[row_index][col]
            for family, members in _families(rows).items():
                points = sorted((m["kbps"], m[metric]) for m in members if metric in m)
                if points:
                    colour = KIND_COLOURS.get(members[0]["kind"], "tab:gray")
                    ax.plot(*zip(*points), marker="o", color=colour, label=family)
                    ax.annotate(family, points[-1], fontsize=7, xytext=(3, 3), textcoords="offset points")
            ax.set_xscale("log")
            ax.set_xticks(RATE_TICKS, [f"{t:g}" for t in RATE_TICKS], minor=False)
            ax.set_xticks([], minor=True)
            ax.set_xlabel("actual bitrate (kbps)")
            ax.set_ylabel(METRICS[metric])
            ax.grid(alpha=0.3)
            if row_index == 0:
                ax.set_title(domain)
    fig.suptitle("  ".join(f"{kind}: {colour[4:]}" for kind, colour in KIND_COLOURS.items()), fontsize=9)
    return save_png(fig, path, dpi=110)


def plot_speed(path: Path, speed: list[dict]) -> Path:
    """Encode and decode real-time factors per system (log scale)."""
    plt = pyplot()
    rows = sorted(speed, key=lambda s: s["round_trip_x_realtime"])
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(rows) + 1.2), constrained_layout=True)
    y = np.arange(len(rows))
    ax.barh(y - 0.2, [r["encode_x_realtime"] for r in rows], height=0.4, label="encode")
    ax.barh(y + 0.2, [r["decode_x_realtime"] for r in rows], height=0.4, label="decode")
    ax.set_yticks(y, [r["system"] for r in rows])
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", lw=0.8)
    ax.set_xlabel("x real time, one CPU thread (higher is faster)")
    ax.legend()
    return save_png(fig, path, dpi=110)


def plot_events(path: Path, means: list[dict]) -> Path | None:
    """Events per second and firing rate of the spiking models, per domain; None when there are none."""
    rows = [m for m in means if "firing_rate" in m]
    if not rows:
        return None
    plt = pyplot()
    systems, domains = list(dict.fromkeys(r["system"] for r in rows)), list(dict.fromkeys(r["domain"] for r in rows))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), constrained_layout=True)
    width = 0.8 / len(systems)
    for i, system in enumerate(systems):
        by_domain = {r["domain"]: r for r in rows if r["system"] == system}
        x = np.arange(len(domains)) + i * width
        for ax, key in zip(axes, ("events_per_s", "firing_rate")):
            ax.bar(x, [by_domain.get(d, {}).get(key, np.nan) for d in domains], width=width, label=system)
    for ax, key in zip(axes, ("events_per_s", "firing_rate")):
        ax.set_xticks(np.arange(len(domains)) + 0.4 - width / 2, domains)
        ax.set_ylabel(METRICS[key])
    axes[0].legend(fontsize=8)
    return save_png(fig, path, dpi=110)


def _families(rows: list[dict]) -> dict[str, list[dict]]:
    """Groups systems into curves: "opus-6"/"opus-8" -> "opus"; a neural model is its own curve."""
    families: dict[str, list[dict]] = {}
    for row in rows:
        name = row["system"].rsplit("-", 1)[0] if row["kind"] == "classical" else row["system"]
        families.setdefault(name, []).append(row)
    return families
