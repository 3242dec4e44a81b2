"""Do units follow the music? Selectivity and synchrony of events with note onsets (MIDI ground truth).

Statistics, per unit of a model's bottleneck, on pieces whose note onsets are known:

- peri-onset histogram: the unit's event probability at each lag (frames) around an onset
- onset mutual information: I(events; onset nearby) in bits per frame, where "onset nearby" means an onset
  within `ONSET_WINDOW` frames; p-values against two controls: the onset train circularly shifted by a
  random offset (keeps the music's rhythm, breaks its alignment with the events) and the onset frames
  shuffled (breaks everything); Benjamini-Hochberg over units
- pitch mutual information: at onset frames, I(event; pitch class of the lowest new note), against
  shuffled pitch labels
- population synchrony: Golomb's chi^2 (variance of the population mean over the mean unit variance),
  against units shifted independently in time; and the population's event rate at onsets vs elsewhere
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ONSET_WINDOW = 1  # frames either side of an onset that count as "at the onset"
LAGS = np.arange(-10, 21)  # peri-onset histogram lags in frames
MIN_SHIFT_S = 1.0  # circular shifts of the control are at least this long


@dataclass
class PieceEvents:
    """One piece: events (N, T) bool and, per frame, whether a note starts there and its pitch class
    (-1 where none)."""

    events: np.ndarray
    onsets: np.ndarray
    pitch_class: np.ndarray


@dataclass
class SelectivityResult:
    units: int
    frames: int
    frame_rate: float
    firing_rate: np.ndarray  # (N,)
    peri_onset: np.ndarray  # (N, len(LAGS)) event probability at each lag
    onset_mi: np.ndarray  # (N,) bits per frame
    onset_p_shift: np.ndarray  # (N,)
    onset_p_shuffle: np.ndarray  # (N,)
    onset_significant: np.ndarray  # (N,) bool, both controls, BH-corrected
    pitch_mi: np.ndarray  # (N,) bits per onset
    pitch_p: np.ndarray
    pitch_significant: np.ndarray
    synchrony: float
    synchrony_null: float  # mean of the control
    synchrony_p: float
    onset_rate_ratio: float  # population event rate at onsets / elsewhere


def frame_labels(notes: list[list[float]], frames: int, frame_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Notes [onset_s, offset_s, pitch, velocity] -> (onset per frame bool, pitch class per frame or -1)."""
    onsets = np.zeros(frames, dtype=bool)
    pitch = np.full(frames, -1, dtype=np.int64)
    for onset_s, _, note, _ in sorted(notes, key=lambda n: n[2], reverse=True):  # the lowest note is written last
        frame = int(onset_s * frame_rate)
        if 0 <= frame < frames:
            onsets[frame] = True
            pitch[frame] = int(note) % 12
    return onsets, pitch


def binary_mi(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mutual information in bits between each row of x (N, T) bool and y (T,) bool, from counts."""
    t = x.shape[1]
    both = x.astype(np.float64) @ y.astype(np.float64)  # (N,)
    px, py = x.mean(axis=1), y.mean()
    joint = np.stack([both, x.sum(1) - both, y.sum() - both, t - x.sum(1) - y.sum() + both], axis=1) / t
    marginal = np.stack([px * py, px * (1 - py), (1 - px) * py, (1 - px) * (1 - py)], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(joint > 0, joint * np.log2(joint / marginal), 0.0)
    return terms.sum(axis=1)


def categorical_mi(x: np.ndarray, labels: np.ndarray, classes: int) -> np.ndarray:
    """Mutual information in bits between each row of x (N, K) bool and labels (K,) in [0, classes)."""
    k = x.shape[1]
    onehot = np.eye(classes)[labels]  # (K, C)
    ones = x.astype(np.float64) @ onehot  # (N, C): events per class
    per_class = onehot.sum(0)
    joint = np.stack([ones, per_class - ones], axis=1) / k  # (N, 2, C)
    px = np.stack([x.mean(1), 1 - x.mean(1)], axis=1)[..., None]  # (N, 2, 1)
    py = (per_class / k)[None, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(joint > 0, joint * np.log2(joint / (px * py)), 0.0)
    return terms.sum(axis=(1, 2))


def near(onsets: np.ndarray, window: int = ONSET_WINDOW) -> np.ndarray:
    """Frames within `window` frames of an onset."""
    out = onsets.copy()
    for shift in range(1, window + 1):
        out[shift:] |= onsets[:-shift]
        out[:-shift] |= onsets[shift:]
    return out


def benjamini_hochberg(p: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Which hypotheses are rejected at false discovery rate `alpha`."""
    order = np.argsort(p)
    ranked = p[order] <= alpha * np.arange(1, len(p) + 1) / len(p)
    cutoff = np.nonzero(ranked)[0].max() + 1 if ranked.any() else 0
    rejected = np.zeros(len(p), dtype=bool)
    rejected[order[:cutoff]] = True
    return rejected


def empirical_p(observed: np.ndarray, null: np.ndarray) -> np.ndarray:
    """One-sided p-values with the +1 correction: null (R, N) against observed (N,)."""
    return (1 + (null >= observed[None] - 1e-12).sum(axis=0)) / (1 + null.shape[0])


def golomb_synchrony(events: np.ndarray) -> float:
    """Var(population mean) / mean unit variance: 1 for identical units, about 1/N for independent ones."""
    unit_var = events.var(axis=1).mean()
    return float(events.mean(axis=0).var() / unit_var) if unit_var > 0 else 0.0


def analyze_events(pieces: list[PieceEvents], frame_rate: float, *, controls: int = 200, seed: int = 0,
                   alpha: float = 0.05) -> SelectivityResult:
    """The statistics above over pieces concatenated in time (controls shift within each piece)."""
    rng = np.random.default_rng(seed)
    events = np.concatenate([p.events for p in pieces], axis=1)
    onsets = np.concatenate([p.onsets for p in pieces])
    pitch = np.concatenate([p.pitch_class for p in pieces])
    units, frames = events.shape
    at_onset = near(onsets)
    onset_mi = binary_mi(events, at_onset)
    min_shift = int(MIN_SHIFT_S * frame_rate)
    shifted, shuffled, sync_null = [], [], []
    for _ in range(controls):
        rolled = np.concatenate([_roll(p.onsets, rng, min_shift) for p in pieces])
        shifted.append(binary_mi(events, near(rolled)))
        shuffled.append(binary_mi(events, near(rng.permutation(onsets))))
        sync_null.append(golomb_synchrony(np.concatenate(
            [np.stack([_roll(row, rng, min_shift) for row in p.events]) for p in pieces], axis=1)))
    p_shift, p_shuffle = empirical_p(onset_mi, np.array(shifted)), empirical_p(onset_mi, np.array(shuffled))
    onset_significant = benjamini_hochberg(p_shift, alpha) & benjamini_hochberg(p_shuffle, alpha)

    onset_frames = np.nonzero(onsets)[0]
    labelled = np.concatenate([p.events[:, np.nonzero(p.onsets)[0]] for p in pieces], axis=1)
    pitch_mi = categorical_mi(labelled, pitch[onset_frames], 12)
    pitch_null = np.array([categorical_mi(labelled, rng.permutation(pitch[onset_frames]), 12) for _ in range(controls)])
    pitch_p = empirical_p(pitch_mi, pitch_null)

    synchrony = golomb_synchrony(events)
    population = events.mean(axis=0)
    elsewhere = population[~at_onset].mean() if (~at_onset).any() else 0.0
    return SelectivityResult(
        units=units, frames=frames, frame_rate=frame_rate, firing_rate=events.mean(axis=1),
        peri_onset=_peri_onset(pieces), onset_mi=onset_mi, onset_p_shift=p_shift, onset_p_shuffle=p_shuffle,
        onset_significant=onset_significant, pitch_mi=pitch_mi, pitch_p=pitch_p,
        pitch_significant=benjamini_hochberg(pitch_p, alpha), synchrony=synchrony,
        synchrony_null=float(np.mean(sync_null)), synchrony_p=float(empirical_p(np.array([synchrony]),
                                                                               np.array(sync_null)[:, None])[0]),
        onset_rate_ratio=float(population[at_onset].mean() / elsewhere) if elsewhere > 0 else float("inf"),
    )


def _roll(x: np.ndarray, rng: np.random.Generator, min_shift: int) -> np.ndarray:
    """x circularly shifted by a random offset at least `min_shift` from zero (when the length allows)."""
    n = x.shape[-1]
    low = min(min_shift, n // 2)
    return np.roll(x, int(rng.integers(low, max(n - low, low + 1))), axis=-1)


def _peri_onset(pieces: list[PieceEvents]) -> np.ndarray:
    """(N, len(LAGS)) mean event at each lag from the onsets, onsets too near a piece's edge skipped."""
    total, count = 0.0, 0
    for p in pieces:
        frames = p.events.shape[1]
        for onset in np.nonzero(p.onsets)[0]:
            if onset + LAGS[0] >= 0 and onset + LAGS[-1] < frames:
                total = total + p.events[:, onset + LAGS]
                count += 1
    units = pieces[0].events.shape[0]
    return total / count if count else np.zeros((units, len(LAGS)))
