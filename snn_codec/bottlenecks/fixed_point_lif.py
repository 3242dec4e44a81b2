"""A fixed-point leaky integrate-and-fire neuron: integer membrane, decay and threshold.

The quantised `snntorch_leaky` bottleneck (`weight_bits`, `input_bits`; fixed_point.py) keeps each unit's
membrane U as an integer in that unit's accumulator steps d = d_w d_x, as integer hardware would:

    I[t]    = A[t] + b                     A = Q X (fixed_point.py), b = round(c / d): the folded bias, an
                                           integer now, since it is added every frame
    theta   = round(threshold / d)         the threshold in accumulator steps
    beta_q  = round(beta * 2^D)            the per-frame decay with D = `decay_bits` fractional bits
    decay(u) = floor(beta_q * u / 2^D)     an arithmetic right shift
    U[t]    = clamp(decay(U'[t-1]) + I[t] - R[t], -2^(S-1), 2^(S-1) - 1)      S = `state_bits`
    spike   = U[t] > theta

with snnTorch's delayed reset (snntorch_neurons.py): the previous spike, U[t-1] > theta, gives "zero":
U' = 0 where it fired, R = 0; "subtract": U' = U, R = theta where it fired; "none": U' = U, R = 0.

`fixed_point_leaky` is the float path (integer-valued float64, straight-through rounding for training);
`IntegerLeaky` the same in numpy integers. They agree bit for bit: every value is an integer below 2^53.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from snn_codec.bottlenecks.fixed_point import EXACT_LIMIT, QuantizedProjection, accumulate, input_limits, round_ste
from snn_codec.errors import CodecError, ConfigError

DECAY_BITS = range(1, 25)
STATE_BITS = range(2, 33)


def check_state_precision(decay_bits: int, state_bits: int) -> None:
    for name, value, allowed in (("decay_bits", decay_bits, DECAY_BITS), ("state_bits", state_bits, STATE_BITS)):
        if not isinstance(value, int) or isinstance(value, bool) or value not in allowed:
            raise ConfigError(f"{name} must be an integer in {allowed.start}..{allowed.stop - 1}, got {value!r}")
    if 2 ** (decay_bits + state_bits) >= EXACT_LIMIT:
        raise ConfigError("decay_bits + state_bits must stay below 53 (the float path's exact integers)")


def floor_ste(x: Tensor) -> Tensor:
    """floor(x) forward, identity backward."""
    return x + (torch.floor(x) - x).detach()


@dataclass
class FixedPointLeaky:
    """The integer parameters of the neurons, as the float path uses them (gradients straight through)."""

    bias: Tensor  # (N,) integer-valued b
    threshold: Tensor  # (N,) integer-valued theta
    beta: Tensor  # (N,) integer-valued beta_q
    decay_bits: int
    state_bits: int
    reset: str


def fixed_point_parameters(quantized: QuantizedProjection, beta: Tensor, threshold: Tensor, reset: str,
                           decay_bits: int, state_bits: int) -> FixedPointLeaky:
    """Rounds a leaky neuron's parameters to integers in its units' accumulator steps (see the module docstring).

    Args:
        quantized: the unit's quantised projection; needs integer inputs (`input_bits`).
        beta, threshold: (N,) the float neuron's decay (clamped to [0, 1]) and threshold (current units).
    """
    if not quantized.precision.is_integer:
        raise CodecError("a fixed-point membrane needs integer currents: set input_bits as well as weight_bits")
    steps = quantized.current_scales
    return FixedPointLeaky(bias=round_ste(-quantized.thresholds), threshold=round_ste(threshold / steps),
                           beta=round_ste(beta.clamp(0, 1) * 2.0 ** decay_bits), decay_bits=decay_bits,
                           state_bits=state_bits, reset=reset)


def fixed_point_leaky(quantized: QuantizedProjection, neuron: FixedPointLeaky, latent: Tensor, mem: Tensor | None,
                      spike_fn) -> tuple[Tensor, Tensor]:
    """latent (B, C, T) -> spikes (B, N, T) in latent's dtype and the last membrane (B, N) (float64 integers).

    `spike_fn(x)` is the Heaviside step with its surrogate gradient, fed d (U - theta) so that gradients
    are in current units, as for the float neuron.
    """
    current = accumulate(quantized, latent) + neuron.bias.double()[:, None]  # (B, N, T)
    low, high = input_limits(neuron.state_bits)
    theta, beta = neuron.threshold.double(), neuron.beta.double()
    steps = quantized.current_scales.double()
    mem = current.new_zeros(current.shape[:2]) if mem is None else mem.double()
    spikes = []
    with torch.autocast(latent.device.type, enabled=False):
        for t in range(current.shape[-1]):
            fired = (mem > theta).double()
            if neuron.reset == "zero":
                mem = (1 - fired) * mem
            mem = floor_ste(beta * mem / 2.0 ** neuron.decay_bits) + current[..., t]
            if neuron.reset == "subtract":
                mem = mem - fired * theta
            mem = mem.clamp(low, high)
            spikes.append(spike_fn((mem - theta) * steps))
    return torch.stack(spikes, dim=-1).to(latent.dtype), mem


@dataclass(frozen=True)
class IntegerLeaky:
    """Fixed-point leaky neurons in integers (the module docstring's equations).

    Attributes:
        weights: (N, C) integer weights; bias, threshold, beta: (N,) int64.
    """

    weights: np.ndarray
    bias: np.ndarray
    threshold: np.ndarray
    beta: np.ndarray
    decay_bits: int
    state_bits: int
    reset: str
    input_bits: int
    input_frac_bits: int

    def input_integers(self, latent: np.ndarray) -> np.ndarray:
        """The host's step: float latent (C, T) -> fixed-point integers (C, T) int64."""
        low, high = input_limits(self.input_bits)
        scaled = np.asarray(latent, dtype=np.float32) * np.float32(2.0 ** self.input_frac_bits)  # exact
        return np.clip(np.rint(scaled), low, high).astype(np.int64)

    def run(self, inputs: np.ndarray, mem: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Integer inputs (C, T) -> spikes (N, T) bool and the last membrane (N,) int64 (`mem`: the state)."""
        current = self.weights.astype(np.int64) @ inputs + self.bias[:, None]
        low, high = input_limits(self.state_bits)
        mem = np.zeros(len(self.bias), np.int64) if mem is None else mem.astype(np.int64)
        spikes = np.zeros(current.shape, bool)
        for t in range(current.shape[1]):
            fired = mem > self.threshold
            if self.reset == "zero":
                mem = np.where(fired, 0, mem)
            mem = ((self.beta * mem) >> self.decay_bits) + current[:, t]  # >> on int64 is floor division
            if self.reset == "subtract":
                mem = mem - np.where(fired, self.threshold, 0)
            mem = np.clip(mem, low, high)
            spikes[:, t] = mem > self.threshold
        return spikes, mem

    def events(self, latent: np.ndarray, mem: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Float latent (C, T) -> spikes (N, T) and the last membrane: the host's rounding, then integers."""
        return self.run(self.input_integers(latent), mem)


@torch.no_grad()
def integer_leaky(bottleneck) -> IntegerLeaky:
    """The integers of a quantised `SnnTorchLeaky` (weight_bits and input_bits set).

    Raises:
        CodecError: the neuron is not quantised, or a value leaves the float path's exact integers.
    """
    if not bottleneck.quantization.is_integer:
        raise CodecError("integer emulation needs weight_bits and input_bits")
    quantized = bottleneck.quantized()
    neuron = fixed_point_parameters(quantized, bottleneck.neuron.beta, bottleneck.neuron.threshold,
                                    bottleneck.reset, bottleneck.decay_bits, bottleneck.state_bits)
    if max(float(neuron.bias.abs().max()), float(neuron.threshold.abs().max())) >= EXACT_LIMIT / 4:
        raise CodecError("a unit's bias or threshold is too large for exact integers (a unit whose weights are "
                         "all zero?)")
    precision = quantized.precision
    return IntegerLeaky(
        weights=quantized.weights.numpy().astype(np.int8 if precision.weight_bits <= 8 else np.int16),
        bias=neuron.bias.numpy().astype(np.int64), threshold=neuron.threshold.numpy().astype(np.int64),
        beta=neuron.beta.numpy().astype(np.int64), decay_bits=neuron.decay_bits, state_bits=neuron.state_bits,
        reset=neuron.reset, input_bits=precision.input_bits, input_frac_bits=precision.input_frac_bits,
    )
