"""The hardware-fit report (`deploy.DeployReport`) as Markdown: tables with every figure's source cited."""

from __future__ import annotations

from typing import TYPE_CHECKING

from snn_codec.eval.hardware import ENERGY, SOURCES

if TYPE_CHECKING:
    from snn_codec.eval.deploy import DeployReport

SCOPE = ("Assessed: the spiking bottleneck (affine input projection + neurons, the part `snn-codec export-nir` "
         "exports). The encoder and decoder are float convolutional networks that these chips cannot run; they "
         "stay on a host processor, so the chip would take the latent channels in and give the spike trains out.")
NEUROMORPHIC_SCOPE = (
    "Assessed: the whole encode path. The filterbank front end (band-pass filters, rectification, one spike "
    "encoder per band) is what the chip's analog front end does; its spike trains are the chip's input channels. "
    "The encoder's LIF layers are hidden neurons, and its readout folds into the bottleneck's projection, so "
    "the bottleneck's neurons take the last layer's spikes and give the events out. The decoder stays on a host.")


def scope(part) -> str:
    """What the report assesses: the bottleneck alone, or a neuromorphic encoder's whole encode path."""
    return NEUROMORPHIC_SCOPE if part.encoder else SCOPE


def _table(header: tuple[str, ...], rows: list[tuple]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def format_number(value: float | None) -> str:
    """Counts with thousands separators, other values to 3 significant digits; None is 'unverified'."""
    if value is None:
        return "unverified"
    return f"{value:,.0f}" if abs(value) >= 1000 or float(value).is_integer() else f"{value:.3g}"


def _encoder_rows(encoder) -> list[tuple]:
    return [
        ("filterbank bands in (spike trains)", encoder.input_channels),
        ("LIF layers (neurons each)", ", ".join(str(w) for w in encoder.widths)
         + (" (recurrent)" if encoder.recurrent else "")),
        ("encoder synapses (input + recurrent)", f"{encoder.synapses:,}"),
    ]


def _encoder_activity_rows(activity) -> list[tuple]:
    return [
        ("front-end spikes (filterbank spike encoders)", f"{activity.encoder_input_events_per_s:,.0f}"),
        ("hidden LIF spikes", f"{activity.encoder_hidden_events_per_s:,.0f}"),
        ("SynOps of the encoder's spikes (into LIF layers and bottleneck neurons)",
         f"{activity.encoder_synops_per_s / 1e6:.2f} M"),
    ]


def render_markdown(report: DeployReport) -> str:
    """The report as a Markdown document; sources are numbered [n] in order of first citation."""
    number = {key: i + 1 for i, key in enumerate(report.sources())}
    part, activity = report.part, report.activity
    lines = [f"# Hardware fit: {report.model} ({part.kind} bottleneck)", "", scope(part), "", "## Spiking part", ""]
    encoder = part.encoder
    lines += _table(("quantity", "value"), [
        *(_encoder_rows(encoder) if encoder else []),
        ("bottleneck inputs (last LIF layer)" if encoder else "latent channels in (C)", part.input_channels),
        ("neurons (N)", part.neurons),
        ("input projection synapses (C x N)", f"{part.input_synapses:,}"),
        ("recurrent synapses", f"{part.recurrent_synapses:,}"),
        ("fan-in per neuron", part.fan_in),
        ("fan-out per neuron (decoder input layer)", f"{part.fan_out:,}"),
        ("state variables per neuron", part.state_variables),
        ("weight bits / state bits", f"{part.weight_bits} / {part.state_bits}"),
        ("weight memory (synapses + biases)", f"{part.weight_memory_bytes / 1024:,.1f} KiB"),
        ("state memory", f"{part.state_memory_bytes:,.0f} B"),
    ])
    lines += ["", f"## Activity on {activity.audio} ({activity.duration_s:.1f} s)", ""]
    lines += _table(("quantity", "per second"), [
        ("events", f"{activity.events_per_s:,.0f} (firing rate {activity.firing_rate:.1%})"),
        ("SynOps into the decoder's input layer (event-driven)", f"{activity.synops_per_s / 1e6:.2f} M"),
        ("MACs of that layer computed densely", f"{activity.dense_macs_per_s / 1e6:.2f} M"),
        *(_encoder_activity_rows(activity) if encoder else [
            ("MACs of the bottleneck's input projection (its latent input is dense)",
             f"{activity.projection_macs_per_s / 1e6:.2f} M")]),
    ])
    lines += ["", "## Energy estimate", "",
              "Operations per second times a published energy per operation: an order of magnitude, not a "
              "hardware measurement (memory access, routing and static power are not included).", ""]
    lines += _table(("operation", "ops/s", "pJ/op", "uJ/s (uW)", "source"), [
        (e.operation, f"{e.ops_per_s / 1e6:.2f} M", format_number(ENERGY[e.figure].pj),
         format_number(e.uj_per_s), f"[{number[ENERGY[e.figure].source]}] {ENERGY[e.figure].note}".strip())
        for e in report.energy
    ])
    lines += ["", "## Target fit", ""]
    for fit in report.fits:
        lines += [f"### {fit.title}: {fit.verdict}", ""]
        if fit.failures:
            lines += ["Fails on: " + "; ".join(f"{c.label} ({c.describe()[len('fail: '):]})" for c in fit.failures)
                      + ".", ""]
        lines += [f"Input: {fit.input_note}.", ""]
        lines += _table(("limit", "model", "chip", "verdict", "source"), [
            (c.label, format_number(c.required), format_number(c.allowed), c.describe(),
             f"[{number[c.source]}] {c.note}".strip())
            for c in fit.checks
        ])
        lines.append("")
    lines += ["## Sources", ""]
    lines += [f"{n}. {SOURCES[key]}" for key, n in number.items()]
    return "\n".join(lines) + "\n"
