"""Spectral diagnostics: each one moves the way its definition says on signals built to show it."""

from __future__ import annotations

import numpy as np
import pytest

from snn_codec.eval.diagnostics import HIGH_HZ, LOW_HZ, mel_band_centres_hz, spectral_diagnostics
from snn_codec.eval.metrics import log_mel_distance

RATE = 16000


def harmonic_tone(seconds: float = 1.0, f0: float = 220.0) -> np.ndarray:
    """A tone with partials up to 6 kHz, then as long again of silence."""
    t = np.arange(int(seconds * RATE)) / RATE
    tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, int(6000 / f0)))
    return np.concatenate([0.3 * tone / np.abs(tone).max(), np.zeros_like(t)]).astype(np.float32)


def test_a_perfect_copy_has_no_error():
    tone = harmonic_tone()
    result = spectral_diagnostics(tone, tone, RATE)
    assert result["partial_contrast_db"] > 10  # partials stand far above the floor (white noise: 2.5 dB)
    for key in ("log_mel_low_db", "log_mel_mid_db", "log_mel_high_db", "quiet_excess_db", "loud_deficit_db",
                "fine_lsd_high_db", "partial_contrast_loss_db"):
        assert result[key] == pytest.approx(0.0, abs=1e-6), key


def test_noise_between_partials_is_seen():
    tone = harmonic_tone()
    noisy = tone + np.random.default_rng(0).normal(0, 0.03, tone.shape).astype(np.float32)
    result = spectral_diagnostics(tone, noisy, RATE)
    assert result["partial_contrast_loss_db"] < -5
    assert result["quiet_excess_db"] > 10  # the silence is filled
    assert 40 < result["quiet_share"] < 100  # the silent half, and the tone's empty upper bands
    assert result["quiet_error_share"] > 50  # most of the error is the noise in the silence
    assert result["fine_lsd_high_db"] > 5


def test_missing_highs_show_in_the_high_band_and_loud_partials_too_weak_in_the_deficit():
    tone = harmonic_tone()
    spectrum = np.fft.rfft(tone)
    spectrum[np.fft.rfftfreq(len(tone), 1 / RATE) > HIGH_HZ] = 0
    dull = np.fft.irfft(spectrum, n=len(tone)).astype(np.float32)
    result = spectral_diagnostics(tone, dull, RATE)
    assert result["log_mel_high_db"] > 5 * max(result["log_mel_low_db"], 0.1)
    quieter = spectral_diagnostics(tone, 0.5 * tone, RATE)
    assert quieter["loud_deficit_db"] == pytest.approx(-6.02, abs=0.05)


def test_band_errors_average_to_the_log_mel_distance():
    tone = harmonic_tone()
    estimate = np.roll(tone, 200) * 0.8
    result = spectral_diagnostics(tone, estimate, RATE)
    centres = mel_band_centres_hz(RATE)
    counts = [np.sum(centres < LOW_HZ), np.sum((centres >= LOW_HZ) & (centres < HIGH_HZ)), np.sum(centres >= HIGH_HZ)]
    bands = [result["log_mel_low_db"], result["log_mel_mid_db"], result["log_mel_high_db"]]
    assert sum(counts) == 80
    assert np.dot(counts, bands) / 80 == pytest.approx(log_mel_distance(tone, estimate, RATE), rel=1e-4)
