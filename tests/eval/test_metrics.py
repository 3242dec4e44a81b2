"""Metric definitions: known values on constructed signals."""

from __future__ import annotations

import numpy as np
import pytest

from snn_codec.eval.metrics import bitrate_kbps, log_mel_distance, multi_resolution_stft_distance, si_sdr


def tone(seconds=1.0, rate=16000, freq=440.0):
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_si_sdr_is_scale_invariant_and_matches_the_noise_level():
    x = tone()
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(x.shape).astype(np.float32)
    noise *= np.linalg.norm(x) / np.linalg.norm(noise) / 10  # 20 dB below the signal
    assert si_sdr(x, 3.0 * x) > 60
    assert si_sdr(x, x + noise) == pytest.approx(20.0, abs=0.3)


def test_log_mel_distance_of_a_6db_gain_is_6db():
    x = 0.1 * np.random.default_rng(0).standard_normal(16000).astype(np.float32)  # every band above the floor
    assert log_mel_distance(x, x, 16000) == pytest.approx(0.0, abs=1e-6)
    assert log_mel_distance(x, 2 * x, 16000) == pytest.approx(20 * np.log10(2), abs=0.05)


def test_stft_distance_grows_with_damage():
    x = tone()
    rng = np.random.default_rng(0)
    small = multi_resolution_stft_distance(x, x + 0.001 * rng.standard_normal(x.shape), 16000)
    large = multi_resolution_stft_distance(x, x + 0.1 * rng.standard_normal(x.shape), 16000)
    assert 0 < small < large


def test_bitrate_from_bytes():
    assert bitrate_kbps(1000, 2.0) == 4.0
