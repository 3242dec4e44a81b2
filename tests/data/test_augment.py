"""Training augmentation: deterministic per generator, bounded, and each effect does what it says."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from snn_codec.config import AugmentConfig
from snn_codec.data.augment import PEAK_LIMIT, Augmenter

RATE = 16000
NOTHING = AugmentConfig(enabled=True, tilt_db_per_octave=0.0, eq_bands=0, reverb_probability=0.0,
                        noise_probability=0.0, level_db=(0.0, 0.0))


def tone(seconds=1.0, level=0.3):
    t = np.arange(int(seconds * RATE)) / RATE
    return (level * (np.sin(2 * np.pi * 220 * t) + np.sin(2 * np.pi * 4000 * t)) / 2).astype(np.float32)


def band_energy(x, low, high):
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    return spectrum[(freqs >= low) & (freqs < high)].sum()


def test_no_effects_leaves_the_audio_alone():
    x = tone()
    out = Augmenter(NOTHING, RATE)(x, 0, np.random.default_rng(0))
    np.testing.assert_allclose(out, x, atol=1e-6)


def test_same_generator_same_effects_and_bounded_output():
    augment = Augmenter(AugmentConfig(enabled=True, reverb_probability=1.0, noise_probability=1.0), RATE)
    x = np.concatenate([tone(0.5), tone(1.0, level=0.99)])
    first = augment(x, 8000, np.random.default_rng(7))
    assert first.shape == (len(x) - 8000,) and first.dtype == np.float32
    np.testing.assert_array_equal(first, augment(x, 8000, np.random.default_rng(7)))
    assert not np.array_equal(first, augment(x, 8000, np.random.default_rng(8)))
    assert np.abs(first).max() <= PEAK_LIMIT + 1e-6


def test_tilt_changes_the_balance_of_low_and_high():
    augment = Augmenter(replace(NOTHING, tilt_db_per_octave=3.0), RATE)
    x = tone()
    ratios = []
    for seed in range(6):
        out = augment(x, 0, np.random.default_rng(seed))
        ratios.append(band_energy(out, 3000, 5000) / band_energy(out, 100, 400))
    reference = band_energy(x, 3000, 5000) / band_energy(x, 100, 400)
    # four octaves apart at up to 3 dB/octave: up to 12 dB either way, and both directions occur
    assert max(ratios) > reference * 1.5 and min(ratios) < reference / 1.5


def test_room_adds_a_decaying_tail_after_the_sound_stops():
    augment = Augmenter(replace(NOTHING, reverb_probability=1.0, rt60_s=(0.5, 0.5), reverb_wet=(0.5, 0.5)), RATE)
    x = np.zeros(RATE, dtype=np.float32)
    x[:2000] = tone(2000 / RATE)
    out = augment(x, 0, np.random.default_rng(0))
    tail = out[4000:6000]  # 125-250 ms after the tone stops: within the 0.5 s decay
    assert np.sqrt(np.mean(tail**2)) > 1e-3
    assert np.sqrt(np.mean(out[-1000:] ** 2)) < np.sqrt(np.mean(tail**2)) / 10


def test_preroll_feeds_the_room_but_is_cut_off():
    augment = Augmenter(replace(NOTHING, reverb_probability=1.0, rt60_s=(0.5, 0.5), reverb_wet=(1.0, 1.0)), RATE)
    assert augment.preroll == RATE // 2
    x = np.concatenate([tone(0.25), np.zeros(RATE // 4, dtype=np.float32)])
    out = augment(x, RATE // 4, np.random.default_rng(0))
    assert len(out) == RATE // 4 and np.abs(out).max() > 1e-3  # silence in, reverb of the preroll out


def test_noise_floor_level():
    augment = Augmenter(replace(NOTHING, noise_probability=1.0, noise_dbfs=(-60.0, -60.0)), RATE)
    out = augment(np.zeros(RATE, dtype=np.float32), 0, np.random.default_rng(1))
    assert 20 * np.log10(np.sqrt(np.mean(out**2))) == pytest.approx(-60.0, abs=0.5)


def test_compression_narrows_the_gap_between_loud_and_soft_by_the_ratio():
    augment = Augmenter(replace(NOTHING, compression_probability=1.0, compression_ratio=(4.0, 4.0),
                                compression_depth_db=(12.0, 12.0)), RATE)
    x = np.concatenate([tone(0.5, level=0.5), tone(1.0, level=0.05)])  # 20 dB apart
    out = augment(x, 0, np.random.default_rng(0))
    rms_db = lambda part: 10 * np.log10(np.mean(part**2))  # noqa: E731
    steady_loud, steady_soft = slice(RATE // 10, RATE // 2 - RATE // 20), slice(RATE + RATE // 4, 3 * RATE // 2)
    # the loud part sits 12 dB over the threshold: 3/4 of that comes off; the soft part is below it (and
    # measured after the 150 ms release has let go)
    gap = rms_db(out[steady_loud]) - rms_db(out[steady_soft])
    assert gap == pytest.approx(20.0 - 9.0, abs=0.5)
    assert np.abs(out).max() == pytest.approx(np.abs(x).max(), rel=1e-6)  # make-up gain: the same peak


def test_compression_off_draws_nothing_from_the_generator():
    x = tone()
    on = Augmenter(AugmentConfig(enabled=True), RATE)
    first, second = np.random.default_rng(3), np.random.default_rng(3)
    on(x, 0, first)
    Augmenter(replace(AugmentConfig(enabled=True), compression_probability=0.0), RATE)(x, 0, second)
    assert first.random() == second.random()  # configs without compression keep their effects
