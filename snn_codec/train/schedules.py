"""Schedules as pure functions of the step, so a resumed run continues exactly where it stopped."""

from __future__ import annotations

import math

from snn_codec.config import SparsityConfig


def sparsity_weight(step: int, config: SparsityConfig) -> float:
    """Weight of the sparsity loss: `start` until `delay_steps`, then linear to `end` over `ramp_steps`."""
    progress = min(max(step - config.delay_steps, 0) / max(config.ramp_steps, 1), 1.0)
    return config.start + (config.end - config.start) * progress


def learning_rate_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """Linear warm-up, then cosine decay to 10 % of the peak."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min((step - warmup_steps) / max(total_steps - warmup_steps, 1), 1.0)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))
