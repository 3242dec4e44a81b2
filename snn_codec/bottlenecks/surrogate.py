"""Spike functions: an exact Heaviside step forward, a surrogate derivative backward.

Every surrogate computes H(x) = [x > 0] exactly in the forward pass; they differ only in the
derivative used for the backward pass (`slope` sets its sharpness):

- "triangle"     (the Spiking Music paper's): H'(x) ~ slope * max(0, 1 - slope * |x|)
- "fast_sigmoid" (SuperSpike, Zenke & Ganguli 2018): H'(x) ~ 1 / (1 + slope * |x|)^2
- "arctan"       (snnTorch's default): H'(x) ~ (slope / 2) / (1 + (pi * slope * x / 2)^2)

Top-level classes so that modules holding them pickle.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

from snn_codec.errors import ConfigError


class _HeavisideSpike(torch.autograd.Function):
    """H(x) = [x > 0] forward; subclasses give the surrogate derivative used backward."""

    @staticmethod
    def forward(ctx, x: Tensor, slope: float = 1.0) -> Tensor:
        ctx.save_for_backward(x)
        ctx.slope = slope
        return (x > 0).to(x.dtype)


class TriangleSpike(_HeavisideSpike):
    """H'(x) = slope * max(0, 1 - slope * |x|) (the Spiking Music paper's surrogate at slope 1)."""

    @staticmethod
    def backward(ctx, grad_output: Tensor) -> tuple[Tensor, None]:
        (x,) = ctx.saved_tensors
        return grad_output * (1.0 - (x * ctx.slope).abs()).clamp_min(0.0) * ctx.slope, None


class FastSigmoidSpike(_HeavisideSpike):
    """H'(x) = 1 / (1 + slope * |x|)^2."""

    @staticmethod
    def backward(ctx, grad_output: Tensor) -> tuple[Tensor, None]:
        (x,) = ctx.saved_tensors
        return grad_output / (1.0 + ctx.slope * x.abs()).pow(2), None


class ArctanSpike(_HeavisideSpike):
    """H'(x) = (slope / 2) / (1 + (pi * slope * x / 2)^2); `arctan_spike` defaults to slope 2."""

    @staticmethod
    def backward(ctx, grad_output: Tensor) -> tuple[Tensor, None]:
        (x,) = ctx.saved_tensors
        slope = ctx.slope
        return grad_output * (slope / 2) / (1.0 + (math.pi * slope / 2 * x).pow(2)), None


def triangle_spike(x: Tensor, slope: float = 1.0) -> Tensor:
    return TriangleSpike.apply(x, slope)


def fast_sigmoid_spike(x: Tensor, slope: float = 1.0) -> Tensor:
    return FastSigmoidSpike.apply(x, slope)


def arctan_spike(x: Tensor, slope: float = 2.0) -> Tensor:
    return ArctanSpike.apply(x, slope)


# name -> f(x, slope=default): each default gives a peak derivative of 1 at the threshold
SURROGATES: dict[str, Callable[..., Tensor]] = {
    "triangle": triangle_spike,
    "fast_sigmoid": fast_sigmoid_spike,
    "arctan": arctan_spike,
}


def check_surrogate(name: str) -> str:
    """Returns `name` if it is a known surrogate; raises ConfigError listing the choices otherwise."""
    if name not in SURROGATES:
        raise ConfigError(f"unknown surrogate {name!r}; choose from {sorted(SURROGATES)}")
    return name


def spike(x: Tensor, surrogate: str = "triangle", slope: float | None = None) -> Tensor:
    """Exact Heaviside step [x > 0] whose gradient is the named surrogate's.

    Args:
        x: membrane potential minus threshold, any shape.
        surrogate: one of SURROGATES.
        slope: sharpness of the surrogate derivative; None uses the surrogate's default.

    Returns:
        0.0 / 1.0 tensor of x's shape and dtype.
    """
    fn = SURROGATES[check_surrogate(surrogate)]
    return fn(x) if slope is None else fn(x, slope)


class SurrogateSpike:
    """A picklable `spike(x)` callable bound to one surrogate: what snnTorch takes as `spike_grad`.

    Args:
        surrogate: one of SURROGATES.
        slope: sharpness of the surrogate derivative; None uses the surrogate's default.
    """

    def __init__(self, surrogate: str = "triangle", slope: float | None = None):
        self.surrogate = check_surrogate(surrogate)
        self.slope = slope

    def __call__(self, x: Tensor) -> Tensor:
        return spike(x, self.surrogate, self.slope)

    def __repr__(self) -> str:
        return f"SurrogateSpike({self.surrogate!r}, slope={self.slope})"
