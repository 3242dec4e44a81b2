"""What a user of `snn-codec train` meets: stopping and resuming, the model's name, export, warnings, figures."""

from __future__ import annotations

import os
import signal
from dataclasses import replace

import pytest
import soundfile as sf
import torch

from snn_codec.cli import main
from snn_codec.config import Config, DataConfig, TrainConfig, save_config
from snn_codec.model_io import load_model, model_name, save_model
from snn_codec.rate import Trim
from snn_codec.train.module import CodecModule
from snn_codec.train.run import run_training, training_warnings


def tiny_yaml(tmp_path, tiny_config, make_audio, steps=4, **train):
    data_dir = tmp_path / "audio"
    data_dir.mkdir(exist_ok=True)
    for i in range(2):
        sf.write(data_dir / f"clip{i}.wav", make_audio(1.0, 8000, seed=i)[0], 8000)
    data = DataConfig(train=f"folder:{data_dir}", validation=f"folder:{data_dir}", segment_s=0.2,
                      validation_crops=2, validation_segment_s=0.4)
    settings = dict(steps=steps, batch_size=2, warmup_steps=1, data=data, val_every=2, checkpoint_every=100) | train
    config = Config(model=tiny_config, train=TrainConfig(**settings))
    save_config(config, tmp_path / "tiny.yaml")
    return config


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_saves_the_step_and_the_same_command_resumes_there(tmp_path, tiny_config, make_audio, capsys,
                                                                     monkeypatch, signum):
    config = tiny_yaml(tmp_path, tiny_config, make_audio)
    command = ["train", "--config", str(tmp_path / "tiny.yaml"), "--run-dir", str(tmp_path / "run")]
    original = CodecModule.training_step

    def signalled_during_step_2(self, batch, batch_idx):
        if self.global_step == 1:
            os.kill(os.getpid(), signum)  # arrives in the middle of the step: the step still completes
        return original(self, batch, batch_idx)

    monkeypatch.setattr(CodecModule, "training_step", signalled_during_step_2)
    assert main(command) == 130
    err = capsys.readouterr().err
    assert "starting at step 0 of 4" in err
    assert "snn-codec: interrupted at step 2; saved" in err and "run the same command again to resume" in err
    checkpoint = torch.load(tmp_path / "run/checkpoints/last.ckpt", map_location="cpu", weights_only=False)
    assert checkpoint["global_step"] == 2  # checkpoint_every is 100: this one was written on the signal
    assert signal.getsignal(signum) is not None and signal.getsignal(signal.SIGINT) is signal.default_int_handler

    monkeypatch.setattr(CodecModule, "training_step", original)
    assert main(command + ["--checkpoint-every", "1"]) == 0  # how often it saves may change on resuming
    assert "resuming from step 2 of 4" in capsys.readouterr().err
    resumed = load_model(tmp_path / "run/model.safetensors")
    uninterrupted = run_training(config, tmp_path / "whole", progress=False)
    assert resumed.weight_hash() == load_model(uninterrupted).weight_hash()


def test_the_model_is_named_after_its_run_and_export_refuses_to_overwrite(tmp_path, tiny_config, make_audio, capsys):
    tiny_yaml(tmp_path, tiny_config, make_audio, steps=1)
    run_dir = tmp_path / "runs" / "my-piano"
    assert main(["train", "--config", str(tmp_path / "tiny.yaml"), "--run-dir", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "named 'my-piano'" in out
    assert "firing=" in out and "rate=" not in out  # the progress bar's firing rate, not taken for a bitrate
    assert model_name(run_dir / "model.safetensors") == "my-piano"
    assert main(["train", "--config", str(tmp_path / "tiny.yaml"), "--run-dir", str(tmp_path / "other"),
                 "--name", "chosen"]) == 0
    assert model_name(tmp_path / "other/model.safetensors") == "chosen"

    out = tmp_path / "export.safetensors"
    assert main(["export", str(run_dir), str(out), "--half"]) == 0
    assert "named 'my-piano'" in capsys.readouterr().out
    before = out.stat().st_mtime_ns
    assert main(["export", str(run_dir), str(out)]) == 1
    assert "exists; pass --force" in capsys.readouterr().err and out.stat().st_mtime_ns == before
    assert main(["export", str(run_dir), str(out), "--force"]) == 0
    assert main(["export", str(run_dir)]) == 1  # the run's own model.safetensors is there too


def test_a_shipped_models_name_goes_only_to_its_own_weights(tmp_path):
    shipped = load_model("piano-v1")
    assert model_name(save_model(shipped, tmp_path / "same.safetensors")) == "piano-v1"
    with torch.no_grad():
        next(shipped.decoder.parameters()).add_(1e-3)  # retrained, say
    name = model_name(save_model(shipped, tmp_path / "retrained.safetensors"))
    assert name == f"piano-v1-{shipped.weight_hash().hex()[:8]}"


def test_warnings_for_settings_that_run_but_mislead(tiny_config):
    short = Config(model=tiny_config, train=replace(TrainConfig(), steps=30, warmup_steps=50))
    (warning,) = training_warnings(short)
    assert "warmup_steps (50) is not below train.steps (30)" in warning
    assert training_warnings(Config(model=tiny_config)) == []


def test_the_trim_is_described_with_the_sign_metrics_json_keeps():
    assert "+0.0125" in Trim(0.0125, 1.0, 1.5, 1.5).describe_offset()
    assert "-0.0125" in Trim(-0.0125, 1.5, 1.0, 1.0).describe_offset()
    for nothing in (0.0, -0.0, -1e-7):
        assert Trim(nothing, 1.0, 1.0, 1.0).describe_offset() == "threshold trim 0 (thresholds unchanged)"


def test_a_short_runs_figure_marks_its_single_points(training_figure):
    figure = training_figure("epoch,step,train/loss,train/firing_rate,val/log_mel_db\n0,24,1.5,0.2,\n0,29,,,7.5\n")
    lines = [line for ax in figure.axes for line in ax.get_lines()]
    assert {line.get_label() for line in lines} == {"train/loss", "train/firing_rate", "val/log_mel_db"}
    assert all(line.get_marker() == "." for line in lines)
