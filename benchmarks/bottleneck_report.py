"""Aggregation of the bottleneck benchmark: per-clip rows -> per-seed means -> 95 % intervals over seeds,
paired comparisons with p-values, the markdown tables and the plot.

A row is one clip through one run: {"kind", "family", "rate_kbps" (None for the ceiling), "seed", "set",
"clip", and metrics (METRICS)}; a metric a system does not have (a quantizer's firing rate, the ceiling's
kbps) is absent or nan.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from snn_codec.eval.stats import confidence_interval, holm, paired_comparison

# name -> (column title, True if lower is better)
METRICS = {
    "kbps": ("kbps (bytes)", True),
    "log_mel_db": ("log-mel dB", True),
    "visqol": ("ViSQOL", False),
    "si_sdr_db": ("SI-SDR dB", False),
    "events_per_s": ("events/s", True),
    "firing_rate": ("firing rate", True),
    "bits_per_event": ("bits/event", True),
    "synops_per_s": ("SynOps/s", True),
    "activation_sparsity": ("act. sparsity", False),
    "footprint_kib": ("footprint KiB", True),
    "connection_sparsity": ("conn. sparsity", False),
}
QUALITY = ["kbps", "log_mel_db", "visqol"]
COST = ["events_per_s", "firing_rate", "bits_per_event", "synops_per_s", "activation_sparsity", "footprint_kib",
        "connection_sparsity"]


def _key(row: dict) -> tuple:
    return row["kind"], row["rate_kbps"], row["set"]


def _mean(values: list) -> float:
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return float(np.mean(finite)) if finite else math.nan


def seed_means(rows: list[dict], metrics=METRICS) -> list[dict]:
    """One row per (kind, rate, set, seed): each of `metrics`' mean over the clips."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[(*_key(row), row["seed"])].append(row)
    return [{"kind": kind, "family": members[0]["family"], "rate_kbps": rate, "set": name, "seed": seed,
             "clips": len(members), **{m: _mean([r.get(m) for r in members]) for m in metrics}}
            for (kind, rate, name, seed), members in groups.items()]


def summarize(rows: list[dict], level: float = 0.95, metrics=METRICS) -> list[dict]:
    """One row per (kind, rate, set): per metric the mean over seeds and its interval (`metric_low`, `_high`)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in seed_means(rows, metrics):
        groups[_key(row)].append(row)
    out = []
    for (kind, rate, name), members in groups.items():
        entry = {"kind": kind, "family": members[0]["family"], "rate_kbps": rate, "set": name, "seeds": len(members)}
        for metric in metrics:
            estimate = confidence_interval([m[metric] for m in members], level)
            entry.update({metric: estimate.mean, f"{metric}_low": estimate.low, f"{metric}_high": estimate.high})
        out.append(entry)
    sets = _set_order(rows)
    return sorted(out, key=lambda r: (sets[r["set"]], r["rate_kbps"] is None, r["rate_kbps"] or 0, r["family"],
                                      r["kind"]))


def _set_order(rows: list[dict]) -> dict[str, int]:
    """Sets in the order the rows first name them (the evaluation's: in-domain before the unseen timbre)."""
    return {name: i for i, name in enumerate(dict.fromkeys(row["set"] for row in rows))}


def _paired(rows: list[dict], a: str, b: str, rate, name: str, metric: str) -> dict:
    """a - b on `metric` at one rate and set: over seeds (seed means) and over clips (clip means over seeds)."""
    by_seed = {k: {r["seed"]: r[metric] for r in seed_means(rows) if _key(r) == (k, rate, name)} for k in (a, b)}
    seeds = sorted(set(by_seed[a]) & set(by_seed[b]))
    clips = {k: defaultdict(list) for k in (a, b)}
    for r in rows:
        if r["rate_kbps"] == rate and r["set"] == name and r["kind"] in clips and r.get(metric) is not None:
            clips[r["kind"]][r["clip"]].append(r[metric])
    shared = sorted(set(clips[a]) & set(clips[b]))
    seed_test = paired_comparison([by_seed[a][s] for s in seeds], [by_seed[b][s] for s in seeds])
    clip_test = paired_comparison([_mean(clips[a][c]) for c in shared], [_mean(clips[b][c]) for c in shared])
    d = seed_test.difference
    return {"set": name, "rate_kbps": rate, "a": a, "b": b, "metric": metric, "difference": d.mean,
            "difference_low": d.low, "difference_high": d.high, "p_seeds": seed_test.p_value,
            "p_sign_flip": seed_test.p_sign_flip, "seeds": seed_test.n, "difference_clips": clip_test.difference.mean,
            "p_clips": clip_test.p_value, "clips": clip_test.n}


def comparisons(rows: list[dict], metric: str = "log_mel_db", baseline: str = "threshold") -> list[dict]:
    """At each rate and set: `baseline` against every other spiking kind, and the best spiking kind against the
    best quantizer (best: the better mean over seeds). p-values adjusted by Holm over both tests of the whole
    list together (`p_seeds_holm`, `p_clips_holm`), as a difference counts as significant if either holds.
    A kind with fewer seeds than the most-seeded one (its runs not all done) is left out of every comparison,
    and of the choice of the best: one seed would pass for a retrained model's score."""
    summary = [s for s in summarize(rows) if s["rate_kbps"] is not None]
    full = max((s["seeds"] for s in summary), default=0)
    summary = [s for s in summary if s["seeds"] == full]
    lower = METRICS[metric][1]
    out = []
    sets = _set_order(rows)
    for name, rate in sorted({(s["set"], s["rate_kbps"]) for s in summary}, key=lambda key: (sets[key[0]], key[1])):
        here = [s for s in summary if (s["rate_kbps"], s["set"]) == (rate, name) and math.isfinite(s[metric])]
        spiking = [s["kind"] for s in here if s["family"] == "spiking"]
        if baseline in spiking:
            out += [_paired(rows, baseline, kind, rate, name, metric) | {"question": f"{baseline} vs neuron"}
                    for kind in spiking if kind != baseline]

        def best(family: str) -> str | None:
            members = sorted((s for s in here if s["family"] == family), key=lambda s: s[metric], reverse=not lower)
            return members[0]["kind"] if members else None

        if best("spiking") and best("quantizer"):
            out.append(_paired(rows, best("spiking"), best("quantizer"), rate, name, metric)
                       | {"question": "best spiking vs best quantizer"})
    # one Holm family for both tests of every comparison: "significant" asks for either test to pass
    columns = ("p_seeds", "p_clips")
    adjusted = iter(holm([c[column] for column in columns for c in out]))
    for column in columns:
        for entry in out:
            entry[f"{column}_holm"] = next(adjusted)
    return out


def _number(value: float, digits: int) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.{digits}g}"


def interval_cell(row: dict, metric: str) -> str:
    """`mean ± half-width` of the 95 % interval (3 and 2 significant digits), `–` where there is none."""
    mean, low, high = row.get(metric, math.nan), row.get(f"{metric}_low", math.nan), row.get(f"{metric}_high", math.nan)
    if not math.isfinite(mean):
        return "–"
    return _number(mean, 3) + (f" ± {_number((high - low) / 2, 2)}" if math.isfinite(low) else "")


def rate_table(summary: list[dict], metric: str = "log_mel_db") -> list[str]:
    """`metric` at a glance: one row per kind, one column per set and target rate (markdown lines)."""
    sets = list(dict.fromkeys(s["set"] for s in summary))
    rates = sorted({s["rate_kbps"] for s in summary if s["rate_kbps"] is not None})
    index = {(s["kind"], s["rate_kbps"], s["set"]): s for s in summary}
    header = ["bottleneck"] + [f"{rate:g} kbps, {name}" for name in sets for rate in rates]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    family = {s["kind"]: s["family"] for s in summary}
    ceilings = {s["kind"] for s in summary if s["rate_kbps"] is None}
    for kind in sorted(family, key=lambda k: (k in ceilings, family[k], k)):
        if kind in ceilings:  # the ceiling: one value per set, in every rate's column
            cells = [interval_cell(index.get((kind, None, name), {}), metric) for name in sets for _ in rates]
            lines.append("| " + " | ".join([f"{kind} (no rate)", *cells]) + " |")
        else:
            cells = [interval_cell(index.get((kind, rate, name), {}), metric) for name in sets for rate in rates]
            lines.append("| " + " | ".join([kind, *cells]) + " |")
    return lines


def markdown_tables(summary: list[dict], comparisons_: list[dict], impossible: list[tuple[str, float]]) -> str:
    """The rate table, the quality table (every set), the cost table (first set) and the comparisons."""
    sets = list(dict.fromkeys(s["set"] for s in summary))
    lines = [f"## {METRICS['log_mel_db'][0]} by target rate (mean ± 95 % CI half-width over seeds)", ""]
    lines += rate_table(summary) + ["", "## Quality (mean ± 95 % CI half-width over seeds)", ""]
    header = ["bottleneck", "family", "target kbps", "seeds"] + [f"{METRICS[m][0]}, {n}" for n in sets for m in QUALITY]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    keys = list(dict.fromkeys((s["kind"], s["rate_kbps"]) for s in summary))
    index = {(s["kind"], s["rate_kbps"], s["set"]): s for s in summary}
    for kind, rate in keys:
        first = next(index[(kind, rate, n)] for n in sets if (kind, rate, n) in index)
        cells = [kind, first["family"], "ceiling" if rate is None else f"{rate:g}", str(first["seeds"])]
        cells += [interval_cell(index.get((kind, rate, n), {}), m) for n in sets for m in QUALITY]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"## Events and cost ({sets[0]})", ""]
    header = ["bottleneck", "target kbps"] + [METRICS[m][0] for m in COST]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for kind, rate in keys:
        row = index.get((kind, rate, sets[0]), {})
        lines.append("| " + " | ".join([kind, "ceiling" if rate is None else f"{rate:g}"]
                                        + [interval_cell(row, m) for m in COST]) + " |")
    if impossible:
        lines += ["", "Not run (a single codebook cannot hold that many codes, or the kind sets its own rate): "
                  + ", ".join(f"{k} at {r:g} kbps" for k, r in impossible)]
    lines += ["", "## Paired comparisons (a − b; log-mel dB: negative means a is better)", "",
              "p (seeds): paired t-test over seeds; p (clips): over clips, each averaged over seeds. Holm: both "
              "tests of every row adjusted together, as one family. Significant: either Holm-adjusted p < 0.05.", ""]
    header = ["set", "kbps", "question", "a", "b", "a − b (95 % CI)", "p (seeds)", "Holm", "p (clips)", "Holm",
              "significant"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for c in comparisons_:
        interval = (f"{c['difference']:.2f} ({c['difference_low']:.2f}, {c['difference_high']:.2f})"
                    if math.isfinite(c["difference_low"]) else f"{c['difference']:.2f}")
        significant = "yes" if c["p_seeds_holm"] < 0.05 or c["p_clips_holm"] < 0.05 else "no"
        lines.append("| " + " | ".join([c["set"], f"{c['rate_kbps']:g}", c["question"], c["a"], c["b"], interval,
                                        *(f"{c[k]:.3g}" for k in ("p_seeds", "p_seeds_holm", "p_clips",
                                                                  "p_clips_holm")), significant]) + " |")
    return "\n".join(lines)


def plot(summary: list[dict], path: Path) -> Path:
    """Log-mel distance against kbps from the bytes, one panel per set; error bars: 95 % intervals."""
    from snn_codec.eval.plots import pyplot, save_png

    plt = pyplot()
    sets = list(dict.fromkeys(s["set"] for s in summary))
    palette = plt.get_cmap("tab20")  # one colour per kind, the same in every panel (more kinds than tab10 has)
    colours = {kind: palette(i % 20) for i, kind in enumerate(dict.fromkeys(s["kind"] for s in summary))}
    fig, axes = plt.subplots(1, len(sets), figsize=(6.5 * len(sets), 4.8), constrained_layout=True, squeeze=False)
    for ax, name in zip(axes[0], sets):
        rows = [s for s in summary if s["set"] == name]
        for kind in dict.fromkeys(s["kind"] for s in rows):
            points = sorted((s for s in rows if s["kind"] == kind and s["rate_kbps"] is not None),
                            key=lambda s: s["rate_kbps"])
            if points:
                x, y = [p["kbps"] for p in points], [p["log_mel_db"] for p in points]
                err = [[p["log_mel_db"] - p["log_mel_db_low"] for p in points],
                       [p["log_mel_db_high"] - p["log_mel_db"] for p in points]]
                style = "o-" if points[0]["family"] == "spiking" else "s--"
                ax.errorbar(x, y, yerr=np.nan_to_num(np.array(err)), fmt=style, capsize=3, label=kind, ms=4,
                            color=colours[kind])
        for ceiling in (s for s in rows if s["rate_kbps"] is None):
            low, high = ceiling["log_mel_db_low"], ceiling["log_mel_db_high"]
            if math.isfinite(low):
                ax.axhspan(low, high, color="grey", alpha=0.3)
            ax.axhline(ceiling["log_mel_db"], color="grey", lw=1, label=f"{ceiling['kind']} (ceiling)")
        ax.set_xlabel("bitrate (kbps, from the bytes)")
        ax.set_ylabel("log-mel distance (dB, lower is better)")
        ax.set_title(name)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7, ncol=2)
    save_png(fig, path)
    return path
