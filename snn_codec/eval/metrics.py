"""Objective metrics, defined once and used everywhere (training logs, benchmarks, the CLI).

- SI-SDR (dB): scale-invariant signal-to-distortion ratio.
- log-mel distance (dB): mean absolute difference of 80-band mel power spectra in dB, window about 40 ms
  (1024 at 24 kHz), hop a quarter window. Band powers are floored at -80 dB (a full-scale sine is at
  -6 dB), about the limit of audibility at normal listening levels, so inaudible noise in silences does
  not dominate the average.
- multi-resolution STFT distance: mean over windows 512/1024/2048 (scaled with the sample rate) of the
  L1 distance of log magnitudes.
- bitrate (kbps): bytes x 8 / duration.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from snn_codec.spectral import analysis_fft_size, mel_spectrogram, stft_magnitude

POWER_FLOOR = 1e-8  # -80 dB


def _as_batch(audio) -> Tensor:
    tensor = torch.as_tensor(np.asarray(audio, dtype=np.float32) if not isinstance(audio, Tensor) else audio)
    return tensor.float().reshape(-1, tensor.shape[-1])


def si_sdr(reference, estimate, eps: float = 1e-8) -> float:
    """Scale-invariant SDR in dB of `estimate` against `reference` (same length, any leading shape)."""
    ref, est = _as_batch(reference).flatten(), _as_batch(estimate).flatten()
    ref, est = ref - ref.mean(), est - est.mean()
    target = (est @ ref) / (ref @ ref + eps) * ref
    noise = est - target
    return float(10 * torch.log10((target @ target + eps) / (noise @ noise + eps)))


def log_mel_db(audio, sample_rate: int) -> Tensor:
    """The log-mel distance's spectra: 80-band mel power in dB, floored at -80 dB, (B, 80, frames)."""
    n_fft = analysis_fft_size(sample_rate)
    mel = mel_spectrogram(_as_batch(audio), sample_rate, n_fft, n_fft // 4)
    return 10 * mel.clamp_min(POWER_FLOOR).log10()


def log_mel_distance(reference, estimate, sample_rate: int) -> float:
    """Mean |dB difference| of 80-band mel power spectra (see the module docstring)."""
    return float((log_mel_db(reference, sample_rate) - log_mel_db(estimate, sample_rate)).abs().mean())


def multi_resolution_stft_distance(reference, estimate, sample_rate: int) -> float:
    """Mean L1 distance of natural-log STFT magnitudes over three window sizes."""
    ref, est = _as_batch(reference), _as_batch(estimate)
    base = analysis_fft_size(sample_rate)
    total = 0.0
    for n_fft in (base // 2, base, base * 2):
        mag_ref = stft_magnitude(ref, n_fft, n_fft // 4).clamp_min(1e-5).log()
        mag_est = stft_magnitude(est, n_fft, n_fft // 4).clamp_min(1e-5).log()
        total += float((mag_ref - mag_est).abs().mean())
    return total / 3


def bitrate_kbps(num_bytes: int, duration_s: float) -> float:
    """Kilobits per second of `num_bytes` carrying `duration_s` seconds of audio."""
    return num_bytes * 8 / duration_s / 1000 if duration_s > 0 else float("nan")


VISQOL_RATE = 48000  # ViSQOL v3 audio mode works at 48 kHz


def visqol_moslqo(reference, estimate, sample_rate: int) -> float | None:
    """ViSQOL v3 audio-mode MOS-LQO (1-5), both signals resampled to 48 kHz; None if visqol is missing."""
    try:
        from visqol import VisqolApi
    except ImportError:
        return None
    from snn_codec.audio import resample

    ref = resample(_as_batch(reference)[:1].numpy(), sample_rate, VISQOL_RATE)[0].astype(np.float64)
    est = resample(_as_batch(estimate)[:1].numpy(), sample_rate, VISQOL_RATE)[0].astype(np.float64)
    api = VisqolApi()
    api.create(mode="audio")
    return float(api.measure_from_arrays(ref, est, VISQOL_RATE).moslqo)


def quality_report(reference, estimate, sample_rate: int, with_visqol: bool = True) -> dict[str, float]:
    """Every quality metric of `estimate` against `reference` (mono, same rate and length)."""
    report = {
        "si_sdr_db": si_sdr(reference, estimate),
        "log_mel_db": log_mel_distance(reference, estimate, sample_rate),
        "mrstft": multi_resolution_stft_distance(reference, estimate, sample_rate),
    }
    if with_visqol:
        score = visqol_moslqo(reference, estimate, sample_rate)
        if score is not None:
            report["visqol"] = score
    return report
