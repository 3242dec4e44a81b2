"""Hardware-fit report of a neuromorphic encoder: its LIF layers and front end count as on the chip."""

from __future__ import annotations

from dataclasses import replace

import torch

from snn_codec.audio import Audio
from snn_codec.codec import Codec
from snn_codec.config import load_config
from snn_codec.eval.deploy import check_target, deploy_report, spiking_part
from snn_codec.eval.hardware import TARGETS
from snn_codec.models.neuromorphic import EncoderSpikes, SpikingLayers


def filterbank_codec(tiny_config, hidden=(12,)) -> Codec:
    torch.manual_seed(0)
    encoder = replace(tiny_config.encoder, kind="filterbank", bands=6, low_hz=100.0, high_hz=3000.0, hidden=hidden)
    return Codec(replace(tiny_config, encoder=encoder)).eval()


def test_counts_of_a_tiny_filterbank_model_by_hand(tiny_config):
    part = spiking_part(filterbank_codec(tiny_config, hidden=(12, 10)))  # 6 bands, 12 + 10 recurrent LIF, 8 units
    assert part.encoder == SpikingLayers(6, (12, 10), True)
    assert part.encoder.fan_ins() == [6 + 12, 12 + 10] and part.encoder.synapses == 18 * 12 + 22 * 10
    assert part.input_channels == 10 and part.input_synapses == 10 * 8  # the readout folds into the projection
    assert part.synapses == 18 * 12 + 22 * 10 + 80 and part.all_neurons == 12 + 10 + 8
    assert [part.requirement(q) for q in ("input_channels", "neurons", "output_channels", "fan_in",
                                          "input_projection", "output_projection")] == [6, 30, 8, 22, 12, 10]
    assert part.state_memory_bytes == (8 * 1 + 22 * 2) * 4
    assert part.weight_memory_bytes == (part.synapses + 30) * 4


def test_synaptic_operations_of_the_encoder_by_hand():
    layers = SpikingLayers(4, (3, 2), recurrent=True)
    spikes = EncoderSpikes(torch.tensor([1.0, 1, 1, 1]), (torch.ones(5), torch.ones(7)))
    # 4 input spikes reach 3 neurons; 5 first-layer spikes reach 3 (own layer) + 2; 7 last-layer ones 2 + 8 units
    assert layers.synaptic_operations(spikes, output_neurons=8) == 4 * 3 + 5 * 5 + 7 * 10


def test_the_report_measures_the_encoder_and_names_its_scope(tiny_config, make_audio):
    codec = filterbank_codec(tiny_config)
    report = deploy_report(codec, Audio(make_audio(1.0, 8000), 8000), [TARGETS["xylo-audio-2"]])
    activity = report.activity
    assert activity.encoder_input_events_per_s > 0 and activity.encoder_hidden_events_per_s > 0
    assert activity.encoder_synops_per_s >= activity.encoder_input_events_per_s * 12
    assert activity.projection_macs_per_s == 0  # the projection takes spikes: its work is in the SynOps
    markdown = report.to_markdown()
    assert "filterbank bands in (spike trains)" in markdown and "whole encode path" in markdown
    assert "encoder spiking layers" in report.to_json()


def test_piano_nm_against_xylo_audio():
    """The shipped neuromorphic config at 8-bit weights and 16-bit states fails on its output neurons, and on
    the fan-out that the decoder's input layer would need on the chip; inputs, neurons and projections fit."""
    part = spiking_part(Codec(load_config("configs/piano-nm.yaml").model).eval(), weight_bits=8, state_bits=16)
    for target, allowed in (("xylo-audio-2", 8), ("xylo-audio-3", 32)):
        fit = check_target(part, TARGETS[target])
        failures = {c.label: (c.required, c.allowed) for c in fit.failures}
        assert set(failures) == {"output neurons", "max. fan-out per neuron"}
        assert failures["output neurons"] == (64, allowed)
        assert "filterbank's spike trains" in fit.input_note
    assert part.requirement("input_channels") == 16 and part.requirement("neurons") == 128 + 64
