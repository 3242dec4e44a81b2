"""Published hardware figures used by the hardware-fit report (`deploy.py`): every number with its source.

This module is the one place these figures live. A figure that could not be confirmed in a published source
is `None` ("unverified" in the report) rather than a guess; a check against it neither passes nor fails.

Quantities a limit can bound (what `deploy.SpikingPart.requirement` returns for the model):
- input_channels: channels entering the chip per step (the latent channels C);
- neurons: spiking neurons on the chip (the bottleneck's units N);
- output_channels: spike trains that must leave the chip (N: the events are what the file stores);
- synapses: weights of the bottleneck's input projection (C x N) plus recurrent connections;
- fan_in / fan_out: connections into / out of one neuron (fan-out: into the decoder's input layer);
- input_projection / output_projection: neurons reached by the chip's inputs / feeding its outputs (N);
- feature_channels: the widest layer as a 1x1 convolution (max(C, N));
- destination_layers: layers one neuron's spikes go to (1: the decoder's input layer);
- weight_bits / state_bits: the precision the model is evaluated at.
"""

from __future__ import annotations

from dataclasses import dataclass

from snn_codec.eval.cost import AC_PJ, MAC_PJ

SOURCES: dict[str, str] = {
    "horowitz": 'M. Horowitz, "Computing\'s energy problem (and what we can do about it)", ISSCC 2014 '
                "(45 nm, 0.9 V energy per operation table)",
    "rockpool-xylo": 'Rockpool documentation, "Overview of the Xylo family" '
                     "(https://rockpool.ai/devices/xylo-overview.html): family table and SNN core architecture",
    "xylo-dcase": 'W. Ke, M. Khoei, D. Muir, "Neurobench: DCASE 2020 Acoustic Scene Classification benchmark on '
                  'Xylo Audio 2", SynSense, arXiv 2410.23776 (2024): "neuron and synapse state quantised to 16 bit, '
                  'and weight parameters quantised to 8 bit"',
    "samna-speck2e": 'Samna documentation, "Speck 2e" (https://synsense-sys-int.gitlab.io/samna/models/speckSeries/'
                     "speck2e.html): key features, CNN layer",
    "loihi2-brief": 'Intel Labs technology brief, "Taking Neuromorphic Computing to the Next Level with Loihi 2" '
                    '(2021); also Open Neuromorphic, "Loihi 2 - Intel" (https://open-neuromorphic.org/'
                    'neuromorphic-computing/hardware/loihi-2-intel/): '
                    '"up to 1 million neurons and 120 million synapses"',
    "lava-dense": "Lava (github.com/lava-nc/lava), lava.proc.dense.process.Dense: num_weight_bits, "
                  '"Default is for weights to use full 8 bit precision" (w_scale = 8 - num_weight_bits + weight_exp)',
    "lava-lif": "Lava (github.com/lava-nc/lava), lava.proc.lif.models, the Loihi bit-accurate LIF: "
                '"State variables u and v are 24-bits wide"',
    "davies-loihi": 'M. Davies et al., "Loihi: A Neuromorphic Manycore Processor with On-Chip Learning", IEEE Micro '
                    "38(1), 2018: minimum energy per synaptic spike operation of the first-generation chip (14 nm)",
}


@dataclass(frozen=True)
class EnergyFigure:
    """Energy of one operation in pJ; `pj is None` when no published figure could be confirmed."""

    label: str
    pj: float | None
    source: str  # a key of SOURCES
    note: str = ""


ENERGY: dict[str, EnergyFigure] = {
    "ac_fp32": EnergyFigure("32-bit float add (one SynOp, accumulate)", AC_PJ, "horowitz"),
    "mac_fp32": EnergyFigure("32-bit float multiply-add (one dense MAC)", MAC_PJ, "horowitz",
                             "3.7 pJ mult + 0.9 pJ add"),
    "ac_int8": EnergyFigure("8-bit integer add (one SynOp, accumulate)", 0.03, "horowitz"),
    "mac_int8": EnergyFigure("8-bit integer multiply-add (one dense MAC)", 0.23, "horowitz",
                             "0.2 pJ mult + 0.03 pJ add"),
    "synop_loihi1": EnergyFigure(
        "Loihi (first generation) synaptic spike op", 23.6, "davies-loihi",
        "unverified here: the paper could not be read in this project's sources; Loihi 2 publishes no per-SynOp figure",
    ),
    "synop_xylo": EnergyFigure("Xylo Audio synaptic operation", None, "xylo-dcase",
                               "unverified: only whole-application power is published (e.g. the DCASE report)"),
    "synop_speck": EnergyFigure("Speck synaptic operation", None, "samna-speck2e",
                                "unverified: no per-operation figure found"),
}


@dataclass(frozen=True)
class Limit:
    """One published limit: `quantity` (see the module docstring) must be <= `value`; None is unverified."""

    label: str
    quantity: str
    value: float | None
    source: str  # a key of SOURCES
    note: str = ""


@dataclass(frozen=True)
class Target:
    name: str
    title: str
    limits: tuple[Limit, ...]
    synop_energy: str  # a key of ENERGY
    input_note: str  # how the chip takes the bottleneck's real-valued latent input


XYLO_FAN_IN = Limit("fan-in per neuron", "fan_in", None, "rockpool-xylo",
                    "unverified: Rockpool states up to 16 pre-synaptic neurons per input synapse (two synapses) for "
                    "Xylo v1 / Audio 2; a secondary summary says 63")

TARGETS: dict[str, Target] = {
    "xylo-audio-2": Target(
        "xylo-audio-2", "SynSense Xylo Audio 2 (SYNS61201)",
        (
            Limit("SNN input channels", "input_channels", 16, "rockpool-xylo"),
            Limit("hidden neurons", "neurons", 1000, "rockpool-xylo"),
            Limit("output neurons", "output_channels", 8, "rockpool-xylo"),
            XYLO_FAN_IN,
            Limit("max. fan-out per neuron", "fan_out", 64, "rockpool-xylo",
                  "if the decoder's input layer ran on the chip"),
            Limit("weight bits", "weight_bits", 8, "rockpool-xylo"),
            Limit("state bits", "state_bits", 16, "xylo-dcase"),
        ),
        "synop_xylo",
        "input channels carry events (up to 15 per step and channel): the signed real-valued latent must be "
        "encoded as event counts first",
    ),
    "xylo-audio-3": Target(
        "xylo-audio-3", "SynSense Xylo Audio 3 (SYNS65302)",
        (
            Limit("SNN input channels", "input_channels", 16, "rockpool-xylo"),
            Limit("hidden neurons", "neurons", 992, "rockpool-xylo"),
            Limit("output neurons", "output_channels", 32, "rockpool-xylo"),
            Limit("hidden neurons reached by the input projection", "input_projection", 128, "rockpool-xylo"),
            Limit("hidden neurons feeding the output projection", "output_projection", 128, "rockpool-xylo"),
            Limit("fan-in per neuron", "fan_in", None, "rockpool-xylo", "unverified: not published for Xylo Audio 3"),
            Limit("max. fan-out per neuron", "fan_out", 1024, "rockpool-xylo",
                  "if the decoder's input layer ran on the chip"),
            Limit("weight bits", "weight_bits", 8, "rockpool-xylo"),
            Limit("state bits", "state_bits", 16, "xylo-dcase"),
        ),
        "synop_xylo",
        "input channels carry events: the signed real-valued latent must be encoded as event counts first",
    ),
    "speck": Target(
        "speck", "SynSense Speck (Speck 2e)",
        (
            Limit("neurons per chip", "neurons", 320_000, "samna-speck2e", '"spiking neuron capacity of 0.32 million"'),
            Limit("feature channels per layer", "feature_channels", 1024, "samna-speck2e",
                  '"Max feature number: 1024"'),
            Limit("destination layers per layer (fan-out)", "destination_layers", 2, "samna-speck2e", '"Fanout: 2"'),
            Limit("weight bits", "weight_bits", 8, "samna-speck2e", '"Weight resolution: 8 bit"'),
            Limit("state bits", "state_bits", 16, "samna-speck2e", '"Neuron state resolution: 16"'),
        ),
        "synop_speck",
        "a vision chip: its layers take binary events (from its DVS or the serial interface), so the real-valued "
        "latent must be encoded as spikes first",
    ),
    "loihi-2": Target(
        "loihi-2", "Intel Loihi 2",
        (
            Limit("neurons per chip", "neurons", 1_000_000, "loihi2-brief"),
            Limit("neurons per core", "neurons", None, "loihi2-brief",
                  "unverified: 128 cores per chip are published, a per-core maximum was not confirmed"),
            Limit("synapses per chip", "synapses", 120_000_000, "loihi2-brief"),
            Limit("weight bits", "weight_bits", 8, "lava-dense"),
            Limit("state bits", "state_bits", 24, "lava-lif"),
        ),
        "synop_loihi1",
        "graded spikes carry an integer payload, so the latent can enter as integer-valued events once quantized",
    ),
}


def targets_by_name(names: list[str] | tuple[str, ...] | None) -> list[Target]:
    """The targets called `names` (all of them for None or empty); an unknown name raises CodecError."""
    from snn_codec.errors import CodecError

    if not names:
        return list(TARGETS.values())
    unknown = [name for name in names if name not in TARGETS]
    if unknown:
        raise CodecError(f"unknown target {unknown[0]!r}; choose from {', '.join(TARGETS)}")
    return [TARGETS[name] for name in dict.fromkeys(names)]
