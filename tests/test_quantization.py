"""A quantised model is an ordinary model: written by post-training quantisation or trained from a float
one, it saves, loads, compresses and decompresses through the API and the command line, and its files
record its precision."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml
from safetensors import safe_open

import snn_codec
from snn_codec.audio import resample
from snn_codec.cli import main
from snn_codec.config import Config, DataConfig, TrainConfig
from snn_codec.errors import CodecError
from snn_codec.model_io import load_model, save_model
from snn_codec.quantization import (
    base_name, calibrate_input_frac_bits, input_frac_bits_for, integer_events, quantize_model, quantized_codec,
)


def test_post_training_quantisation_writes_an_ordinary_model_that_records_its_precision(tmp_path, tiny_model_file):
    result = quantize_model(tiny_model_file, tmp_path / "q", weight_bits=8, input_bits=8)
    assert result.path == tmp_path / "q.safetensors" and result.name == "tiny-test-w8i8"
    assert result.calibration.input_frac_bits == result.precision.input_frac_bits
    assert result.calibration.latent_peak > 0 and 0 <= result.calibration.events_changed < 0.05
    assert result.describe().startswith("tiny-test-w8i8: 8-bit weights, 8-bit inputs (step 2^")
    codec = load_model(result.path)
    options = codec.config.bottleneck
    assert options == {"kind": "threshold", "units": 8, "weight_bits": 8, "input_bits": 8,
                       "input_frac_bits": result.precision.input_frac_bits}
    assert yaml.safe_load((tmp_path / "q.yaml").read_text())["bottleneck"] == options
    with safe_open(str(result.path), framework="pt") as handle:
        assert handle.get_tensor("bottleneck.precision").tolist() == [8, 8, result.precision.input_frac_bits]
    float_codec = load_model(tiny_model_file)
    shared = {k: v for k, v in codec.state_dict().items() if k != "bottleneck.precision"}
    assert all(torch.equal(v, float_codec.state_dict()[k]) for k, v in shared.items())
    assert codec.weight_hash() != float_codec.weight_hash()  # compressed files tell them apart
    with pytest.raises(CodecError, match="exists"):
        quantize_model(tiny_model_file, tmp_path / "q", weight_bits=4)
    assert quantize_model(tiny_model_file, tmp_path / "q", weight_bits=4, input_bits=0, force=True).name == \
        "tiny-test-w4"


def test_a_quantised_model_compresses_and_decompresses_through_the_api(tiny_codec, make_audio):
    codec = quantized_codec(tiny_codec, 4, 8, 3).eval()
    audio = make_audio(2.0, 16000)[0]
    data = snn_codec.compress(audio, 16000, model=codec)
    info = snn_codec.inspect(data)
    assert info.header.model_id == "tiny-test-w4i8" and info.header.weight_hash == codec.weight_hash()
    decoded = snn_codec.decompress(data, model=codec)
    assert decoded.sample_rate == 16000 and decoded.samples.shape[-1] == len(audio)
    # the file's events are the integer emulation's
    samples = torch.from_numpy(resample(audio[None], 16000, 8000)[0])
    assert np.array_equal(codec.encode(samples).numpy(), integer_events(codec, samples.numpy()))


def test_a_quantised_model_runs_through_the_command_line(tmp_path, tiny_model_file, make_audio, capsys):
    quantized = quantize_model(tiny_model_file, tmp_path / "int8", weight_bits=8, input_bits=8).path
    wav = tmp_path / "in.wav"
    sf.write(wav, make_audio(1.5, 8000)[0], 8000)
    assert main(["compress", str(wav), str(tmp_path / "out.snnc"), "--model", str(quantized)]) == 0
    assert main(["info", str(tmp_path / "out.snnc"), "--json"]) == 0
    assert "tiny-test-w8i8" in capsys.readouterr().out
    assert main(["decompress", str(tmp_path / "out.snnc"), str(tmp_path / "back.wav"), "--model",
                 str(quantized)]) == 0
    assert sf.read(tmp_path / "back.wav")[0].shape == (12000,)


def test_a_float_model_initialises_a_quantised_run_which_trains_and_exports(tmp_path, tiny_config, tiny_codec,
                                                                            tiny_model_file, make_audio):
    from snn_codec.train.module import CodecModule
    from snn_codec.train.run import _initialise_from, run_training

    quantized = replace(tiny_config, bottleneck={**tiny_config.bottleneck, "weight_bits": 4, "input_bits": 8,
                                                 "input_frac_bits": 4})
    module = CodecModule.from_config(Config(model=quantized))
    _initialise_from(module, str(tiny_model_file))
    state = module.codec.state_dict()
    assert state["bottleneck.precision"].tolist() == [4, 8, 4]
    assert all(torch.equal(state[k], v) for k, v in tiny_codec.state_dict().items())

    data_dir = tmp_path / "audio"
    data_dir.mkdir()
    for i in range(2):
        sf.write(data_dir / f"clip{i}.wav", make_audio(1.0, 8000, seed=i)[0], 8000)
    data = DataConfig(train=f"folder:{data_dir}", validation=f"folder:{data_dir}", segment_s=0.2,
                      validation_crops=2, validation_segment_s=0.4)
    train = TrainConfig(steps=2, batch_size=2, warmup_steps=1, data=data, val_every=2, checkpoint_every=1,
                        init_from=str(tiny_model_file))
    path = run_training(Config(model=quantized, train=train), tmp_path / "run", progress=False)
    trained = load_model(path)
    assert trained.config.bottleneck["weight_bits"] == 4 and trained.bottleneck.precision.tolist() == [4, 8, 4]
    assert not torch.equal(trained.state_dict()["bottleneck.project.weight"],
                           tiny_codec.state_dict()["bottleneck.project.weight"])
    assert "val/log_mel_db" in json.loads((tmp_path / "run" / "metrics.json").read_text())


def test_a_model_file_whose_config_disagrees_with_its_stored_precision_is_refused(tmp_path, tiny_codec):
    path = save_model(quantized_codec(tiny_codec, 8), tmp_path / "q.safetensors")
    with safe_open(str(path), framework="pt") as handle:
        tensors = {k: handle.get_tensor(k) for k in handle.keys()}
        metadata = handle.metadata()
    config = yaml.safe_load(metadata["config"])
    config["bottleneck"]["weight_bits"] = 4
    from safetensors.torch import save_file

    save_file(tensors, str(path), metadata={**metadata, "config": yaml.safe_dump(config)})
    with pytest.raises(CodecError, match="config says 4-bit weights"):
        load_model(path)


def test_only_threshold_models_are_quantised_and_names_lose_old_suffixes(tiny_vq_codec, tiny_codec):
    with pytest.raises(CodecError, match="threshold and snntorch_leaky bottlenecks"):
        quantized_codec(tiny_vq_codec, 8)
    assert base_name("piano-v3-w8i8") == "piano-v3" and base_name("piano-v3") == "piano-v3"
    assert base_name("piano-v3-w4") == "piano-v3" and base_name("piano-v3-float") == "piano-v3"
    again = quantized_codec(quantized_codec(tiny_codec, 8, 8, 1), 4)
    assert again.config.name == "tiny-test-w4" and again.config.bottleneck == {"kind": "threshold", "units": 8,
                                                                               "weight_bits": 4}
    back = quantized_codec(again, 0)
    assert back.config.name == "tiny-test-float" and "precision" not in dict(back.bottleneck.named_buffers())


def test_calibration_picks_the_input_step_that_changes_the_fewest_events(tiny_codec, make_audio):
    audio = [torch.from_numpy(make_audio(2.0, 8000, seed=s)).view(1, 1, -1) for s in range(2)]
    calibration = calibrate_input_frac_bits(tiny_codec, audio, weight_bits=4, input_bits=4, finer_steps=4)
    widest = input_frac_bits_for(calibration.latent_peak, 4)
    assert widest <= calibration.input_frac_bits <= widest + 4

    def changed(frac_bits: int) -> float:
        with torch.no_grad():
            ours = [quantized_codec(tiny_codec, 4, 4, frac_bits).eval().bottleneck(tiny_codec.encoder(a)).events
                    for a in audio]
            theirs = [tiny_codec.bottleneck(tiny_codec.encoder(a)).events for a in audio]
        return float(torch.cat(ours, -1).ne(torch.cat(theirs, -1)).float().mean())

    tried = {f: changed(f) for f in range(widest, widest + 5)}
    assert calibration.events_changed == pytest.approx(min(tried.values()))
    assert calibration.input_frac_bits == min(f for f, c in tried.items() if c == min(tried.values()))
