"""Spectral helpers shared by the training losses and the evaluation metrics (torch only)."""

from __future__ import annotations

import functools
import math

import torch
from torch import Tensor


def stft_magnitude(audio: Tensor, n_fft: int, hop_length: int) -> Tensor:
    """(B, S) -> magnitudes (B, n_fft // 2 + 1, frames), Hann window, normalised by the window sum."""
    window = _hann(n_fft, audio.device)
    spec = torch.stft(audio.float(), n_fft, hop_length, window=window, center=True, return_complex=True)
    return spec.abs() / window.sum()


@functools.lru_cache(maxsize=16)
def _hann_cpu(n_fft: int) -> Tensor:
    return torch.hann_window(n_fft)


def _hann(n_fft: int, device: torch.device) -> Tensor:
    return _hann_cpu(n_fft).to(device)


def _hz_to_mel(hz: float | Tensor):
    return 2595.0 * (torch.log10(1.0 + hz / 700.0) if isinstance(hz, Tensor) else math.log10(1.0 + hz / 700.0))


@functools.lru_cache(maxsize=16)
def mel_filterbank(sample_rate: int, n_fft: int, num_mels: int = 80) -> Tensor:
    """Triangular filters on the HTK mel scale from 0 Hz to Nyquist: (num_mels, n_fft // 2 + 1)."""
    freqs = torch.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    edges_mel = torch.linspace(0.0, _hz_to_mel(sample_rate / 2), num_mels + 2)
    edges = 700.0 * (10.0 ** (edges_mel / 2595.0) - 1.0)
    lower, center, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs - lower) / (center - lower)
    falling = (upper - freqs) / (upper - center)
    return torch.clamp(torch.minimum(rising, falling), min=0.0)


def mel_spectrogram(audio: Tensor, sample_rate: int, n_fft: int, hop_length: int, num_mels: int = 80) -> Tensor:
    """(B, S) -> mel power spectrogram (B, num_mels, frames)."""
    power = stft_magnitude(audio, n_fft, hop_length).square()
    return mel_filterbank(sample_rate, n_fft, num_mels).to(audio.device) @ power


def analysis_fft_size(sample_rate: int, window_s: float = 0.04) -> int:
    """The power of two nearest to `window_s` seconds at `sample_rate` (1024 at 24 kHz)."""
    return 2 ** round(math.log2(window_s * sample_rate))
