"""Signal processing for listening tests: low-pass anchors, loudness (ITU-R BS.1770) and gain matching."""

from __future__ import annotations

import numpy as np
from scipy import signal

ANCHOR_ORDER = 10  # Butterworth order; run forwards and backwards, so the roll-off is 2 x 60 dB per octave
BLOCK_S = 0.4  # BS.1770 gating block
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
FADE_S = 0.01  # fades at both ends so looping playback does not click


def lowpass(samples: np.ndarray, sample_rate: int, cutoff_hz: float) -> np.ndarray:
    """Zero-phase Butterworth low-pass of (channels, S) audio; the anchors of a MUSHRA test.

    Returns the input unchanged when `cutoff_hz` is at or above the Nyquist frequency.
    """
    if cutoff_hz >= sample_rate / 2:
        return samples.astype(np.float32, copy=True)
    sos = signal.butter(ANCHOR_ORDER, cutoff_hz, btype="lowpass", output="sos", fs=sample_rate)
    return signal.sosfiltfilt(sos, samples, axis=-1).astype(np.float32)


def _biquad_high_shelf(f0: float, gain_db: float, q: float, sample_rate: int) -> np.ndarray:
    a = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * f0 / sample_rate
    cos, alpha = np.cos(w0), np.sin(w0) / (2 * q)
    root = 2 * np.sqrt(a) * alpha
    b = [a * ((a + 1) + (a - 1) * cos + root), -2 * a * ((a - 1) + (a + 1) * cos), a * ((a + 1) + (a - 1) * cos - root)]
    den = [(a + 1) - (a - 1) * cos + root, 2 * ((a - 1) - (a + 1) * cos), (a + 1) - (a - 1) * cos - root]
    return np.concatenate([np.array(b) / den[0], np.array(den) / den[0]])


def _biquad_high_pass(f0: float, q: float, sample_rate: int) -> np.ndarray:
    w0 = 2 * np.pi * f0 / sample_rate
    cos, alpha = np.cos(w0), np.sin(w0) / (2 * q)
    b = [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2]
    den = [1 + alpha, -2 * cos, 1 - alpha]
    return np.concatenate([np.array(b) / den[0], np.array(den) / den[0]])


def k_weighting(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """BS.1770 K-weighting (a +4 dB shelf above about 1.7 kHz, then a 38 Hz high-pass) at any rate.

    The two biquads are designed from their corner frequencies, so at 48 kHz they match the standard's
    coefficients to within about 0.1 dB: ample for matching stimuli to each other.
    """
    sos = np.stack([_biquad_high_shelf(1681.97, 4.0, 0.7072, sample_rate), _biquad_high_pass(38.135, 0.5003, sample_rate)])
    return signal.sosfilt(sos, samples, axis=-1)


def loudness_lufs(samples: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness (LUFS) of (channels, S) audio, gated as in BS.1770-4; -inf for silence.

    Every channel has weight 1 (the standard's weights for left, right and centre).
    """
    weighted = k_weighting(np.asarray(samples, dtype=np.float64), sample_rate)
    block = min(int(BLOCK_S * sample_rate), weighted.shape[-1])
    if block == 0:
        return float("-inf")
    hop = max(block // 4, 1)
    starts = range(0, weighted.shape[-1] - block + 1, hop)
    power = np.array([np.sum(np.mean(weighted[:, s : s + block] ** 2, axis=-1)) for s in starts])
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10 * np.log10(power)
    kept = power[block_lufs > ABSOLUTE_GATE_LUFS]
    if kept.size == 0:
        return float("-inf")
    relative_gate = -0.691 + 10 * np.log10(kept.mean()) + RELATIVE_GATE_LU
    kept = power[(block_lufs > ABSOLUTE_GATE_LUFS) & (block_lufs > relative_gate)]
    return float(-0.691 + 10 * np.log10(kept.mean()))


def gain_to(samples: np.ndarray, sample_rate: int, target_lufs: float) -> float:
    """The linear gain that brings `samples` to `target_lufs` (1 for silence)."""
    current = loudness_lufs(samples, sample_rate)
    return 1.0 if not np.isfinite(current) else float(10 ** ((target_lufs - current) / 20))


def fade(samples: np.ndarray, sample_rate: int, fade_s: float = FADE_S) -> np.ndarray:
    """Raised-cosine fade-in and fade-out of `fade_s` seconds (shorter on very short clips)."""
    n = min(int(fade_s * sample_rate), samples.shape[-1] // 2)
    out = samples.astype(np.float32, copy=True)
    if n > 0:
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n))).astype(np.float32)
        out[..., :n] *= ramp
        out[..., -n:] *= ramp[::-1]
    return out
