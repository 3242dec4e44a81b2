"""Training-time audio augmentation: the codec should meet many pianos, rooms and recording chains.

Each effect is drawn from a numpy generator, so a crop index always gets the same effects. Input and
target of the auto-encoder are the augmented crop alike: the codec learns to carry these timbres, not to
undo them.

- spectral tilt (dB per octave around 1 kHz) and a few random peaking bands: brighter or darker pianos
- a synthetic room: exponentially decaying noise as impulse response, mixed in with a random wet level
- a low noise floor (white or pink)
- dynamic-range compression (off unless configured): louder sustains and softer attacks, the way produced
  recordings sound; it also makes loud sustained partials, rare in rendered MIDI, common in training
- level: a random gain, limited so the peak stays below full scale
"""

from __future__ import annotations

import numpy as np

from snn_codec.config import AugmentConfig

TILT_PIVOT_HZ = 1000.0
MAX_SHAPING_DB = 18.0  # tilt and bands together never exceed this boost or cut
PEAK_LIMIT = 0.98
COMPRESSOR_BLOCK_S = 0.01  # the compressor's level detector: RMS over 10 ms blocks
COMPRESSOR_ATTACK_S, COMPRESSOR_RELEASE_S = 0.005, 0.15


class Augmenter:
    """Applies `AugmentConfig` to mono float32 crops.

    `preroll` is how many samples before the crop the caller should pass along (the room's tail needs
    the audio that precedes the crop); `__call__` returns the crop without them.
    """

    def __init__(self, config: AugmentConfig, sample_rate: int):
        self.config, self.sample_rate = config, sample_rate
        self.preroll = int(config.rt60_s[1] * sample_rate) if config.reverb_probability > 0 else 0

    def __call__(self, audio: np.ndarray, preroll: int, rng: np.random.Generator) -> np.ndarray:
        """audio: (preroll + crop,) float32 -> (crop,) float32 augmented."""
        config, x = self.config, audio.astype(np.float64)
        x = self._shape_spectrum(x, rng)
        if rng.random() < config.reverb_probability:
            x = self._add_room(x, rng)
        x = x[preroll:]
        if rng.random() < config.noise_probability:
            x = x + self._noise(len(x), rng)
        if config.compression_probability > 0 and rng.random() < config.compression_probability:  # no draw when off
            x = self._compress(x, rng)
        x = x * 10 ** (rng.uniform(*config.level_db) / 20)
        peak = np.abs(x).max(initial=0.0)
        if peak > PEAK_LIMIT:
            x *= PEAK_LIMIT / peak
        return x.astype(np.float32)

    def _shape_spectrum(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Random tilt plus random peaking bands, as a zero-phase gain curve on the spectrum."""
        config = self.config
        freqs = np.fft.rfftfreq(len(x), 1.0 / self.sample_rate)
        octaves = np.log2(np.maximum(freqs, 20.0) / TILT_PIVOT_HZ)
        gain_db = rng.uniform(-1, 1) * config.tilt_db_per_octave * octaves
        for _ in range(config.eq_bands):
            centre = np.log2(rng.uniform(100.0, 0.4 * self.sample_rate) / TILT_PIVOT_HZ)
            width = rng.uniform(0.3, 1.5)  # octaves
            gain_db += rng.uniform(-1, 1) * config.eq_gain_db * np.exp(-0.5 * ((octaves - centre) / width) ** 2)
        gain = 10 ** (np.clip(gain_db, -MAX_SHAPING_DB, MAX_SHAPING_DB) / 20)
        return np.fft.irfft(np.fft.rfft(x) * gain, n=len(x))

    def _compress(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A feed-forward compressor: above a threshold `depth` dB below the crop's loudest block, the
        level rises only 1/ratio dB per dB; the gain follows with a fast attack and a slow release, and a
        make-up gain brings the peak back to where it was (so what was soft comes out louder)."""
        block = max(1, int(COMPRESSOR_BLOCK_S * self.sample_rate))
        blocks = -(-len(x) // block)
        padded = np.pad(x, (0, blocks * block - len(x)))
        level_db = 10 * np.log10(np.mean(padded.reshape(blocks, block) ** 2, axis=1) + 1e-12)
        threshold = level_db.max() - rng.uniform(*self.config.compression_depth_db)
        ratio = rng.uniform(*self.config.compression_ratio)
        target = -(1 - 1 / ratio) * np.maximum(level_db - threshold, 0.0)  # gain in dB, <= 0
        attack, release = (np.exp(-COMPRESSOR_BLOCK_S / s) for s in (COMPRESSOR_ATTACK_S, COMPRESSOR_RELEASE_S))
        gain, smoothed = 0.0, np.empty(blocks)
        for i, goal in enumerate(target):  # blocks of 10 ms: at most a few hundred per crop
            coefficient = attack if goal < gain else release
            gain = coefficient * gain + (1 - coefficient) * goal
            smoothed[i] = gain
        centres = (np.arange(blocks) + 0.5) * block
        out = x * 10 ** (np.interp(np.arange(len(x)), centres, smoothed) / 20)
        peak, out_peak = np.abs(x).max(initial=0.0), np.abs(out).max(initial=0.0)
        return out * (peak / out_peak) if out_peak > 0 else out  # make-up gain: the peak it had

    def _add_room(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Convolves with exponentially decaying noise (RT60 drawn from the config) and mixes it in."""
        rt60 = rng.uniform(*self.config.rt60_s)
        length = max(1, int(rt60 * self.sample_rate))
        t = np.arange(length) / self.sample_rate
        response = rng.standard_normal(length) * 10 ** (-3 * t / rt60)  # -60 dB at t = rt60
        response /= np.sqrt(np.sum(response**2))
        size = len(x) + length - 1
        wet = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(response, size), n=size)[: len(x)]
        mix = rng.uniform(*self.config.reverb_wet)
        return (1 - mix) * x + mix * wet

    def _noise(self, length: int, rng: np.random.Generator) -> np.ndarray:
        """White or pink noise at a random RMS level (dBFS)."""
        noise = rng.standard_normal(length)
        if rng.random() < 0.5:  # pink: 1/f power
            spectrum = np.fft.rfft(noise)
            spectrum[1:] /= np.sqrt(np.arange(1, len(spectrum)))
            spectrum[0] = 0
            noise = np.fft.irfft(spectrum, n=length)
        rms = np.sqrt(np.mean(noise**2)) or 1.0
        return noise / rms * 10 ** (rng.uniform(*self.config.noise_dbfs) / 20)
