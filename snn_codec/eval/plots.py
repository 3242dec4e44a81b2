"""Figures: what people would rather look at than read."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from snn_codec.audio import atomic_output
from snn_codec.spectral import analysis_fft_size, mel_spectrogram


def pyplot():
    """matplotlib.pyplot on the Agg backend: figures go to files, no display needed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, path: str | os.PathLike, dpi: int = 100) -> Path:
    """Writes `fig` to `path` as PNG, atomically, and closes it."""
    out = Path(path)
    with atomic_output(out) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    pyplot().close(fig)
    return out


def mel_db(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    n_fft = analysis_fft_size(sample_rate)
    mel = mel_spectrogram(torch.from_numpy(audio[None].astype(np.float32)), sample_rate, n_fft, n_fft // 4)[0]
    return (10 * mel.clamp_min(1e-10).log10()).numpy()


def plot_round_trip(
    path: str | os.PathLike,
    original: np.ndarray,
    decoded: np.ndarray,
    events: np.ndarray,
    sample_rate: int,
    title: str = "",
) -> Path:
    """Writes a PNG: mel spectrogram of the input, the event raster, mel spectrogram of the output.

    Args:
        original, decoded: mono audio (S,) at `sample_rate`.
        events: (N, T) bool, the stored events.
    """
    plt = pyplot()

    duration_s = len(original) / sample_rate
    extent = (0, duration_s, 0, 80)
    fig, axes = plt.subplots(3, 1, figsize=(10, 7.5), sharex=True, constrained_layout=True)
    mel_in, mel_out = mel_db(original, sample_rate), mel_db(decoded, sample_rate)
    low = max(mel_in.max() - 80, -100)
    for ax, mel, label in ((axes[0], mel_in, "input"), (axes[2], mel_out, "decoded")):
        ax.imshow(mel, origin="lower", aspect="auto", extent=extent, vmin=low, vmax=mel_in.max(), cmap="magma")
        ax.set_ylabel(f"{label}\nmel band")
    units, frames = events.shape
    unit, frame = np.nonzero(events)
    axes[1].scatter(frame * duration_s / max(frames, 1), unit, s=1, marker="|", color="black")
    axes[1].set_ylim(-0.5, units - 0.5)
    axes[1].set_ylabel(f"events\nunit (of {units})")
    axes[2].set_xlabel("time (s)")
    if title:
        axes[0].set_title(title)
    return save_png(fig, path)


def read_training_logs(run_dir: str | os.PathLike) -> dict[str, list[tuple[int, float]]]:
    """Every logged metric of a run (all its CSV log versions, i.e. across resumes): name -> [(step, value)]."""
    import csv

    series: dict[str, dict[int, float]] = {}
    for path in sorted(Path(run_dir).glob("logs/version_*/metrics.csv"), key=lambda p: int(p.parent.name[8:])):
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                for key, value in row.items():
                    if key not in ("epoch", "step") and value not in ("", None):
                        series.setdefault(key, {})[int(row["step"])] = float(value)
    return {key: sorted(values.items()) for key, values in series.items()}


def plot_training(run_dir: str | os.PathLike, target_kbps: float = 0.0) -> Path:
    """Writes RUN/training.png: losses; bitrate (with the target) and firing rate; the sparsity weight and
    the rate controller's threshold trims; the discriminators' and the codec's adversarial losses (runs
    with `train.adversarial`); validation log-mel distance for the training soundfonts and the held-out
    one."""
    plt = pyplot()

    logs = read_training_logs(run_dir)
    panels = [
        ("training loss", ["train/loss", "train/mel"], False),
        ("bitrate (kbps)", ["train/model_kbps", "train/probe_kbps", "val/payload_kbps", "val_unseen/payload_kbps"],
         False),
        ("sparsity weight", ["train/sparsity_weight"], True),
        *([("threshold trim (offset added to the input current)", ["train/trim_offset"], False)]
          if logs.get("train/trim_offset") else []),
        *([("adversarial training (hinge losses, feature matching)",
            ["train/disc", "train/adv", "train/feature_matching"], False)] if logs.get("train/disc") else []),
        ("firing rate", ["train/firing_rate", "val/firing_rate", "val_unseen/firing_rate"], False),
        ("validation log-mel distance (dB)", ["val/log_mel_db", "val_unseen/log_mel_db"], False),
    ]
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 2.4 * len(panels)), sharex=True, constrained_layout=True)
    for ax, (title, keys, log_scale) in zip(axes, panels):
        for key in keys:
            if logs.get(key):
                steps, values = zip(*logs[key])
                # sparse series get markers: a line alone draws nothing for a single point (a short run)
                marked = key.startswith("val") or key in ("train/probe_kbps", "train/trim_offset") or len(steps) < 20
                ax.plot(steps, values, marker="." if marked else None, label=key)
        if title.startswith("bitrate") and target_kbps > 0:
            ax.axhline(target_kbps, color="black", ls="--", lw=0.8, label=f"target {target_kbps:g}")
            ax.axhspan(0.95 * target_kbps, 1.05 * target_kbps, color="grey", alpha=0.15)
        if log_scale and any(value > 0 for _, value in logs.get(keys[0], [])):
            ax.set_yscale("log")
        ax.set_title(title, fontsize=9)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    axes[-1].set_xlabel("step")
    return save_png(fig, Path(run_dir) / "training.png", dpi=90)
