"""Confidence intervals, paired tests and Holm's correction on numbers whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from snn_codec.errors import ConfigError
from snn_codec.eval.stats import confidence_interval, holm, paired_comparison, sign_flip_p


def test_confidence_interval_of_three_seeds_by_hand():
    """Mean 2, standard deviation 1, n = 3: half width t(0.975, 2) / sqrt(3) = 4.302653 / 1.732051."""
    estimate = confidence_interval([1.0, 2.0, 3.0])
    assert estimate.mean == 2.0 and estimate.n == 3
    assert estimate.half_width == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert estimate.low == pytest.approx(2.0 - estimate.half_width)


def test_confidence_interval_edge_cases():
    one = confidence_interval([5.0])
    assert one.mean == 5.0 and math.isnan(one.low) and one.n == 1
    assert confidence_interval([]).n == 0 and math.isnan(confidence_interval([]).mean)
    assert confidence_interval([1.0, math.nan, 3.0]).n == 2  # non-finite values are dropped
    with pytest.raises(ConfigError):
        confidence_interval([1.0, 2.0], level=1.5)


def test_the_interval_covers_the_true_mean_at_its_level():
    rng = np.random.default_rng(0)
    covered = [(e.low <= 0 <= e.high) for e in (confidence_interval(rng.normal(0, 1, 3)) for _ in range(4000))]
    assert np.mean(covered) == pytest.approx(0.95, abs=0.015)


def test_paired_comparison_by_hand():
    """Differences 1, 2, 3: t = 2 / (1 / sqrt 3) = 3.4641 with 2 degrees of freedom, p = 0.0742."""
    result = paired_comparison([11.0, 12.0, 13.0], [10.0, 10.0, 10.0])
    assert result.difference.mean == 2.0 and result.n == 3
    assert result.p_value == pytest.approx(0.07418, abs=2e-5)
    assert result.p_sign_flip == 0.25  # all three positive: 2 of the 8 sign patterns are as extreme


def test_pairing_removes_shared_seed_effects():
    rng = np.random.default_rng(1)
    seed_effect = rng.normal(0, 5, 10)  # large and shared by both systems
    a, b = seed_effect + 1.0 + rng.normal(0, 0.1, 10), seed_effect + rng.normal(0, 0.1, 10)
    result = paired_comparison(a, b)
    assert result.p_value < 1e-6 and result.difference.low > 0.8
    assert result.p_sign_flip == pytest.approx(2 / 2**10)


def test_paired_comparison_degenerate_and_mismatched():
    assert paired_comparison([1.0, 2.0], [1.0, 2.0]).p_value == 1.0
    assert paired_comparison([2.0, 3.0], [1.0, 2.0]).p_value == 0.0
    assert math.isnan(paired_comparison([1.0], [0.0]).p_value)
    assert paired_comparison([1.0, math.nan, 3.0, 4.0], [0.0, 0.0, 1.0, 1.5]).n == 3
    with pytest.raises(ConfigError):
        paired_comparison([1.0, 2.0], [1.0])


def test_sign_flip_is_symmetric_and_uniform_under_the_null():
    assert sign_flip_p([1.0, -1.0]) == 1.0
    rng = np.random.default_rng(2)
    p = np.array([sign_flip_p(rng.normal(0, 1, 8)) for _ in range(2000)])
    assert np.mean(p <= 0.05) <= 0.06


def test_holm_adjustment():
    """Sorted p 0.01, 0.02, 0.04 -> 3 x 0.01, 2 x 0.02, 1 x 0.04 (made monotone), in the input's order."""
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    adjusted = holm([math.nan, 0.01])
    assert math.isnan(adjusted[0]) and adjusted[1] == pytest.approx(0.01)
