"""Training runs end to end on a tiny model and resumes from its checkpoint."""

from __future__ import annotations

import json
from dataclasses import replace

import soundfile as sf
import torch

from snn_codec.config import Config, DataConfig, TrainConfig, load_config
from snn_codec.model_io import load_model
from snn_codec.train.run import run_training
from snn_codec.train.schedules import learning_rate_factor, sparsity_weight
from snn_codec.config import SparsityConfig


def tiny_run_config(tiny_config, data_dir, steps):
    data = DataConfig(train=f"folder:{data_dir}", validation=f"folder:{data_dir}", segment_s=0.2,
                      validation_crops=2, validation_segment_s=0.4)
    train = TrainConfig(steps=steps, batch_size=2, warmup_steps=1, data=data, val_every=2, checkpoint_every=1)
    return Config(model=tiny_config, train=train)


def test_train_export_and_resume(tmp_path, tiny_config, make_audio):
    data_dir = tmp_path / "audio"
    data_dir.mkdir()
    for i in range(2):
        sf.write(data_dir / f"clip{i}.wav", make_audio(1.0, 8000, seed=i)[0], 8000)
    run_dir = tmp_path / "run"
    config = tiny_run_config(tiny_config, data_dir, steps=3)
    model_path = run_training(config, run_dir, max_steps=2, progress=False)
    assert load_config(run_dir / "config.yaml") == config
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["step"] == 2
    assert {"val/si_sdr", "val/log_mel_db", "val/payload_kbps", "val/firing_rate"} <= set(metrics)
    first = load_model(model_path).weight_hash()

    run_training(config, run_dir, progress=False)  # resumes at step 2, finishes step 3
    assert json.loads((run_dir / "metrics.json").read_text())["step"] == 3
    assert load_model(model_path).weight_hash() != first


def test_resuming_with_another_config_is_refused(tmp_path, tiny_config, make_audio):
    import pytest

    from snn_codec.errors import CodecError

    data_dir = tmp_path / "audio"
    data_dir.mkdir()
    sf.write(data_dir / "clip.wav", make_audio(1.0, 8000)[0], 8000)
    config = tiny_run_config(tiny_config, data_dir, steps=1)
    run_training(config, tmp_path / "run", progress=False)
    changed = replace(config, train=replace(config.train, learning_rate=0.5))
    with pytest.raises(CodecError, match="different config"):
        run_training(changed, tmp_path / "run", progress=False)


def test_schedules():
    ramp = SparsityConfig(start=0.0, end=1.0, delay_steps=10, ramp_steps=10)
    assert [sparsity_weight(s, ramp) for s in (0, 10, 15, 20, 99)] == [0.0, 0.0, 0.5, 1.0, 1.0]
    assert learning_rate_factor(0, 10, 100) == 0.1
    assert learning_rate_factor(10, 10, 100) == 1.0
    assert learning_rate_factor(100, 10, 100) == 0.1


def test_the_cli_trains_with_ddp_on_two_cpu_processes(tmp_path, tiny_config, make_audio):
    """The user's path to several devices: `snn-codec train --devices 2` (here two CPU processes)."""
    import subprocess
    import sys

    from snn_codec.config import save_config

    data_dir = tmp_path / "audio"
    data_dir.mkdir()
    for i in range(2):
        sf.write(data_dir / f"clip{i}.wav", make_audio(1.0, 8000, seed=i)[0], 8000)
    save_config(tiny_run_config(tiny_config, data_dir, steps=2), tmp_path / "tiny.yaml")
    command = [sys.executable, "-m", "snn_codec", "train", "--config", "tiny.yaml", "--run-dir", "run",
               "--accelerator", "cpu", "--devices", "2", "--threads", "1"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Starting with 2 processes" in result.stderr + result.stdout
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["step"] == 2
    assert load_model(tmp_path / "run" / "model.safetensors").units == tiny_config.bottleneck["units"]


def test_a_resumed_run_continues_with_the_crops_it_has_not_used(tmp_path, tiny_config, make_audio):
    from snn_codec.train.run import build_loaders

    data_dir = tmp_path / "audio"
    data_dir.mkdir()
    sf.write(data_dir / "clip.wav", make_audio(2.0, 8000)[0], 8000)
    config = tiny_run_config(tiny_config, data_dir, steps=5)
    fresh, _ = build_loaders(config)
    resumed, _ = build_loaders(config, start_step=3)
    assert len(fresh) == len(resumed) == 5  # Lightning counts batches up to the full length either way
    fresh_batches = list(fresh)
    resumed_batches = list(resumed)
    assert len(resumed_batches) == 2
    for a, b in zip(fresh_batches[3:], resumed_batches):
        assert torch.equal(a, b)
