"""Distillation: a new encoder learns a trained model's bottleneck input currents; the rest is copied."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from snn_codec.config import Config, DataConfig, RateControlConfig, TrainConfig
from snn_codec.errors import ConfigError
from snn_codec.model_io import load_model
from snn_codec.train.module import CodecModule
from snn_codec.train.run import run_training


def stft_student(tiny_config):
    encoder = replace(tiny_config.encoder, kind="stft", dim=16, layers=1, stft_frames=2)
    return replace(tiny_config, name="tiny-student", encoder=encoder)


def distill_run(tiny_config, data_dir, teacher, steps: int, **train) -> Config:
    data = DataConfig(train=f"folder:{data_dir}", validation=f"folder:{data_dir}", segment_s=0.2,
                      validation_crops=2, validation_segment_s=0.4)
    options = dict(steps=steps, batch_size=2, warmup_steps=1, data=data, val_every=2, checkpoint_every=1,
                   distill_from=str(teacher)) | train
    return Config(model=stft_student(tiny_config), train=TrainConfig(**options))


def test_distilled_model_keeps_the_teachers_bottleneck_and_decoder(tmp_path, tiny_config, tiny_model_file, audio_dir):
    model_path = run_training(distill_run(tiny_config, audio_dir, tiny_model_file, steps=3), tmp_path / "run",
                              progress=False)
    student, teacher = load_model(model_path), load_model(tiny_model_file)
    assert student.config.encoder.kind == "stft"
    for part in ("bottleneck", "decoder"):
        ours, theirs = getattr(student, part).state_dict(), getattr(teacher, part).state_dict()
        assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)
    assert not any(k.startswith("teacher.") for k in student.state_dict())
    metrics = (tmp_path / "run" / "logs" / "version_0" / "metrics.csv").read_text()
    assert "val/log_mel_db" in metrics  # the student codec is validated as a whole


def test_distillation_brings_the_currents_closer(tiny_config, tiny_model_file, audio_dir, make_audio):
    config = distill_run(tiny_config, audio_dir, tiny_model_file, steps=40, learning_rate=3e-3)
    module = CodecModule.from_config(config)
    optimizer = module.configure_optimizers()["optimizer"]
    assert {id(p) for group in optimizer.param_groups for p in group["params"]} == {
        id(p) for p in module.codec.encoder.parameters()}
    torch.manual_seed(0)
    audio = torch.from_numpy(make_audio(0.4, 8000, seed=3)).view(1, 1, -1).repeat(2, 1, 1)
    first, _ = module._distillation_losses(audio)
    for _ in range(40):
        loss, logs = module._distillation_losses(audio)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.5 * first.item()
    assert 0.0 <= float(logs["event_agreement"]) <= 1.0


@pytest.mark.parametrize("change,message", [
    (dict(rate_control=RateControlConfig(target_kbps=1.0)), "encoder alone"),
    (dict(init_from="piano-v3"), "encoder alone"),
])
def test_distillation_refuses_settings_that_train_more_than_the_encoder(tiny_config, tiny_model_file, audio_dir,
                                                                         change, message):
    with pytest.raises(ConfigError, match=message):
        CodecModule.from_config(distill_run(tiny_config, audio_dir, tiny_model_file, steps=1, **change))


def test_a_teacher_with_another_decoder_is_refused(tiny_config, tiny_model_file, audio_dir):
    config = distill_run(tiny_config, audio_dir, tiny_model_file, steps=1)
    wider = replace(config.model, decoder=replace(config.model.decoder, dim=24))
    with pytest.raises(ConfigError, match="decoder differs"):
        CodecModule.from_config(replace(config, model=wider))
