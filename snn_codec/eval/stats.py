"""Statistics for comparisons over training seeds: Student-t confidence intervals, paired t-tests, exact
sign-flip tests and Holm's correction for many comparisons.

A benchmark trains each system with several seeds; a seed's score is its mean over the evaluation clips.
The interval of a system's score is over its seeds (the spread that retraining gives); two systems are
compared per seed (seed s of one against seed s of the other, which saw the same data order), and per
clip (each clip's score averaged over seeds), which asks whether the difference holds across the music.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from snn_codec.errors import ConfigError


@dataclass(frozen=True)
class Estimate:
    """A mean and its two-sided confidence interval (nan bounds with fewer than two values)."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


@dataclass(frozen=True)
class PairedComparison:
    """a - b over paired values: the mean difference, its interval, and two-sided p-values.

    `p_value` is the paired t-test's; `p_sign_flip` the exact sign-flip (permutation) test's, which assumes
    no normality but cannot go below 2 / 2**n (0.25 with 3 pairs).
    """

    difference: Estimate
    p_value: float
    p_sign_flip: float
    n: int


def _finite(values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    return array[np.isfinite(array)]


def confidence_interval(values: Sequence[float], level: float = 0.95) -> Estimate:
    """The mean of `values` (non-finite ones dropped) with its Student-t interval at `level`."""
    if not 0 < level < 1:
        raise ConfigError(f"level must be in (0, 1), got {level}")
    x = _finite(values)
    if x.size == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if x.size < 2:
        return Estimate(mean, math.nan, math.nan, 1)
    half = float(stats.t.ppf((1 + level) / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return Estimate(mean, mean - half, mean + half, int(x.size))


def sign_flip_p(differences: Sequence[float]) -> float:
    """Exact two-sided p-value of the paired differences' mean under random signs (all 2**n sign patterns
    for n <= 16; otherwise 2**16 random patterns from a fixed seed)."""
    d = _finite(differences)
    if d.size == 0:
        return math.nan
    observed = abs(d.mean())
    if d.size <= 16:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=d.size)))
    else:
        signs = np.random.default_rng(0).choice((1.0, -1.0), size=(2**16, d.size))
    means = np.abs(signs @ d) / d.size
    return float(np.mean(means >= observed - 1e-12 * max(observed, 1.0)))


def paired_comparison(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> PairedComparison:
    """Compares paired values a[i] and b[i] (pairs where either is not finite are dropped)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ConfigError(f"paired values need the same shape, got {a.shape} and {b.shape}")
    keep = np.isfinite(a) & np.isfinite(b)
    d = a[keep] - b[keep]
    difference = confidence_interval(d, level)
    if d.size < 2:
        p = math.nan
    elif np.all(d == d[0]):  # no spread: the t statistic is infinite unless the difference is 0
        p = 1.0 if d[0] == 0 else 0.0
    else:
        p = float(stats.ttest_1samp(d, 0.0).pvalue)
    return PairedComparison(difference, p, sign_flip_p(d), int(d.size))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (same order; nan stays nan): compare each with the level itself."""
    p = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full_like(p, math.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p[index]))
        adjusted[index] = running
    return adjusted.tolist()
