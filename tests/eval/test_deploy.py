"""Hardware-fit report: counts by hand, limit checks, the CLI's outputs and refusals."""

from __future__ import annotations

import dataclasses
import json

import pytest
import soundfile as sf
import torch

from snn_codec.audio import Audio
from snn_codec.cli import main
from snn_codec.codec import Codec
from snn_codec.errors import CodecError
from snn_codec.eval.deploy import check_target, deploy_report, spiking_part
from snn_codec.eval.hardware import ENERGY, SOURCES, TARGETS, Limit, Target, targets_by_name
from snn_codec.model_io import load_model


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_counts_of_the_tiny_threshold_model_by_hand(tiny_codec):
    part = spiking_part(tiny_codec)  # latent_dim 8, 8 threshold units, iSTFT decoder of dim 16 (kernel-7 input conv)
    assert (part.input_channels, part.neurons) == (8, 8)
    assert part.input_synapses == 8 * 8 and part.recurrent_synapses == 0 and part.synapses == 64
    assert part.fan_in == 8
    assert part.fan_out == 16 * 7
    assert part.state_variables == 1  # stateless, but a neuron still accumulates its input in a membrane
    assert (part.weight_bits, part.state_bits) == (32, 32)  # float32 as stored
    assert part.weight_memory_bytes == (64 + 8) * 4 and part.state_memory_bytes == 8 * 4
    planned = spiking_part(tiny_codec, weight_bits=8, state_bits=16)
    assert planned.weight_memory_bytes == 64 + 8 and planned.state_memory_bytes == 8 * 2


def test_a_quantised_model_is_assessed_at_its_own_integer_widths(tiny_codec):
    from snn_codec.bottlenecks.integer import integer_threshold
    from snn_codec.quantization import quantized_codec

    codec = quantized_codec(tiny_codec, 4, 8, 2)
    part = spiking_part(codec)
    assert part.weight_bits == 4 and part.state_bits == integer_threshold(codec.bottleneck).accumulator_bits
    assert (spiking_part(quantized_codec(tiny_codec, 8)).weight_bits, spiking_part(codec, 8, 16).state_bits) == (8, 16)
    assert spiking_part(quantized_codec(tiny_codec, 8)).state_bits == 32  # a float latent accumulates in float32


def test_recurrent_connections_count_in_fan_in_and_synapses(tiny_config):
    torch.manual_seed(0)
    config = dataclasses.replace(tiny_config, bottleneck={"kind": "snntorch_rleaky", "units": 4})
    part = spiking_part(Codec(config).eval())
    assert part.input_synapses == 8 * 4 and part.recurrent_synapses == 4 * 4
    assert part.fan_in == 8 + 4
    assert part.state_variables == 2  # last spikes and membrane


def test_a_made_up_target_passes_and_fails_by_hand(tiny_codec):
    part = spiking_part(tiny_codec, weight_bits=8)
    roomy = Target("roomy", "Roomy", (Limit("neurons", "neurons", 8, "horowitz"),
                                      Limit("weight bits", "weight_bits", 8, "horowitz")), "ac_int8", "events")
    fit = check_target(part, roomy)
    assert fit.verdict == "pass" and not fit.failures
    tight = Target("tight", "Tight", (Limit("inputs", "input_channels", 4, "horowitz"),
                                      Limit("fan-out", "fan_out", 100, "horowitz"),
                                      Limit("fan-in", "fan_in", None, "horowitz")), "ac_int8", "events")
    fit = check_target(part, tight)
    assert fit.verdict == "fail"
    assert [c.describe() for c in fit.failures] == ["fail: 8 > 4, 2x the limit", "fail: 112 > 100, 1.12x the limit"]
    assert fit.checks[2].verdict == "unverified"


def test_piano_v3_against_the_published_limits():
    part = spiking_part(load_model("piano-v3"))
    xylo = check_target(part, TARGETS["xylo-audio-2"])
    assert xylo.verdict == "fail"
    failed = {c.label: (c.required, c.allowed) for c in xylo.failures}
    assert failed["SNN input channels"] == (128, 16) and failed["output neurons"] == (64, 8)
    loihi = {c.label: c.verdict for c in check_target(part, TARGETS["loihi-2"]).checks}
    assert loihi["neurons per chip"] == loihi["synapses per chip"] == "pass"
    assert loihi["weight bits"] == "fail"  # float32 weights; --weight-bits 8 evaluates the quantized plan
    speck = check_target(spiking_part(load_model("piano-v3"), weight_bits=8, state_bits=16), TARGETS["speck"])
    assert speck.verdict == "pass"


def test_every_figure_cites_a_source():
    for target in TARGETS.values():
        assert target.synop_energy in ENERGY
        assert all(limit.source in SOURCES for limit in target.limits)
    assert all(figure.source in SOURCES for figure in ENERGY.values())
    with pytest.raises(CodecError, match="unknown target 'nope'"):
        targets_by_name(["nope"])


def test_report_measures_events_and_synops(tiny_codec, make_audio):
    audio = Audio(make_audio(1.0, 8000), 8000)
    report = deploy_report(tiny_codec, audio, targets_by_name(["speck"]))
    activity = report.activity
    assert activity.events_per_s > 0
    # random decoder weights are all non-zero, so each event meets the full fan-out
    assert activity.synops_per_s == pytest.approx(activity.events_per_s * report.part.fan_out)
    assert activity.dense_macs_per_s == pytest.approx(8 * 50 * report.part.fan_out)
    assert activity.projection_macs_per_s == 8 * 8 * 50
    data = json.loads(report.to_json())
    assert data["targets"][0]["name"] == "speck" and set(data["sources"]) <= set(SOURCES)
    assert "# Hardware fit: tiny-test" in report.to_markdown()


def test_cli_writes_both_files_and_refuses_to_overwrite(tmp_path, tiny_model_file, make_audio, capsys):
    wav = tmp_path / "in.wav"
    sf.write(wav, make_audio(1.0, 8000).T, 8000)
    argv = ("deploy-report", tiny_model_file, "--audio", wav, "--out", tmp_path / "out", "--target", "loihi-2")
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["tiny-test.json", "tiny-test.md"]  # no temporary file left behind
    assert json.loads((tmp_path / "out" / "tiny-test.json").read_text())["targets"][0]["name"] == "loihi-2"
    assert "Intel Loihi 2" in out
    code, _, err = run(capsys, *argv)
    assert code == 1 and "--force" in err and len(err.strip().splitlines()) == 1
    assert run(capsys, *argv, "--force")[0] == 0


def test_cli_refuses_vq_models_and_unknown_targets(tmp_path, tiny_vq_model_file, capsys):
    out = tmp_path / "reports"
    code, _, err = run(capsys, "deploy-report", tiny_vq_model_file, "--out", out)
    assert code == 1 and "no spiking neurons" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "deploy-report", "piano-v3", "--target", "nope", "--out", out)
    assert code == 1 and err.strip() == ("snn-codec: error: unknown target 'nope'; choose from xylo-audio-2, "
                                         "xylo-audio-3, speck, loihi-2")
    assert not out.exists()


def test_the_unquantized_reference_is_refused(tiny_config):
    config = dataclasses.replace(tiny_config, bottleneck={"kind": "continuous", "units": 8})
    with pytest.raises(CodecError, match="unquantized reference"):
        spiking_part(Codec(config))
