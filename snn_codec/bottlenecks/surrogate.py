"""Spike functions: an exact Heaviside step forward, a surrogate derivative backward.

Top-level classes so that modules holding them pickle.
"""

from __future__ import annotations

import torch
from torch import Tensor


class TriangleSpike(torch.autograd.Function):
    """H(x) = [x > 0] forward; H'(x) = max(0, 1 - |x|) backward (the Spiking Music paper's surrogate)."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        ctx.save_for_backward(x)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_output: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad_output * (1.0 - x.abs()).clamp_min(0.0)


def triangle_spike(x: Tensor) -> Tensor:
    return TriangleSpike.apply(x)
