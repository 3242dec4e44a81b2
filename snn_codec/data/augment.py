"""Training-time audio augmentation: the codec should meet many pianos, rooms and recording chains.

Each effect is drawn from a numpy generator, so a crop index always gets the same effects. Input and
target of the auto-encoder are the augmented crop alike: the codec learns to carry these timbres, not to
undo them.

- spectral tilt (dB per octave around 1 kHz) and a few random peaking bands: brighter or darker pianos
- a synthetic room: exponentially decaying noise as impulse response, mixed in with a random wet level
- a low noise floor (white or pink)
- level: a random gain, limited so the peak stays below full scale
"""

from __future__ import annotations

import numpy as np

from snn_codec.config import AugmentConfig

TILT_PIVOT_HZ = 1000.0
MAX_SHAPING_DB = 18.0  # tilt and bands together never exceed this boost or cut
PEAK_LIMIT = 0.98


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
