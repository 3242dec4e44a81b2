"""Hardware-fit report: can a model's spiking part run on a neuromorphic chip, and at what cost?

What is assessed is the spiking bottleneck: the affine input projection (1x1 conv with BatchNorm folded in,
what `export-nir` writes) and its N neurons. The encoder (a strided conv net on the waveform) and the decoder
(ConvNeXt + iSTFT) are float computation that none of the chips in `hardware.TARGETS` runs; they stay on a
host processor. The chip would take the C latent channels per frame and give out N spike trains.

Counts: the projection has C x N synapses (fan-in C per neuron), recurrent bottlenecks N x N more; a neuron's
fan-out is the decoder input convolution's connections from its unit (output channels x taps, `cost.fan_out`).
Memory: weights (synapses plus one bias per neuron) at `weight_bits`, and each neuron's state variables at
`state_bits` (at least one: a neuron accumulates its input in a membrane even when it keeps nothing between
frames).

A neuromorphic encoder (`model.encoder.kind: filterbank`) puts the whole encode path on the chip: its
spike-encoded filterbank bands are the chip's input channels, its LIF layers are hidden neurons (two state
variables each: synaptic current and membrane), and its readout folds into the bottleneck's projection, whose
neurons then take the last layer's spikes. Their synaptic operations are counted from the spikes on the audio. Activity is measured on real audio: events/s, and SynOps/s into the decoder's input layer
(`cost.synaptic_operations`). Energy = operations/s x energy per operation (`hardware.ENERGY`), in uJ/s (uW).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

import torch
from torch import nn

from snn_codec.audio import Audio, resample, to_mono
from snn_codec.bottlenecks.base import SpikingBottleneck
from snn_codec.errors import CodecError
from snn_codec.eval.cost import fan_out, synaptic_operations
from snn_codec.eval.deploy_markdown import format_number, render_markdown, scope
from snn_codec.eval.hardware import ENERGY, SOURCES, Target
from snn_codec.models.neuromorphic import FilterbankEncoder, SpikingLayers

@dataclass(frozen=True)
class SpikingPart:
    """The bottleneck's size as a chip sees it."""

    kind: str
    input_channels: int  # C, the latent channels
    neurons: int  # N
    input_synapses: int  # C x N
    recurrent_synapses: int
    fan_in: int
    fan_out: int  # connections from one unit into the decoder's input layer
    state_variables: int  # per neuron
    weight_bits: int
    state_bits: int
    encoder: SpikingLayers | None = None  # a neuromorphic encoder's spiking layers, on the chip too

    ENCODER_STATE_VARIABLES = 2  # a LIF layer's neuron: synaptic current and membrane

    @property
    def synapses(self) -> int:
        return self.input_synapses + self.recurrent_synapses + (self.encoder.synapses if self.encoder else 0)

    @property
    def all_neurons(self) -> int:
        """The bottleneck's neurons and a neuromorphic encoder's."""
        return self.neurons + (self.encoder.neurons if self.encoder else 0)

    @property
    def weight_memory_bytes(self) -> float:
        return (self.synapses + self.all_neurons) * self.weight_bits / 8

    @property
    def state_memory_bytes(self) -> float:
        encoder = self.encoder.neurons * self.ENCODER_STATE_VARIABLES if self.encoder else 0
        return (self.neurons * self.state_variables + encoder) * self.state_bits / 8

    def requirement(self, quantity: str) -> int:
        """The model's value of a limited quantity (see `hardware`'s docstring)."""
        encoder = self.encoder
        values = {
            "input_channels": encoder.input_channels if encoder else self.input_channels,
            "neurons": self.all_neurons, "output_channels": self.neurons,
            "synapses": self.synapses, "fan_in": max(self.fan_in, *(encoder.fan_ins() if encoder else [0])),
            "fan_out": self.fan_out,
            "input_projection": encoder.widths[0] if encoder else self.neurons,
            "output_projection": encoder.widths[-1] if encoder else self.neurons,
            "feature_channels": max(self.input_channels, self.neurons, *(encoder.widths if encoder else [0])),
            "destination_layers": 1, "weight_bits": self.weight_bits, "state_bits": self.state_bits,
        }
        return values[quantity]


@dataclass(frozen=True)
class Activity:
    """Measured on audio; rates per second of audio (frames / frame rate)."""

    audio: str
    duration_s: float
    events_per_s: float
    firing_rate: float
    synops_per_s: float  # event-driven accumulates into the decoder's input layer
    dense_macs_per_s: float  # that layer computed densely
    projection_macs_per_s: float  # the bottleneck's own input projection: its latent input is dense
    encoder_input_events_per_s: float = 0.0  # a neuromorphic encoder's front-end spikes
    encoder_hidden_events_per_s: float = 0.0  # its LIF layers' spikes
    encoder_synops_per_s: float = 0.0  # their synaptic operations, into the bottleneck's neurons included


@dataclass(frozen=True)
class EnergyLine:
    operation: str
    ops_per_s: float
    figure: str  # a key of hardware.ENERGY

    @property
    def uj_per_s(self) -> float | None:
        pj = ENERGY[self.figure].pj
        return None if pj is None else self.ops_per_s * pj * 1e-6


@dataclass(frozen=True)
class Check:
    label: str
    required: float
    allowed: float | None
    source: str
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.allowed is None:
            return "unverified"
        return "pass" if self.required <= self.allowed else "fail"

    def describe(self) -> str:
        """The verdict with the margin, e.g. 'fail: 128 > 16, 8x the limit'."""
        if self.allowed is None:
            return "unverified"
        required, allowed = format_number(self.required), format_number(self.allowed)
        if self.verdict == "pass":
            return f"pass: {required} <= {allowed}"
        return f"fail: {required} > {allowed}, {self.required / self.allowed:.3g}x the limit"


@dataclass(frozen=True)
class TargetFit:
    name: str
    title: str
    checks: tuple[Check, ...]
    input_note: str

    @property
    def verdict(self) -> str:
        """'fail' if any verified limit fails, else 'pass' (with the unverified limits counted)."""
        verdicts = [c.verdict for c in self.checks]
        if "fail" in verdicts:
            return "fail"
        unverified = verdicts.count("unverified")
        return f"pass ({unverified} limit(s) unverified)" if unverified else "pass"

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.verdict == "fail"]


def spiking_part(codec, weight_bits: int | None = None, state_bits: int | None = None) -> SpikingPart:
    """Counts of a codec's spiking bottleneck; bits default to the precision the model runs at: a quantised
    threshold model's integer weights and accumulator (`stored_precision`), else its float tensors (32).

    Raises:
        CodecError: for VQ models and the unquantized reference, which have no spiking neurons.
    """
    bottleneck, name = codec.bottleneck, codec.config.name
    if not bottleneck.has_bitstream:
        raise CodecError(f"{name}: the unquantized reference has no events and no spiking neurons; "
                         "a hardware-fit report needs a spiking model")
    if bottleneck.stores_indices or not isinstance(bottleneck, SpikingBottleneck):
        raise CodecError(f"{name}: a {codec.config.bottleneck['kind']} bottleneck has no spiking neurons "
                         "(VQ-style models store codebook indices); a hardware-fit report needs a spiking model")
    for bits, option in ((weight_bits, "weight bits"), (state_bits, "state bits")):
        if bits is not None and not 1 <= bits <= 64:
            raise CodecError(f"{option} must be between 1 and 64, got {bits}")
    projection = bottleneck.project
    channels, units = projection.in_channels, projection.out_channels
    encoder = codec.encoder.spiking_layers if isinstance(codec.encoder, FilterbankEncoder) else None
    recurrent = sum(m.weight.numel() for m in bottleneck.modules()
                    if isinstance(m, (nn.Linear, nn.Conv1d)) and m is not projection)
    with torch.no_grad():
        state = bottleneck.eval()(torch.zeros(1, channels, 1)).state
    state_variables = max(1, sum(v[0].numel() for v in state.values()) // units)
    stored_weight_bits, stored_state_bits = stored_precision(bottleneck)
    inputs = encoder.widths[-1] if encoder else channels  # the encoder's readout folds into the projection
    return SpikingPart(
        kind=codec.config.bottleneck["kind"], input_channels=inputs, neurons=units,
        input_synapses=inputs * units, recurrent_synapses=recurrent,
        fan_in=inputs + (recurrent // units), fan_out=fan_out(codec.decoder), state_variables=state_variables,
        weight_bits=weight_bits or stored_weight_bits, state_bits=state_bits or stored_state_bits, encoder=encoder,
    )


def stored_precision(bottleneck) -> tuple[int, int]:
    """(weight bits, state bits) a spiking bottleneck runs at. A quantised threshold bottleneck: its integer
    weights, and as state the accumulator that holds every current and threshold (snn_codec.bottlenecks.integer;
    with a float latent, the float32 it accumulates in); otherwise the float tensors' width."""
    float_bits = bottleneck.project.weight.element_size() * 8
    precision = getattr(bottleneck, "quantization", None)
    if precision is None or not precision.is_quantized:
        return float_bits, float_bits
    if not precision.is_integer:
        return precision.weight_bits, float_bits
    from snn_codec.bottlenecks.integer import integer_threshold

    return precision.weight_bits, integer_threshold(bottleneck).accumulator_bits


def measure_activity(codec, audio: Audio, name: str) -> Activity:
    """Events/s and synaptic operations of the codec on `audio` (mixed to mono, resampled to the model's rate)."""
    samples = resample(to_mono(audio.samples), audio.sample_rate, codec.config.sample_rate)[0]
    events = codec.encode(torch.from_numpy(samples))  # (N, T)
    frame_rate = codec.config.frame_rate
    seconds = max(events.shape[-1], 1) / frame_rate
    z = codec.bottleneck.decode(events[None])  # (1, N, T)
    ops = synaptic_operations(codec.decoder, z, frame_rate)
    count = int(events.sum())
    activity = Activity(
        audio=name, duration_s=audio.samples.shape[-1] / audio.sample_rate, events_per_s=count / seconds,
        firing_rate=count / max(events.numel(), 1), synops_per_s=ops.effective_acs_per_s,
        dense_macs_per_s=ops.dense_per_s,
        projection_macs_per_s=codec.bottleneck.project.in_channels * codec.units * frame_rate,
    )
    if isinstance(codec.encoder, FilterbankEncoder):
        activity = replace(activity, projection_macs_per_s=0.0, **encoder_activity(codec, samples, seconds))
    return activity


def encoder_activity(codec, samples, seconds: float) -> dict[str, float]:
    """Spikes/s and SynOps/s of a neuromorphic encoder on mono `samples` at the model's rate (one pass)."""
    encoder = codec.encoder
    frames = codec.num_frames(samples.shape[-1])
    padded = torch.zeros(frames * codec.hop_length)
    padded[: samples.shape[-1]] = torch.from_numpy(samples)
    with torch.inference_mode():
        spikes = encoder.eval().spikes(padded.view(1, 1, -1))
    return {
        "encoder_input_events_per_s": float(spikes.inputs.sum()) / seconds,
        "encoder_hidden_events_per_s": sum(float(h.sum()) for h in spikes.hidden) / seconds,
        "encoder_synops_per_s": encoder.spiking_layers.synaptic_operations(spikes, codec.units) / seconds,
    }


NEUROMORPHIC_INPUT = ("the filterbank's spike trains, one per band and at most one spike per step, are the input "
                      "channels: no latent to encode as events")


def check_target(part: SpikingPart, target: Target) -> TargetFit:
    checks = tuple(Check(limit.label, part.requirement(limit.quantity), limit.value, limit.source, limit.note)
                   for limit in target.limits)
    return TargetFit(target.name, target.title, checks, NEUROMORPHIC_INPUT if part.encoder else target.input_note)


def energy_lines(part: SpikingPart, activity: Activity, targets: list[Target]) -> list[EnergyLine]:
    """The event-driven decoder input against dense MACs, at 45 nm and on each target's published figure."""
    low_precision = part.weight_bits <= 8
    ac, mac = ("ac_int8", "mac_int8") if low_precision else ("ac_fp32", "mac_fp32")
    lines = [
        EnergyLine("decoder input layer, event-driven (SynOps)", activity.synops_per_s, ac),
        EnergyLine("decoder input layer, dense (MACs)", activity.dense_macs_per_s, mac),
        EnergyLine("encoder spiking layers and bottleneck neurons, event-driven (SynOps)",
                   activity.encoder_synops_per_s, ac) if part.encoder else
        EnergyLine("bottleneck input projection, dense latent in (MACs)", activity.projection_macs_per_s, mac),
    ]
    for figure in dict.fromkeys(t.synop_energy for t in targets):
        lines.append(EnergyLine(f"decoder input layer SynOps at {ENERGY[figure].label}", activity.synops_per_s,
                                figure))
    return lines


@dataclass(frozen=True)
class DeployReport:
    model: str
    part: SpikingPart
    activity: Activity
    energy: tuple[EnergyLine, ...]
    fits: tuple[TargetFit, ...]

    def sources(self) -> list[str]:
        """Keys of SOURCES cited in this report, in order of first use."""
        keys = [ENERGY[line.figure].source for line in self.energy]
        keys += [check.source for fit in self.fits for check in fit.checks]
        return list(dict.fromkeys(keys))

    def to_json(self) -> str:
        data = {
            "model": self.model,
            "scope": scope(self.part),
            "spiking_part": {**asdict(self.part), "synapses": self.part.synapses,
                             "weight_memory_bytes": self.part.weight_memory_bytes,
                             "state_memory_bytes": self.part.state_memory_bytes},
            "activity": asdict(self.activity),
            "energy": [{"operation": e.operation, "ops_per_s": e.ops_per_s, "pj_per_op": ENERGY[e.figure].pj,
                        "uj_per_s": e.uj_per_s, "source": ENERGY[e.figure].source, "note": ENERGY[e.figure].note}
                       for e in self.energy],
            "targets": [{"name": f.name, "title": f.title, "verdict": f.verdict, "input": f.input_note,
                         "checks": [{**asdict(c), "verdict": c.verdict} for c in f.checks]} for f in self.fits],
            "sources": {key: SOURCES[key] for key in self.sources()},
        }
        return json.dumps(data, indent=2) + "\n"

    def to_markdown(self) -> str:
        return render_markdown(self)


def deploy_report(codec, audio: Audio, targets: list[Target], weight_bits: int | None = None,
                  state_bits: int | None = None, audio_name: str = "audio") -> DeployReport:
    """The hardware-fit report of a spiking codec, its activity measured on `audio`.

    Args:
        codec: a loaded spiking model (`snn_codec.load_model`).
        audio: the audio to measure events and SynOps on (any rate and channels).
        targets: chips to check (`hardware.targets_by_name`).
        weight_bits, state_bits: a planned precision to evaluate (default: the stored float32, 32 bits).
        audio_name: how the report names the audio.

    Raises:
        CodecError: for VQ models and the unquantized reference.
    """
    part = spiking_part(codec, weight_bits, state_bits)
    activity = measure_activity(codec, audio, audio_name)
    return DeployReport(model=codec.config.name, part=part, activity=activity,
                        energy=tuple(energy_lines(part, activity, targets)),
                        fits=tuple(check_target(part, t) for t in targets))
