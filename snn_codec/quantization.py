"""Quantising a trained model's spiking part for integer hardware, after training (post-training
quantisation); quantisation-aware fine-tuning is the same model config trained with `init_from`.

A quantised model is an ordinary model: its config's bottleneck carries `weight_bits` (and `input_bits`,
`input_frac_bits`), it saves, loads, compresses, decompresses and trains like any other, and its weights
are the float model's (the integers are derived from them; see snn_codec/bottlenecks/fixed_point.py).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from snn_codec.bottlenecks.fixed_point import FRAC_BITS, Precision, weight_limit
from snn_codec.bottlenecks.fixed_point_lif import IntegerLeaky, integer_leaky
from snn_codec.bottlenecks.integer import IntegerThreshold, integer_threshold
from snn_codec.codec import Codec
from snn_codec.errors import CodecError

QUANTIZABLE = ("threshold", "snntorch_leaky")  # kinds whose options include weight_bits
PRECISION_OPTIONS = ("weight_bits", "input_bits", "input_frac_bits", "decay_bits", "state_bits")


def quantized_codec(codec: Codec, weight_bits: int, input_bits: int = 0, input_frac_bits: int = 0,
                    name: str | None = None, **neuron_bits: int) -> Codec:
    """A copy of a threshold or snntorch_leaky model whose bottleneck runs at the given precision (same
    float tensors).

    Args:
        codec: a model with a bottleneck of a QUANTIZABLE kind (float or already quantised).
        weight_bits, input_bits, input_frac_bits: see fixed_point.Precision.
        name: the new model's name (default: the old one with `-w8`, `-w8i8`, ... appended).
        neuron_bits: a leaky neuron's `decay_bits` and `state_bits` (fixed_point_lif.py), if not the defaults.

    Raises:
        CodecError: another bottleneck kind; ConfigError: an impossible precision.
    """
    kind = codec.config.bottleneck["kind"]
    if kind not in QUANTIZABLE:
        raise CodecError(f"{codec.config.name}: quantisation covers the {' and '.join(QUANTIZABLE)} bottlenecks, "
                         f"not {kind!r}")
    precision = Precision(weight_bits, input_bits, input_frac_bits)
    options = {k: v for k, v in codec.config.bottleneck.items() if k not in PRECISION_OPTIONS}
    if precision.is_quantized:
        options |= {"weight_bits": weight_bits}
        options |= {"input_bits": input_bits, "input_frac_bits": input_frac_bits} if input_bits else {}
        options |= neuron_bits
    suffix = f"-w{weight_bits}" + (f"i{input_bits}" if input_bits else "") if precision.is_quantized else "-float"
    config = replace(codec.config, name=name or base_name(codec.config.name) + suffix, bottleneck=options)
    quantized = Codec(config)
    state = {k: v for k, v in codec.state_dict().items() if k != "bottleneck.precision"}
    if precision.is_quantized:
        state["bottleneck.precision"] = quantized.bottleneck.precision
    quantized.load_state_dict(state)
    return quantized.train(codec.training)


def base_name(name: str) -> str:
    """A model name without a precision suffix that `quantized_codec` appended."""
    head, _, tail = name.rpartition("-")
    is_suffix = tail == "float" or tail.startswith("w") and tail[1:].replace("i", "", 1).isdigit()
    return head if head and is_suffix else name


@torch.no_grad()
def latent_peak(codec: Codec, audio: Sequence[Tensor]) -> float:
    """The largest |latent| the encoder gives on (B, 1, S) batches of audio at the model's rate (eval mode)."""
    return max(float(latent.abs().max()) for latent in _latents(codec, audio))


def _latents(codec: Codec, audio: Sequence[Tensor]) -> list[Tensor]:
    training = codec.training
    codec.eval()
    try:
        with torch.no_grad():
            return [codec.encoder(batch) for batch in audio]
    finally:
        codec.train(training)


def input_frac_bits_for(peak: float, input_bits: int) -> int:
    """The finest power-of-two step 2^-f at which `input_bits` signed integers still reach `peak`:
    the largest f with (2^(input_bits-1) - 1) * 2^-f >= peak."""
    if not peak > 0:
        return 0
    fraction = math.floor(math.log2(weight_limit(input_bits) / peak))
    return min(max(fraction, FRAC_BITS.start), FRAC_BITS.stop - 1)


@dataclass(frozen=True)
class Calibration:
    """The fixed-point step chosen for the latent, and what it costs on the calibration audio."""

    input_frac_bits: int
    latent_peak: float  # the largest |latent|
    events_changed: float  # the fraction of events that differ from the float model's


@torch.no_grad()
def calibrate_input_frac_bits(codec: Codec, audio: Sequence[Tensor], weight_bits: int, input_bits: int,
                              finer_steps: int = 8) -> Calibration:
    """The latent's fixed-point step at which the quantised model's events differ least from the float
    model's on `audio` ((B, 1, S) batches at the model's rate).

    The steps tried are powers of two, from the finest that reaches the largest latent (no saturation) to
    `finer_steps` halvings below it: latents are heavy-tailed, so at few bits a step that lets the rare
    peaks saturate keeps the common values apart and changes fewer events. Ties go to the wider range.
    """
    latents = _latents(codec, audio)
    reference = quantized_codec(codec, 0).eval().bottleneck
    expected = [reference(latent).events for latent in latents]
    peak = max(float(latent.abs().max()) for latent in latents)
    widest = input_frac_bits_for(peak, input_bits)
    best = None
    for frac_bits in range(widest, min(widest + finer_steps, FRAC_BITS.stop - 1) + 1):
        bottleneck = quantized_codec(codec, weight_bits, input_bits, frac_bits).eval().bottleneck
        changed = sum(int((bottleneck(latent).events != events).sum()) for latent, events in zip(latents, expected))
        fraction = changed / sum(events.numel() for events in expected)
        if best is None or fraction < best.events_changed:
            best = Calibration(frac_bits, peak, fraction)
    return best


def calibration_audio(codec: Codec, data: str | None = None, crops: int = 8, seconds: float = 4.0) -> list[Tensor]:
    """Audio to calibrate the latent's range on: a data spec's validation crops, or the bundled example."""
    if data:
        from snn_codec.rate import validation_probe

        return validation_probe(data, codec.config.sample_rate, codec.config.hop_length, crops=crops, seconds=seconds)
    from snn_codec.audio import load_audio, resample, to_mono
    from snn_codec.demo import EXAMPLE

    audio = load_audio(EXAMPLE)
    samples = resample(to_mono(audio.samples), audio.sample_rate, codec.config.sample_rate)[0]
    samples = samples[: len(samples) // codec.hop_length * codec.hop_length]
    return [torch.from_numpy(np.ascontiguousarray(samples)).view(1, 1, -1)]


@dataclass(frozen=True)
class Quantization:
    """What `quantize_model` did."""

    path: Path
    name: str
    precision: Precision
    calibration: Calibration | None  # None when the latent stays float

    def describe(self) -> str:
        """One line for people: what was written, and what the calibration found."""
        line = f"{self.name}: {self.precision.describe()}, written to {self.path}"
        if self.calibration:
            line += (f"; latent peak {self.calibration.latent_peak:.4g}, "
                     f"{self.calibration.events_changed:.2%} of the calibration audio's events changed")
        return line


def quantize_model(model: str | os.PathLike | Codec, out: str | os.PathLike, weight_bits: int, input_bits: int = 8,
                   *, data: str | None = None, crops: int = 8, seconds: float = 4.0, name: str | None = None,
                   force: bool = False) -> Quantization:
    """Post-training quantisation: writes `model` at `weight_bits` integer weights and `input_bits` fixed-point
    inputs to `out` (.safetensors and .yaml), an ordinary model. No training.

    The inputs' fixed-point step is the power of two at which the events differ least from the float
    model's on the calibration audio (`data`'s validation crops, or the bundled example; see
    `calibrate_input_frac_bits`). `input_bits` = 0 quantises the weights alone (no integer compare then).
    """
    from snn_codec.model_io import load_model, save_model

    target = Path(out).with_suffix(".safetensors")
    if target.exists() and not force:
        raise CodecError(f"{target} exists; pass --force to overwrite it")
    codec = model if isinstance(model, Codec) else load_model(model)
    calibration = None
    if input_bits:
        audio = calibration_audio(codec, data, crops, seconds)
        calibration = calibrate_input_frac_bits(codec, audio, weight_bits, input_bits)
    frac_bits = calibration.input_frac_bits if calibration else 0
    quantized = quantized_codec(codec, weight_bits, input_bits, frac_bits, name=name or None)
    path = save_model(quantized.eval(), target)
    return Quantization(path, quantized.config.name, quantized.bottleneck.quantization, calibration)


def integer_events(codec: Codec, samples: np.ndarray) -> np.ndarray:
    """Mono float32 samples at the model's rate -> events (N, T) computed by the integer emulation of the
    spiking part (the encoder runs in float on the host, as in `Codec.encode`; a membrane carries over
    from window to window)."""
    layer = integer_layer(codec)
    latents = codec.latent_stream([np.asarray(samples, dtype=np.float32)], len(samples))
    parts, mem = [], None
    for latent in latents:
        if isinstance(layer, IntegerLeaky):
            events, mem = layer.events(latent[0].numpy(), mem)
        else:
            events = layer.events(latent[0].numpy())
        parts.append(events)
    return np.concatenate(parts, axis=-1) if parts else np.zeros((codec.units, 0), bool)


def integer_layer(codec: Codec) -> IntegerThreshold | IntegerLeaky:
    """The integers of a quantised model's spiking part (snn_codec.bottlenecks.integer, fixed_point_lif)."""
    kind = codec.config.bottleneck["kind"]
    if kind not in QUANTIZABLE:
        raise CodecError(f"{codec.config.name}: integer emulation covers the {' and '.join(QUANTIZABLE)} "
                         f"bottlenecks, not {kind!r}")
    return integer_leaky(codec.bottleneck) if kind == "snntorch_leaky" else integer_threshold(codec.bottleneck)
