"""Integer weights and fixed-point inputs for a spiking bottleneck's input projection.

A spiking bottleneck's input current is I = BN(W x + b) (Conv1x1, then BatchNorm). With BatchNorm's
running statistics (mean mu, variance var, scale gamma, shift beta) it folds into one affine map:

    s = gamma / sqrt(var + eps)        W' = s * W (per unit n: row n times s[n])        c = s * (b - mu) + beta
    I = W' x + c

Quantised, with `weight_bits` = k and `input_bits` = a:

    weight scale      d_w[n] = max_c |W'[n, c]| / (2^(k-1) - 1)        (symmetric, one per unit)
    integer weights   Q[n, c] = round(W'[n, c] / d_w[n])                in [-(2^(k-1) - 1), 2^(k-1) - 1]
    input step        d_x = 2^-input_frac_bits                           (fixed point, one per layer)
    integer inputs    X[c, t] = clamp(round(x[c, t] / d_x), -2^(a-1), 2^(a-1) - 1)
    accumulator       A[n, t] = sum_c Q[n, c] X[c, t]                    (an integer)
    current           I[n, t] = d_w[n] d_x (A[n, t] - theta[n]),         theta[n] = -c[n] / (d_w[n] d_x)

so the threshold neuron's spike I > 0 is the integer compare A > floor(theta) (A is an integer). The float
path below computes A exactly: integer-valued operands summed in float64, exact below 2^53. Rounding is
half to even (torch.round and numpy.rint agree). Training rounds with straight-through gradients.
With `input_bits` = 0 the latent stays float (weights alone are quantised): no integer compare then.

BatchNorm of a quantised bottleneck always uses its running statistics, in training too, so that what
trains is what the integers compute; the statistics stay where the model it was initialised from left them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from snn_codec.errors import CodecError, ConfigError

WEIGHT_BITS = range(2, 17)  # 2 bits: weights in {-1, 0, 1}
INPUT_BITS = range(2, 25)
EXACT_LIMIT = 2 ** 53  # float64 integers are exact below this
FRAC_BITS = range(-32, 33)


@dataclass(frozen=True)
class Precision:
    """How the input projection is quantised; all zero is float32 (no quantisation).

    Args:
        weight_bits: signed integer weights, symmetric per unit, after folding BatchNorm; 0 for float.
        input_bits: signed fixed-point latent entering the synapses; 0 leaves it float.
        input_frac_bits: the latent's fixed-point step is 2^-input_frac_bits (negative for steps above 1).
    """

    weight_bits: int = 0
    input_bits: int = 0
    input_frac_bits: int = 0

    def __post_init__(self) -> None:
        for name in ("weight_bits", "input_bits", "input_frac_bits"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigError(f"bottleneck option {name} must be an integer, got {value!r}")
        if self.weight_bits and self.weight_bits not in WEIGHT_BITS:
            raise ConfigError(f"weight_bits must be 0 (float) or {WEIGHT_BITS.start}..{WEIGHT_BITS.stop - 1}, "
                              f"got {self.weight_bits}")
        if self.input_bits and self.input_bits not in INPUT_BITS:
            raise ConfigError(f"input_bits must be 0 (float) or {INPUT_BITS.start}..{INPUT_BITS.stop - 1}, "
                              f"got {self.input_bits}")
        if self.input_frac_bits not in FRAC_BITS:
            raise ConfigError(f"input_frac_bits must lie in {FRAC_BITS.start}..{FRAC_BITS.stop - 1}, "
                              f"got {self.input_frac_bits}")
        if self.input_bits and not self.weight_bits:
            raise ConfigError("input_bits quantises the latent for integer weights: set weight_bits too")
        if self.input_frac_bits and not self.input_bits:
            raise ConfigError("input_frac_bits sets the step of a fixed-point latent: set input_bits too")

    @property
    def is_quantized(self) -> bool:
        return self.weight_bits > 0

    @property
    def is_integer(self) -> bool:
        """Whether the input current is an integer accumulation (weights and inputs quantised)."""
        return self.weight_bits > 0 and self.input_bits > 0

    @property
    def input_step(self) -> float:
        """The latent's fixed-point step d_x (exact: a power of two)."""
        return 2.0 ** -self.input_frac_bits

    def as_tensor(self) -> Tensor:
        return torch.tensor([self.weight_bits, self.input_bits, self.input_frac_bits], dtype=torch.int64)

    def describe(self) -> str:
        if not self.is_quantized:
            return "float32"
        latent = (f"{self.input_bits}-bit inputs (step 2^{-self.input_frac_bits})" if self.input_bits
                  else "float inputs")
        return f"{self.weight_bits}-bit weights, {latent}"


def weight_limit(bits: int) -> int:
    """The largest integer weight at `bits` (symmetric: -limit..limit)."""
    return 2 ** (bits - 1) - 1


def input_limits(bits: int) -> tuple[int, int]:
    """The range of a signed `bits`-bit input (two's complement)."""
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def round_ste(x: Tensor) -> Tensor:
    """round(x) (half to even) forward, identity backward (straight-through)."""
    return x + (torch.round(x) - x).detach()


def fold_batchnorm(project: nn.Conv1d, norm: nn.BatchNorm1d) -> tuple[Tensor, Tensor]:
    """BN(Conv1x1(x)) with BN's running statistics as one affine map: (W' (N, C), c (N,)), I = W' x + c."""
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)  # (N,)
    bias = project.bias if project.bias is not None else torch.zeros_like(norm.running_mean)
    return scale[:, None] * project.weight[..., 0], scale * (bias - norm.running_mean) + norm.bias


def unit_scales(weight: Tensor, bits: int) -> Tensor:
    """Symmetric per-unit scales d_w (N,) of a (N, C) weight: the largest |weight| of a row maps to the
    largest integer; an all-zero row gets 1. Detached: training moves the weights, the scales follow."""
    largest = weight.detach().abs().amax(dim=1)
    return torch.where(largest > 0, largest / weight_limit(bits), torch.ones_like(largest))


def integer_weights(weight: Tensor, scales: Tensor, bits: int) -> Tensor:
    """round(weight / scale) per row, as integer-valued floats with a straight-through gradient."""
    limit = weight_limit(bits)
    return round_ste(weight / scales[:, None]).clamp(-limit, limit)


def integer_inputs(latent: Tensor, precision: Precision) -> Tensor:
    """The latent as integer-valued floats: clamp(round(x / d_x)); straight-through inside the range."""
    low, high = input_limits(precision.input_bits)
    return round_ste(latent * 2.0 ** precision.input_frac_bits).clamp(low, high)


@dataclass
class QuantizedProjection:
    """The quantised input projection of a bottleneck, its tensors as the float path uses them.

    `weights` and `thresholds` carry gradients to the float parameters (straight-through rounding);
    `current_scales` (d_w d_x, or d_w for float inputs) are detached.
    """

    weights: Tensor  # (N, C) integer-valued
    thresholds: Tensor  # (N,) theta = -c / current_scales, real-valued: spike when the accumulator exceeds it
    current_scales: Tensor  # (N,) the current of one accumulator step
    precision: Precision


def quantize_projection(project: nn.Conv1d, norm: nn.BatchNorm1d, precision: Precision) -> QuantizedProjection:
    """Folds BatchNorm (running statistics) into the projection and quantises it (see the module docstring)."""
    if not precision.is_quantized:
        raise CodecError("quantize_projection needs a precision with weight_bits > 0")
    if precision.is_integer and weight_limit(precision.weight_bits) * 2 ** (precision.input_bits - 1) * \
            project.in_channels >= EXACT_LIMIT:
        raise ConfigError(f"{precision.describe()} over {project.in_channels} channels can reach 2^53, past "
                          "what the float path sums exactly: use fewer bits")
    weight, bias = fold_batchnorm(project, norm)
    scales = unit_scales(weight, precision.weight_bits)
    current_scales = scales * precision.input_step if precision.input_bits else scales
    return QuantizedProjection(integer_weights(weight, scales, precision.weight_bits), -bias / current_scales,
                               current_scales, precision)


def accumulate(quantized: QuantizedProjection, latent: Tensor) -> Tensor:
    """latent (B, C, T) -> accumulator A = Q X (B, N, T) in float64, autocast off: integer-valued operands
    make every partial sum exact, in any order (with a float latent it is only a float64 product)."""
    precision = quantized.precision
    x = integer_inputs(latent, precision) if precision.input_bits else latent
    with torch.autocast(latent.device.type, enabled=False):
        return torch.einsum("nc,bct->bnt", quantized.weights.double(), x.double())


def exact_current(quantized: QuantizedProjection, latent: Tensor) -> Tensor:
    """latent (B, C, T) -> input current (B, N, T) in float64, d (A - theta): its sign is exactly
    [A > theta], so spikes taken from it are the integers' spikes bit for bit."""
    accumulator = accumulate(quantized, latent)
    with torch.autocast(latent.device.type, enabled=False):
        return (accumulator - quantized.thresholds.double()[:, None]) * quantized.current_scales.double()[:, None]


def quantized_current(quantized: QuantizedProjection, latent: Tensor) -> Tensor:
    """`exact_current` in latent's dtype (a current of a few ulps could round to 0: take spikes from
    `exact_current`)."""
    return exact_current(quantized, latent).to(latent.dtype)


class QuantizedInput:
    """What a spiking bottleneck (a SpikingBottleneck subclass listing this class first) needs to run its
    input projection quantised: `quantization`, the `precision` buffer that stores it with the weights
    (so the weight hash, which names the model in compressed files, tells a quantised model from its float
    original), and a check that weights load only into a model of the precision they were stored with."""

    quantization: Precision

    def init_quantization(self, precision: Precision, extra: tuple[int, ...] = ()) -> None:
        """Call from __init__ after the projection exists; `extra`: further stored settings (a neuron's own)."""
        self.quantization = precision
        if precision.is_quantized:
            self.register_buffer("precision", torch.tensor([*precision.as_tensor().tolist(), *extra]))

    def quantized(self) -> QuantizedProjection:
        """The projection as integers see it (BatchNorm folded with its running statistics)."""
        return quantize_projection(self.project, self.norm, self.quantization)

    def _load_from_state_dict(self, state_dict, prefix, *args) -> None:
        stored = state_dict.get(prefix + "precision")
        expected = getattr(self, "precision", torch.zeros(0, dtype=torch.int64))
        if stored is not None and not (stored.shape == expected.shape and torch.equal(stored.cpu().long(), expected)):
            raise CodecError(f"the weights were quantised at (weight_bits, input_bits, input_frac_bits, ...) = "
                             f"{tuple(stored.tolist())}, but the config says {self.quantization.describe()} "
                             f"{tuple(expected.tolist())}; use the config saved with the weights")
        super()._load_from_state_dict(state_dict, prefix, *args)
