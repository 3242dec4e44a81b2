"""Signal processing for listening tests: low-pass anchors, loudness (ITU-R BS.1770) and gain matching."""

from __future__ import annotations

import numpy as np
from scipy import signal

from snn_codec.audio import resample

ANCHOR_ORDER = 16  # Butterworth order; run forwards and backwards: -6 dB at the cutoff, -62 dB at 1.25 x
BLOCK_S = 0.4  # BS.1770 gating block
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
FADE_S = 0.01  # fades at both ends so looping playback does not click
K_RATE = 48000
K_FILTER = np.array([  # BS.1770-4, table 1 (pre-filter) and table 2 (RLB high-pass), at 48 kHz
    [1.53512485958697, -2.69169618940638, 1.19839281085285, 1.0, -1.69065929318241, 0.73248077421585],
    [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621],
])


def lowpass(samples: np.ndarray, sample_rate: int, cutoff_hz: float) -> np.ndarray:
    """Zero-phase Butterworth low-pass of (channels, S) audio; the anchors of a MUSHRA test.

    Returns the input unchanged when `cutoff_hz` is at or above the Nyquist frequency.
    """
    if cutoff_hz >= sample_rate / 2:
        return samples.astype(np.float32, copy=True)
    sos = signal.butter(ANCHOR_ORDER, cutoff_hz, btype="lowpass", output="sos", fs=sample_rate)
    return signal.sosfiltfilt(sos, samples, axis=-1).astype(np.float32)


def k_weighting(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """BS.1770 K-weighting (a +4 dB shelf above about 1.7 kHz, then a 38 Hz high-pass) -> 48 kHz audio.

    Other rates are resampled to 48 kHz first, so the standard's published coefficients apply exactly.
    """
    if sample_rate != K_RATE:
        samples = resample(np.asarray(samples, np.float32), sample_rate, K_RATE).astype(np.float64)
    return signal.sosfilt(K_FILTER, samples, axis=-1)


def loudness_lufs(samples: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness (LUFS) of (channels, S) audio, gated as in BS.1770-4; -inf for silence.

    Every channel has weight 1 (the standard's weights for left, right and centre).
    """
    weighted = k_weighting(np.asarray(samples, dtype=np.float64), sample_rate)
    block = min(int(BLOCK_S * K_RATE), weighted.shape[-1])
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
