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


def rate_control_step(log_weight: float, rate_kbps: float, config: RateControlConfig) -> float:
    """One dual update of log(sparsity weight): up when the measured rate is above the target, down below.

    The step is `gain * log(rate / target)`, so it is symmetric in ratio and small near the target.
    """
    ratio = max(rate_kbps, 1e-3 * config.target_kbps) / config.target_kbps
    updated = log_weight + config.gain * math.log(ratio)
    return min(max(updated, math.log(config.min_weight)), math.log(config.max_weight))


def learning_rate_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """Linear warm-up, then cosine decay to 10 % of the peak."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min((step - warmup_steps) / max(total_steps - warmup_steps, 1), 1.0)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))
