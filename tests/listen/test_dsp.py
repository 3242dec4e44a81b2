"""Anchors are really low-passed; loudness reads as BS.1770 says; matching and fades do what they claim."""

from __future__ import annotations

import numpy as np
import pytest

from snn_codec.listen.dsp import fade, gain_to, loudness_lufs, lowpass

RATE = 48000


def band_energy(x: np.ndarray, low_hz: float, high_hz: float) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2  # windowed: no leakage from the ends
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    return float(spectrum[(freqs >= low_hz) & (freqs < high_hz)].sum())


@pytest.mark.parametrize("cutoff_hz", [3500.0, 7000.0])
def test_anchor_removes_everything_above_its_cutoff(cutoff_hz):
    noise = np.random.default_rng(0).standard_normal((1, RATE)).astype(np.float32) * 0.1
    anchor = lowpass(noise, RATE, cutoff_hz)[0]
    assert anchor.shape == (RATE,) and anchor.dtype == np.float32
    passband = band_energy(anchor, 0, cutoff_hz * 0.8)
    assert passband == pytest.approx(band_energy(noise[0], 0, cutoff_hz * 0.8), rel=0.02)
    stopband = band_energy(anchor, cutoff_hz * 1.25, RATE / 2)
    assert 10 * np.log10(stopband / passband) < -60  # above 1.25 x cutoff: at least 60 dB down
    assert band_energy(anchor, cutoff_hz * 1.05, RATE / 2) < 0.05 * band_energy(noise[0], cutoff_hz * 1.05, RATE / 2)


def test_anchor_above_nyquist_is_a_copy():
    x = np.ones((2, 100), np.float32)
    assert np.array_equal(lowpass(x, 8000, 7000.0), x)


def test_loudness_of_a_full_scale_sine_is_minus_three_lufs():
    t = np.arange(RATE * 3) / RATE
    sine = np.sin(2 * np.pi * 997 * t)[None]
    assert loudness_lufs(sine, RATE) == pytest.approx(-3.01, abs=0.1)  # the standard's calibration point
    assert loudness_lufs(0.1 * sine, RATE) == pytest.approx(-23.01, abs=0.1)
    assert loudness_lufs(np.zeros((1, RATE)), RATE) == float("-inf")
    at_44k = np.sin(2 * np.pi * 997 * np.arange(44100 * 3) / 44100)[None]
    assert loudness_lufs(at_44k, 44100) == pytest.approx(-3.01, abs=0.1)


def test_gain_to_matches_loudness_and_leaves_silence_alone():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, RATE)) * 0.05
    assert loudness_lufs(x * gain_to(x, RATE, -30.0), RATE) == pytest.approx(-30.0, abs=0.01)
    assert gain_to(np.zeros((1, RATE)), RATE, -23.0) == 1.0


def test_fade_ramps_both_ends_only():
    x = np.ones((1, RATE), np.float32)
    faded = fade(x, RATE)
    assert faded[0, 0] == 0 and faded[0, -1] == 0 and faded[0, RATE // 2] == 1
    assert np.all(np.diff(faded[0, : RATE // 100]) >= 0)
