"""`snn-codec analyze`: encodes pieces with known notes and reports how units relate to key strikes.

Writes to the output folder: report.json (every number), report.md (a table per model and what it means),
raster.png (events against note onsets), peri_onset.png (per-unit onset-locked event probability) and
mutual_information.png (per-unit onset information against the controls' threshold).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from snn_codec.audio import atomic_output, load_audio, resample, to_mono
from snn_codec.data.datasets import dataset_files
from snn_codec.errors import CodecError
from snn_codec.eval.plots import pyplot, save_png
from snn_codec.eval.selectivity import LAGS, PieceEvents, SelectivityResult, analyze_events, frame_labels
from snn_codec.model_io import load_model

RASTER_SECONDS = 10.0


def load_pieces(data: str, split: str, soundfont: str | None, limit: int) -> list[tuple[Path, list]]:
    """(audio path, notes) of the first `limit` pieces of a synthetic corpus split that carry notes."""
    files = dataset_files(data if ":" in data else f"synth:{data}", split, soundfont=soundfont)
    pieces = []
    for path in files:
        meta = path.with_suffix(".json")
        if meta.is_file():
            pieces.append((path, json.loads(meta.read_text())["notes"]))
        if len(pieces) == limit:
            break
    if not pieces:
        raise CodecError(f"{data}: no pieces with note annotations (.json beside the audio) in split {split!r}")
    return pieces


def encode_pieces(model: str, pieces: list[tuple[Path, list]], progress: bool = True) -> tuple[list[PieceEvents], float]:
    """Events and onset labels of each piece under `model`, and the model's frame rate."""
    codec = load_model(model).eval()
    rate = codec.config.frame_rate
    out = []
    for path, notes in tqdm(pieces, desc=f"encode {model}", unit="piece", disable=not progress):
        audio = load_audio(path)
        mono = resample(to_mono(audio.samples), audio.sample_rate, codec.config.sample_rate)[0]
        with torch.inference_mode():
            events = codec.encode(torch.from_numpy(mono)).numpy()
        if events.dtype != bool:
            raise CodecError(f"{model}: stores codebook indices, not events; the analysis needs a spiking model")
        onsets, pitch = frame_labels(notes, events.shape[1], rate)
        out.append(PieceEvents(events, onsets, pitch))
    return out, rate


def run_analysis(models: list[str], data: str, out_dir: str | os.PathLike, *, split: str = "validation",
                 soundfont: str | None = None, pieces: int = 12, controls: int = 1000, seed: int = 0,
                 progress: bool = True) -> dict[str, SelectivityResult]:
    """Analyzes each model on the same pieces and writes the report files. Returns the results by model."""
    if not models:
        raise CodecError("give at least one model")
    if pieces < 1 or not 20 <= controls <= 10000:
        raise CodecError(f"need pieces >= 1 and 20 <= controls <= 10000, got {pieces} and {controls}")
    chosen = load_pieces(data, split, soundfont, pieces)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results, encoded = {}, {}
    for model in models:
        encoded[model], rate = encode_pieces(model, chosen, progress)
        results[model] = analyze_events(encoded[model], rate, controls=controls, seed=seed)
    report = {"data": data, "split": split, "soundfont": soundfont, "pieces": [str(p) for p, _ in chosen],
              "controls": controls, "seed": seed, "lags_frames": LAGS.tolist(),
              "models": {m: _jsonable(r) for m, r in results.items()}}
    _write_text(out / "report.json", json.dumps(report, indent=1) + "\n")
    _write_text(out / "report.md", markdown_report(results, len(chosen), controls))
    plot_raster(out / "raster.png", encoded, rate)
    plot_peri_onset(out / "peri_onset.png", results)
    plot_mutual_information(out / "mutual_information.png", results)
    return results


def summary_row(result: SelectivityResult) -> dict[str, float]:
    """The per-model numbers of the report table."""
    return {
        "firing_rate": float(result.firing_rate.mean()),
        "onset_selective_units": int(result.onset_significant.sum()),
        "pitch_selective_units": int(result.pitch_significant.sum()),
        "median_onset_mi_bits": float(np.median(result.onset_mi)),
        "onset_rate_ratio": result.onset_rate_ratio,
        "synchrony": result.synchrony,
        "synchrony_control": result.synchrony_null,
        "synchrony_p": result.synchrony_p,
    }


def markdown_report(results: dict[str, SelectivityResult], pieces: int, controls: int) -> str:
    lines = [
        "# Selectivity and synchrony of events with key strikes",
        "",
        f"{pieces} pieces; onset = a note starts within ±1 frame; {controls} controls per test "
        "(onsets circularly shifted by ≥ 1 s, and onset frames shuffled); units count as selective when both "
        "controls reject at a false discovery rate of 5 % (Benjamini-Hochberg over units).",
        "",
        "| model | firing rate | onset-selective units | pitch-selective units | median onset MI (bits/frame) "
        "| event rate at onsets / elsewhere | synchrony χ² (control) | synchrony p |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for model, result in results.items():
        row = summary_row(result)
        lines.append(
            f"| {model} | {row['firing_rate']:.3f} | {row['onset_selective_units']} / {result.units} "
            f"| {row['pitch_selective_units']} / {result.units} | {row['median_onset_mi_bits']:.4f} "
            f"| {row['onset_rate_ratio']:.2f} | {row['synchrony']:.4f} ({row['synchrony_control']:.4f}) "
            f"| {row['synchrony_p']:.3g} |")
    lines += ["", "## Reading", ""]
    for model, result in results.items():
        lines.append(f"- **{model}**: {_verdict(result)}")
    return "\n".join(lines) + "\n"


def _verdict(result: SelectivityResult) -> str:
    onset, pitch = int(result.onset_significant.sum()), int(result.pitch_significant.sum())
    sync = "synchronous beyond chance" if result.synchrony_p < 0.05 else "not more synchronous than chance"
    return (f"{onset} of {result.units} units are selective for key strikes and {pitch} for pitch class "
            f"(p < 0.05, FDR-corrected); the population is {sync} (χ² {result.synchrony:.4f} vs "
            f"{result.synchrony_null:.4f} shifted, p = {result.synchrony_p:.3g}) and fires "
            f"{result.onset_rate_ratio:.2f}x as often at onsets as elsewhere.")


def _jsonable(result: SelectivityResult) -> dict:
    return {**summary_row(result), **{k: v.tolist() if isinstance(v, np.ndarray) else v
                                      for k, v in asdict(result).items()}}


def _write_text(path: Path, text: str) -> None:
    with atomic_output(path) as tmp:
        Path(tmp).write_text(text)


def plot_raster(path: Path, encoded: dict[str, list[PieceEvents]], frame_rate: float) -> None:
    """The first piece's first seconds: each model's events, with the note onsets as vertical lines."""
    plt = pyplot()
    fig, axes = plt.subplots(len(encoded), 1, figsize=(11, 3.2 * len(encoded)), squeeze=False, constrained_layout=True)
    for ax, (model, pieces) in zip(axes[:, 0], encoded.items()):
        piece = pieces[0]
        frames = min(piece.events.shape[1], int(RASTER_SECONDS * frame_rate))
        for onset in np.nonzero(piece.onsets[:frames])[0]:
            ax.axvline(onset / frame_rate, color="tab:red", alpha=0.6, lw=0.6, zorder=3)
        unit, frame = np.nonzero(piece.events[:, :frames])
        ax.scatter(frame / frame_rate, unit, s=2, marker="|", color="black")
        ax.set_title(f"{model}: events (black) and note onsets (red)")
        ax.set_ylabel("unit")
    axes[-1, 0].set_xlabel("time (s)")
    save_png(fig, path)


def _panels_per_model(results: dict[str, SelectivityResult], height: float):
    """A figure with one panel per model, side by side, and (axis, model, result, units by onset MI) rows."""
    fig, axes = pyplot().subplots(1, len(results), figsize=(5 * len(results), height), squeeze=False,
                                   constrained_layout=True)
    return fig, [(ax, model, result, np.argsort(-result.onset_mi))
                 for ax, (model, result) in zip(axes[0], results.items())]


def plot_peri_onset(path: Path, results: dict[str, SelectivityResult]) -> None:
    """Per model: units (sorted by onset MI) x lag heat map of event probability minus the unit's mean."""
    fig, panels = _panels_per_model(results, 5)
    for ax, model, result, order in panels:
        change = result.peri_onset[order] - result.firing_rate[order, None]
        bound = max(np.abs(change).max(), 1e-3)
        image = ax.imshow(change, aspect="auto", cmap="RdBu_r", vmin=-bound, vmax=bound,
                          extent=(LAGS[0] - 0.5, LAGS[-1] + 0.5, len(order) - 0.5, -0.5))
        ax.axvline(0, color="black", lw=0.8)
        ax.set(title=f"{model}\nevent probability around onsets − mean", xlabel="lag from onset (frames)",
               ylabel="unit (by onset information)")
        fig.colorbar(image, ax=ax, shrink=0.8)
    save_png(fig, path)


def plot_mutual_information(path: Path, results: dict[str, SelectivityResult]) -> None:
    """Per model: each unit's onset MI, sorted, coloured where it beats both controls."""
    fig, panels = _panels_per_model(results, 3.5)
    for ax, model, result, order in panels:
        colours = np.where(result.onset_significant[order], "tab:blue", "lightgrey")
        ax.bar(np.arange(len(order)), result.onset_mi[order], color=colours)
        ax.set(title=f"{model}: onset information (blue: significant)", xlabel="unit (sorted)", ylabel="bits / frame")
    save_png(fig, path)
