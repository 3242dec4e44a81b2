"""The quantised threshold bottleneck in integers: what a neuromorphic chip holds, and an emulation of it.

A chip holds integer weights Q (N, C) and one integer threshold per unit; the host turns the encoder's
float latent into fixed-point integers X (C, T) and sends them in. A unit spikes in frame t when its
accumulated current A = Q X exceeds its threshold:

    X = clamp(round(latent * 2^input_frac_bits), -2^(a-1), 2^(a-1) - 1)        (host, a = input_bits)
    S[n, t] = sum_c Q[n, c] X[c, t] > threshold[n]                             (chip, int64 here)

`IntegerThreshold.events` computes this with numpy integers only (after the host's rounding); it equals
the quantised model's own float path (`ThresholdBottleneck` with `weight_bits` and `input_bits`) bit for
bit (see fixed_point.py for why). `save_integer` writes the integers to a .safetensors file for a
hardware toolchain; no pickle.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from snn_codec.bottlenecks.fixed_point import input_limits
from snn_codec.errors import CodecError

FORMAT = "snn_codec.integer_threshold"


@dataclass(frozen=True)
class IntegerThreshold:
    """A threshold bottleneck as integers.

    Attributes:
        weights: (N, C) integers of `weight_bits` bits (int8 up to 8 bits, int16 above).
        thresholds: (N,) int64: unit n spikes when its accumulator exceeds thresholds[n].
        current_scales: (N,) float32: the input current (BatchNorm units) of one accumulator step, d_w d_x;
            for reading accumulators as currents, never needed to spike.
        weight_bits, input_bits, input_frac_bits: the precision (fixed_point.Precision).
    """

    weights: np.ndarray
    thresholds: np.ndarray
    current_scales: np.ndarray
    weight_bits: int
    input_bits: int
    input_frac_bits: int

    @property
    def units(self) -> int:
        return self.weights.shape[0]

    @property
    def channels(self) -> int:
        return self.weights.shape[1]

    @property
    def accumulator_bits(self) -> int:
        """Signed bits that hold every accumulator value the inputs can produce, and every threshold."""
        low, high = input_limits(self.input_bits)
        reach = np.abs(self.weights.astype(np.int64)).sum(axis=1).max(initial=0) * max(-low, high)
        largest = max(int(reach), int(np.abs(self.thresholds).max(initial=0)))
        return largest.bit_length() + 1

    def input_integers(self, latent: np.ndarray) -> np.ndarray:
        """The host's step: float latent (C, T) -> fixed-point integers (C, T) int64."""
        low, high = input_limits(self.input_bits)
        scaled = np.asarray(latent, dtype=np.float32) * np.float32(2.0 ** self.input_frac_bits)  # exact
        return np.clip(np.rint(scaled), low, high).astype(np.int64)

    def accumulators(self, inputs: np.ndarray) -> np.ndarray:
        """Integer inputs (C, T) -> accumulated currents (N, T) int64."""
        return self.weights.astype(np.int64) @ np.asarray(inputs, dtype=np.int64)

    def spikes(self, inputs: np.ndarray) -> np.ndarray:
        """Integer inputs (C, T) -> spikes (N, T) bool."""
        return self.accumulators(inputs) > self.thresholds[:, None]

    def events(self, latent: np.ndarray) -> np.ndarray:
        """Float latent (C, T) -> spikes (N, T) bool: the host's rounding, then integers only."""
        return self.spikes(self.input_integers(latent))


@torch.no_grad()
def integer_threshold(bottleneck) -> IntegerThreshold:
    """The integers of a quantised `ThresholdBottleneck` (weight_bits and input_bits set), in eval mode.

    Raises:
        CodecError: the bottleneck is not a threshold bottleneck with integer weights and inputs.
    """
    from snn_codec.bottlenecks.threshold import ThresholdBottleneck

    if not isinstance(bottleneck, ThresholdBottleneck):
        raise CodecError(f"integer emulation covers the threshold bottleneck; got {type(bottleneck).__name__}")
    precision = bottleneck.quantization
    if not precision.is_integer:
        raise CodecError(f"the bottleneck runs at {precision.describe()}: integer emulation needs weight_bits and "
                         "input_bits (quantise the model with snn_codec.quantization.quantize_model)")
    quantized = bottleneck.quantized()
    thresholds = torch.floor(quantized.thresholds)
    if not bool(torch.isfinite(thresholds).all()) or float(thresholds.abs().max()) >= 2.0 ** 62:
        raise CodecError("a unit's threshold does not fit in 63 bits (a unit whose weights are all zero?)")
    dtype = np.int8 if precision.weight_bits <= 8 else np.int16
    return IntegerThreshold(
        weights=quantized.weights.numpy().astype(dtype),
        thresholds=thresholds.numpy().astype(np.int64),
        current_scales=quantized.current_scales.numpy().astype(np.float32),
        weight_bits=precision.weight_bits, input_bits=precision.input_bits,
        input_frac_bits=precision.input_frac_bits,
    )


def save_integer(layer: IntegerThreshold, path: str | os.PathLike) -> Path:
    """Writes the integers to `path` (.safetensors): weights, thresholds, current_scales; bits in metadata."""
    path = Path(path).with_suffix(".safetensors")
    bits = {"weight_bits": layer.weight_bits, "input_bits": layer.input_bits,
            "input_frac_bits": layer.input_frac_bits}
    tensors = {"weights": layer.weights, "thresholds": layer.thresholds, "current_scales": layer.current_scales}
    save_file(tensors, str(path), metadata={"format": FORMAT, "precision": json.dumps(bits)})
    return path


def load_integer(path: str | os.PathLike) -> IntegerThreshold:
    """Reads a file written by `save_integer`.

    Raises:
        CodecError: not such a file, or its tensors do not fit together.
    """
    try:
        with safe_open(str(path), framework="np") as handle:
            metadata = handle.metadata() or {}
            tensors = {name: handle.get_tensor(name) for name in handle.keys()}
        bits = json.loads(metadata.get("precision", "null"))
    except (SafetensorError, OSError, ValueError) as err:
        raise CodecError(f"{path}: not a readable integer bottleneck file: {err}") from None
    if metadata.get("format") != FORMAT or not isinstance(bits, dict) or set(tensors) != {
            "weights", "thresholds", "current_scales"}:
        raise CodecError(f"{path}: not an integer bottleneck file (written by snn_codec save_integer)")
    layer = IntegerThreshold(tensors["weights"], tensors["thresholds"], tensors["current_scales"], **bits)
    if layer.weights.ndim != 2 or layer.thresholds.shape != (layer.units,) or layer.current_scales.shape != (
            layer.units,) or int(np.abs(layer.weights).max(initial=0)) > 2 ** (layer.weight_bits - 1) - 1:
        raise CodecError(f"{path}: its weights, thresholds and scales do not fit together")
    return layer

