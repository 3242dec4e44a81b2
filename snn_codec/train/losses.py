"""Reconstruction losses: multi-resolution STFT (log magnitude + spectral convergence) and log-mel L1."""

from __future__ import annotations

import torch
from torch import Tensor

from snn_codec.spectral import analysis_fft_size, mel_spectrogram, stft_magnitude


def multi_resolution_stft_loss(reference: Tensor, estimate: Tensor, sample_rate: int) -> Tensor:
    """(B, S) pairs -> mean over windows of (log-magnitude L1 + spectral convergence)."""
    base = analysis_fft_size(sample_rate)
    losses = []
    for n_fft in (base // 4, base // 2, base, base * 2):
        mag_ref = stft_magnitude(reference, n_fft, n_fft // 4)
        mag_est = stft_magnitude(estimate, n_fft, n_fft // 4)
        log_l1 = (torch.log(mag_ref + 1e-5) - torch.log(mag_est + 1e-5)).abs().mean()
        convergence = torch.linalg.norm(mag_ref - mag_est) / (torch.linalg.norm(mag_ref) + 1e-7)
        losses.append(log_l1 + convergence)
    return torch.stack(losses).mean()


MEL_FLOOR = 1e-9  # 10 dB below the log-mel metric's floor, so quiet passages are still trained


def mel_loss(reference: Tensor, estimate: Tensor, sample_rate: int) -> Tensor:
    """L1 distance of log mel spectra (80 bands, ~40 ms window)."""
    n_fft = analysis_fft_size(sample_rate)
    mel_ref = mel_spectrogram(reference, sample_rate, n_fft, n_fft // 4)
    mel_est = mel_spectrogram(estimate, sample_rate, n_fft, n_fft // 4)
    return (torch.log(mel_ref + MEL_FLOOR) - torch.log(mel_est + MEL_FLOOR)).abs().mean()
