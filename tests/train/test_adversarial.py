"""Adversarial training: discriminators train beside the codec, resume with it, and never ship."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch
from safetensors import safe_open

from snn_codec.config import AdversarialConfig, Config, DataConfig, TrainConfig
from snn_codec.model_io import load_model
from snn_codec.train.discriminators import (Discriminators, discriminator_loss, feature_matching_loss,
                                            generator_loss)
from snn_codec.train.run import run_training


def adversarial_run(tiny_config, data_dir, steps: int, start_step: int = 0) -> Config:
    data = DataConfig(train=f"folder:{data_dir}", validation=f"folder:{data_dir}", segment_s=0.2,
                      validation_crops=2, validation_segment_s=0.4)
    adversarial = AdversarialConfig(enabled=True, start_step=start_step, periods=(2, 3), fft_sizes=(64, 128),
                                    channels=4)
    train = TrainConfig(steps=steps, batch_size=2, warmup_steps=1, data=data, val_every=2, checkpoint_every=1,
                        adversarial=adversarial)
    return Config(model=tiny_config, train=train)


def test_losses_separate_real_from_generated():
    torch.manual_seed(0)
    discriminators = Discriminators(periods=(2, 3), fft_sizes=(64,), channels=4)
    audio = torch.randn(2, 1, 800)
    real, fake = discriminators(audio), discriminators(0.5 * audio)
    assert len(real) == 3 and all(score.shape[0] == 2 for score, _ in real)
    assert feature_matching_loss(real, real).item() == 0.0
    assert feature_matching_loss(real, fake).item() > 0.0
    # A perfect critic (real far above +1, generated far below -1) has zero hinge loss, and fools nobody.
    confident_real = [(torch.full_like(s, 5.0), f) for s, f in real]
    confident_fake = [(torch.full_like(s, -5.0), f) for s, f in fake]
    assert discriminator_loss(confident_real, confident_fake).item() == 0.0
    assert generator_loss(confident_fake).item() == pytest.approx(6.0)


def test_adversarial_run_trains_both_resumes_and_ships_only_the_codec(tmp_path, tiny_config, audio_dir):
    config = adversarial_run(tiny_config, audio_dir, steps=3)
    run_dir = tmp_path / "run"
    model_path = run_training(config, run_dir, max_steps=2, progress=False)
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert checkpoint["global_step"] == 2  # one step per batch, though two optimisers step
    assert any(key.startswith("discriminators.") for key in checkpoint["state_dict"])
    assert len(checkpoint["optimizer_states"]) == 2
    with safe_open(str(model_path), framework="pt") as handle:
        assert not any("discriminators" in key for key in handle.keys())
    assert all(state["state"] for state in checkpoint["optimizer_states"])  # both optimisers stepped
    first = load_model(model_path).weight_hash()

    run_training(config, run_dir, progress=False)  # resumes with the discriminators and their optimiser
    assert json.loads((run_dir / "metrics.json").read_text())["step"] == 3
    assert load_model(model_path).weight_hash() != first


def test_discriminators_wait_for_start_step(tmp_path, tiny_config, audio_dir):
    config = adversarial_run(tiny_config, audio_dir, steps=2, start_step=5)
    run_dir = tmp_path / "run"
    run_training(config, run_dir, progress=False)
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert checkpoint["optimizer_states"][1]["state"] == {}  # the discriminators' optimiser never stepped
    assert checkpoint["optimizer_states"][0]["state"]  # the codec's did


def test_adversarial_config_round_trips(tmp_path, tiny_config, audio_dir):
    from snn_codec.config import load_config, save_config

    config = adversarial_run(tiny_config, audio_dir, steps=1)
    save_config(config, tmp_path / "config.yaml")
    assert load_config(tmp_path / "config.yaml") == config
    assert replace(config.train.adversarial, enabled=False) == replace(AdversarialConfig(), periods=(2, 3),
                                                                       fft_sizes=(64, 128), channels=4)


def test_adversarial_training_runs_under_ddp(tmp_path, tiny_config, audio_dir):
    """Two CPU processes: the discriminators' backward pass leaves the codec's weights without gradients,
    which DDP accepts only when told to (train.run._strategy)."""
    import subprocess
    import sys

    from snn_codec.config import save_config

    save_config(adversarial_run(tiny_config, audio_dir, steps=2), tmp_path / "tiny.yaml")
    command = [sys.executable, "-m", "snn_codec", "train", "--config", "tiny.yaml", "--run-dir", "run",
               "--accelerator", "cpu", "--devices", "2", "--threads", "1"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Starting with 2 processes" in result.stderr + result.stdout
    checkpoint = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert checkpoint["global_step"] == 2
    assert all(state["state"] for state in checkpoint["optimizer_states"])


def test_the_training_figure_shows_the_adversarial_losses_when_there_are_any(training_figure):
    figure = training_figure("epoch,step,train/loss,train/disc,train/adv,train/feature_matching\n"
                             "0,24,1.5,1.9,0.9,0.2\n0,49,1.4,1.8,1.0,0.3\n")
    (panel,) = [ax for ax in figure.axes if ax.get_title().startswith("adversarial")]
    assert {line.get_label() for line in panel.get_lines()} == {"train/disc", "train/adv", "train/feature_matching"}

    figure = training_figure("epoch,step,train/loss\n0,24,1.5\n")
    assert not any(ax.get_title().startswith("adversarial") for ax in figure.axes)
