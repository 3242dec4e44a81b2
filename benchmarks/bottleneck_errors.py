"""Where each bottleneck's error lies: the diagnostics of snn_codec.eval.diagnostics (error per band, noise
filled into near-silent cells, weak loud cells, noise between partials) for every trained run of the
bottleneck benchmark at one rate, in-domain and on the unseen timbre, mean ± 95 % interval over seeds.

    python benchmarks/bottleneck_errors.py [--rate 1.5] [--runs runs/bottlenecks] [--records DIR]

It reads the trained models of `python benchmarks/bottlenecks.py` (the runs folder) and each run's record
(its kind, seed and clips), so the clips are the ones of the benchmark's table. Besides the module's
diagnostics it reports the share of mel cells whose reference is near silent (below -60 dB) and those
cells' share of the log-mel distance: how much of the error is noise where the music is quiet, and draws
the spectrograms of one unseen clip through a few kinds. About 4 s a run on one core (the 33 runs of one
rate in 2-3 minutes). Writes benchmarks/results/bottleneck_errors.{md,json,png} and
bottleneck_errors_spectrograms.png.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).parent))
from bottleneck_report import interval_cell, summarize  # noqa: E402
from bottlenecks import RECORDS, decoded_and_events, load_clip  # noqa: E402
from common import RESULTS, publish  # noqa: E402

from snn_codec.eval.diagnostics import mel_band_centres_hz, spectral_diagnostics  # noqa: E402
from snn_codec.eval.metrics import log_mel_db, log_mel_distance  # noqa: E402
from snn_codec.eval.plots import pyplot, save_png  # noqa: E402
from snn_codec.model_io import load_model  # noqa: E402

DIAGNOSTICS = {  # row key -> column title
    "log_mel_db": "log-mel dB",
    "log_mel_low_db": "bands < 500 Hz",
    "log_mel_mid_db": "500-2000 Hz",
    "log_mel_high_db": "> 2 kHz",
    "quiet_share": "quiet cells %",
    "quiet_error_share": "quiet cells' share of the error %",
    "quiet_excess_db": "quiet excess dB",
    "loud_deficit_db": "loud deficit dB",
    "partial_contrast_loss_db": "partial contrast loss dB",
}


def clip_rows(record: dict, model: Path) -> list[dict]:
    """One row per clip of the record's sets: the diagnostics of the run's model on it."""
    codec = load_model(model)
    run = {key: record["rows"][0][key] for key in ("kind", "family", "rate_kbps", "seed")}
    rows = []
    for name, paths in record["settings"]["sets"].items():
        for path in paths:
            clip, rate = load_clip(path, record["settings"]["seconds"])
            decoded, _ = decoded_and_events(codec, clip, rate)
            rows.append(run | {"set": name, "clip": Path(path).name,
                               "log_mel_db": log_mel_distance(clip, decoded, rate),
                               **spectral_diagnostics(clip, decoded, rate)})
    return rows


def runs_at(records: Path, runs: Path, rate: float) -> tuple[list[tuple[dict, Path]], list[str]]:
    """(record, model path) of every recorded run at `rate` and of the ceiling, and the names of the recorded
    runs whose model is not in the runs folder."""
    found, absent = [], []
    for path in sorted(records.glob("*.json")):
        record = json.loads(path.read_text())
        if not record.get("rows") or record["rows"][0]["rate_kbps"] not in (rate, None):
            continue
        model = runs / record["run"] / "model.safetensors"
        if model.is_file():
            found.append((record, model))
        else:
            absent.append(record["run"])
    return found, absent


def markdown(summary: list[dict]) -> str:
    lines = []
    for name in dict.fromkeys(s["set"] for s in summary):
        header = ["bottleneck", "family", "seeds", *DIAGNOSTICS.values()]
        lines += [f"## {name}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for s in (s for s in summary if s["set"] == name):
            cells = [s["kind"], s["family"], str(s["seeds"]), *(interval_cell(s, m) for m in DIAGNOSTICS)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def plot(summary: list[dict], path: Path) -> Path:
    """Left: log-mel distance per kind and set, split into the near-silent cells' part and the rest.
    Right: noise filled into near-silent cells (quiet excess) per kind and set, with 95 % intervals."""
    plt = pyplot()
    sets = list(dict.fromkeys(s["set"] for s in summary))
    kinds = list(dict.fromkeys(s["kind"] for s in summary))
    index = {(s["kind"], s["set"]): s for s in summary}
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8), constrained_layout=True)
    width = 0.8 / len(sets)
    for i, name in enumerate(sets):
        entries = [index.get((kind, name)) for kind in kinds]
        x = np.arange(len(kinds)) + (i - (len(sets) - 1) / 2) * width
        total = np.array([e["log_mel_db"] if e else np.nan for e in entries])
        quiet = total * np.array([e["quiet_error_share"] / 100 if e else np.nan for e in entries])
        left.bar(x, total - quiet, width, color=f"C{i}", label=f"{name}: other cells")
        left.bar(x, quiet, width, bottom=total - quiet, color=f"C{i}", alpha=0.45, hatch="//",
                 label=f"{name}: near-silent cells")
        excess = np.array([e["quiet_excess_db"] if e else np.nan for e in entries])
        err = np.array([[e["quiet_excess_db"] - e["quiet_excess_db_low"], e["quiet_excess_db_high"]
                         - e["quiet_excess_db"]] if e else [np.nan, np.nan] for e in entries]).T
        right.bar(x, excess, width, yerr=np.nan_to_num(err), capsize=2, color=f"C{i}", label=name)
    for ax, title, ylabel in ((left, "Where the log-mel distance comes from", "log-mel distance (dB)"),
                              (right, "Noise filled into near-silent cells (< -60 dB)",
                               "quiet excess (dB, estimate - reference)")):
        ax.set_xticks(np.arange(len(kinds)), kinds, rotation=35, ha="right", fontsize=8)
        ax.set(title=title, ylabel=ylabel)
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=7)
    save_png(fig, path)
    return path


def plot_spectrograms(found: list[tuple[dict, Path]], kinds: list[str], path: Path) -> Path | None:
    """Log-mel spectrograms (the metric's 80 bands, 80 dB range) of the first clip of the last set (the
    unseen timbre) and of its decoding by the lowest seed of each of `kinds`; None if no run is of them."""
    chosen: dict[str, tuple[dict, Path]] = {}
    for record, model in found:
        kind, seed = record["rows"][0]["kind"], record["rows"][0]["seed"]
        if kind in kinds and (kind not in chosen or seed < chosen[kind][0]["rows"][0]["seed"]):
            chosen[kind] = (record, model)
    if not chosen:
        return None
    settings = next(iter(chosen.values()))[0]["settings"]
    name, paths = list(settings["sets"].items())[-1]
    clip, rate = load_clip(paths[0], settings["seconds"])
    panels = {"input": clip}
    for kind in (k for k in kinds if k in chosen):
        record, model = chosen[kind]
        panels[f"{kind}, seed {record['rows'][0]['seed']}"] = decoded_and_events(load_model(model), clip, rate)[0]
    spectra = {label: log_mel_db(audio, rate)[0].numpy() for label, audio in panels.items()}
    top = spectra["input"].max()
    plt = pyplot()
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, 2.1 * len(panels)), sharex=True, constrained_layout=True)
    centres = mel_band_centres_hz(rate)
    ticks = [0, 20, 40, 60, 79]
    for ax, (label, spectrum) in zip(axes, spectra.items()):
        image = ax.imshow(spectrum, origin="lower", aspect="auto", vmin=top - 80, vmax=top, cmap="magma",
                          extent=(0, len(clip) / rate, -0.5, spectrum.shape[0] - 0.5))
        ax.set_yticks(ticks, [f"{centres[t] / 1000:.2g}" for t in ticks])
        ax.set(ylabel="kHz (mel)", title=label)
    axes[-1].set_xlabel("seconds")
    fig.colorbar(image, ax=axes, label="dB", shrink=0.6)
    fig.suptitle(f"{Path(paths[0]).name} ({name})")
    return save_png(fig, path, dpi=72)  # mostly image: keep the file small


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=1.5, help="target kbps of the runs (the ceiling is added)")
    parser.add_argument("--runs", default="runs/bottlenecks", help="folder of the benchmark's trained runs")
    parser.add_argument("--records", default=str(RECORDS), help="folder of the benchmark's per-run records")
    parser.add_argument("--results", default=str(RESULTS), help="folder of the results")
    parser.add_argument("--spectrogram-kinds", nargs="+", default=["threshold", "lfq", "continuous"],
                        help="kinds whose decoding of one unseen clip is drawn beside the input")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(1)
    found, absent = runs_at(Path(args.records), Path(args.runs), args.rate)
    if not found:
        raise SystemExit(f"no trained run at {args.rate:g} kbps in {args.runs} (with a record in {args.records}); "
                         f"train them with python benchmarks/bottlenecks.py --rates {args.rate:g}")
    rows = [row for record, model in tqdm(found, desc="runs", unit="run") for row in clip_rows(record, model)]
    summary = summarize(rows, metrics=DIAGNOSTICS)
    intro = (f"The bottleneck benchmark's runs at {args.rate:g} kbps and its unquantized reference "
             f"({len(found)} runs; {len(rows)} clips through their models), on the clips of the benchmark's table. "
             "Mean ± 95 % interval over seeds. Band errors: the log-mel distance over the mel bands in that range. "
             "Quiet cells: mel cells whose reference is below -60 dB; quiet excess: the mean estimate - reference "
             "(dB) there (noise filled in; compare systems with each other, not with 0); loud deficit: the same "
             "over the reference's loudest 10 % of cells; partial contrast loss: how much less the partials stand "
             "above the floor between them, 2-8 kHz (snn_codec/eval/diagnostics.py).")
    if absent:
        intro += f"\n\nRecorded runs without a model in {args.runs} (left out): {', '.join(absent)}."
    results = Path(args.results)
    publish("bottleneck_errors", f"Where the bottlenecks' errors lie ({args.rate:g} kbps)", intro, markdown(summary),
            {"args": vars(args), "summary": summary, "clips": rows, "left_out": absent}, results)
    plot(summary, results / "bottleneck_errors.png")
    plot_spectrograms(found, args.spectrogram_kinds, results / "bottleneck_errors_spectrograms.png")


if __name__ == "__main__":
    main()
