"""Schedules as pure functions of the step (or of the last measurement), so a resumed run continues exactly
where it stopped."""

from __future__ import annotations

import math

from snn_codec.config import RateControlConfig, SparsityConfig


def sparsity_weight(step: int, config: SparsityConfig) -> float:
    """Weight of the sparsity loss: `start` until `delay_steps`, then up to `end` over `ramp_steps`,
    linearly or in stairs of `stair_steps`."""
    elapsed = max(step - config.delay_steps, 0)
    if config.stair_steps > 0:
        elapsed = elapsed // config.stair_steps * config.stair_steps
    progress = min(elapsed / max(config.ramp_steps, 1), 1.0)
    return config.start + (config.end - config.start) * progress


def rate_control_step(integral: float, rate_kbps: float, config: RateControlConfig) -> tuple[float, float]:
    """One probe's update of the sparsity weight: (integral, log weight) after measuring `rate_kbps`.

    The error is log(rate / target), symmetric in ratio. The rate follows the weight with a lag (the
    weight changes the rate's drift, not the rate), so a pure integral update overshoots and swings; the
    proportional term damps that. log(weight) = integral + `proportional` * error, the integral moving by
    `gain` * error per probe; both stay within [min_weight, max_weight].
    """
    error = math.log(max(rate_kbps, 1e-3 * config.target_kbps) / config.target_kbps)
    low, high = math.log(config.min_weight), math.log(config.max_weight)
    integral = min(max(integral + config.gain * error, low), high)
    return integral, min(max(integral + config.proportional * error, low), high)


def learning_rate_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """Linear warm-up, then cosine decay to 10 % of the peak."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min((step - warmup_steps) / max(total_steps - warmup_steps, 1), 1.0)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))
