"""Figures: what people would rather look at than read."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from snn_codec.audio import atomic_output
from snn_codec.spectral import analysis_fft_size, mel_spectrogram


def _mel_db(audio: np.ndarray, sample_rate: int) -> np.ndarray:
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    duration_s = len(original) / sample_rate
    extent = (0, duration_s, 0, 80)
    fig, axes = plt.subplots(3, 1, figsize=(10, 7.5), sharex=True, constrained_layout=True)
    mel_in, mel_out = _mel_db(original, sample_rate), _mel_db(decoded, sample_rate)
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
    out = Path(path)
    with atomic_output(out) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return out
