"""Training runs end to end on a tiny model and resumes from its checkpoint."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import soundfile as sf
import torch

from snn_codec.config import Config, DataConfig, TrainConfig, load_config
from snn_codec.model_io import load_model
from snn_codec.errors import CodecError
from snn_codec.train.run import run_training
from snn_codec.config import RateControlConfig, SparsityConfig
from snn_codec.eval.plots import read_training_logs
from snn_codec.train.schedules import learning_rate_factor, rate_control_step, sparsity_weight


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
    assert not any(key.startswith("val_unseen") for key in metrics)  # no soundfont held out
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
    stairs = SparsityConfig(start=0.0, end=1.0, ramp_steps=100, stair_steps=25)
    assert [sparsity_weight(s, stairs) for s in (0, 24, 25, 49, 50, 99, 100)] == [0, 0, 0.25, 0.25, 0.5, 0.75, 1.0]
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
               "--accelerator", "cpu", "--devices", "2", "--threads", "1", "--target-kbps", "0.5"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Starting with 2 processes" in result.stderr + result.stdout
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    # the rate controller's probe and trims ran on both ranks (rank 0's trim given to both)
    assert metrics["step"] == 2 and "trim/kbps_after" in metrics
    assert "rate trimmed to the target 0.5 kbps" in result.stdout
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


def test_rate_controller_step_is_proportional_integral_in_log_ratio_and_bounded():
    import math

    control = RateControlConfig(target_kbps=1.5, gain=0.1, proportional=2.0, min_weight=1e-3, max_weight=10.0)
    start = math.log(0.1)
    integral, log_weight = rate_control_step(start, 3.0, control)
    assert integral == pytest.approx(start + 0.1 * math.log(2))
    assert log_weight == pytest.approx(integral + 2.0 * math.log(2))  # too many bits: a heavier weight
    integral, log_weight = rate_control_step(start, 0.75, control)
    assert log_weight == pytest.approx(start - 2.1 * math.log(2))  # symmetric in ratio
    assert rate_control_step(start, 1.5, control) == (start, start)  # on target: nothing moves
    assert rate_control_step(math.log(10.0), 1e6, control) == pytest.approx((math.log(10.0),) * 2)
    assert rate_control_step(math.log(1e-3), 0.0, control) == pytest.approx((math.log(1e-3),) * 2)


def tiny_corpus(root, make_audio):
    """A synthetic-corpus layout (manifest with soundfonts) from generated audio: fonts a and b."""
    pieces = []
    for index, (split, font) in enumerate([("train", "a"), ("train", "b"), ("validation", "a"), ("validation", "b")]):
        path = root / split / f"piece_{index:05d}.flac"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, make_audio(1.0, 8000, seed=index)[0], 8000)
        pieces.append({"name": path.stem, "split": split, "soundfont": font, "audio": f"{split}/{path.name}"})
    (root / "manifest.json").write_text(json.dumps({"version": 2, "pieces": pieces}))
    return root


@pytest.mark.parametrize("target_kbps, direction, trim", [(0.01, 1, True), (1000.0, -1, True), (0.01, 1, False)])
def test_rate_control_with_holdout_and_augmentation(tmp_path, tiny_config, make_audio, target_kbps, direction, trim,
                                                    monkeypatch):
    import math

    from snn_codec.config import AugmentConfig
    from snn_codec.train import module as module_file
    from snn_codec.train.module import CodecModule

    probes = []
    original = module_file.trim_rate
    monkeypatch.setattr(module_file, "trim_rate", lambda codec, probe, target: probes.append(
        (codec.training, len(probe), target)) or original(codec, probe, target))

    corpus = tiny_corpus(tmp_path / "corpus", make_audio)
    config = tiny_run_config(tiny_config, corpus, steps=3)
    data = replace(config.train.data, train=f"synth:{corpus}", validation=f"synth:{corpus}", holdout_soundfont="b",
                   augment=AugmentConfig(enabled=True, rt60_s=(0.1, 0.2)))
    control = RateControlConfig(target_kbps=target_kbps, gain=0.5, proportional=1.0, initial_weight=0.1,
                                probe_every=2, trim=trim)
    config = replace(config, train=replace(config.train, data=data, rate_control=control))
    run_training(config, tmp_path / "run", progress=False)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    for prefix in ("val", "val_unseen"):
        assert {f"{prefix}/log_mel_db", f"{prefix}/payload_kbps", f"{prefix}/firing_rate"} <= set(metrics)
    assert metrics["val_unseen/log_mel_db"] != metrics["val/log_mel_db"]  # different audio
    logs = read_training_logs(tmp_path / "run")
    assert [step for step, _ in logs["val_unseen/payload_kbps"]][0] == 1  # validated after the second step
    # probed and trimmed before steps 0 and 2 on the in-domain validation crops (two batches of one), in
    # training mode (the probe switches to eval and back itself)
    assert [step for step, _ in logs["train/probe_kbps"]] == [0, 2]
    assert (tmp_path / "run" / "training.png").stat().st_size > 10_000
    module = CodecModule.load_from_checkpoint(tmp_path / "run/checkpoints/last.ckpt", weights_only=False)
    moved = float(module.sparsity_log_weight) - math.log(0.1)
    assert moved * direction > 0.5  # far off the target: weight pushed the right way
    assert float(module.probe_rate_kbps) == pytest.approx(logs["train/probe_kbps"][-1][1])
    if not trim:
        assert probes == [] and "train/trim_offset" not in logs and "trim/offset" not in metrics
        return
    assert probes == [(True, 2, target_kbps)] * 3  # before steps 0 and 2, and when training ended
    assert [step for step, _ in logs["train/trim_offset"]] == [0, 2]
    # the trim takes the rate toward the target (which a tiny model cannot reach: at 0.01 kbps it codes
    # fewer bits, at 1000 kbps its rate can only stay or grow), and the metrics are the trimmed model's
    first_trim = logs["train/trim_offset"][0][1]
    if direction > 0:
        assert first_trim < 0 and metrics["trim/kbps_after"] <= metrics["trim/kbps_before"]
    else:
        assert first_trim >= 0 and metrics["trim/kbps_after"] >= metrics["trim/kbps_before"]
    assert metrics["val/payload_kbps"] == pytest.approx(metrics["trim/kbps_after"])


@pytest.mark.parametrize("bad", [{"gain": 0.0}, {"probe_every": 0}, {"proportional": -1.0},
                                 {"initial_weight": 1e3}])
def test_rate_control_refuses_absurd_settings(tiny_config, bad):
    from snn_codec.errors import ConfigError
    from snn_codec.train.module import CodecModule

    control = replace(RateControlConfig(target_kbps=1.0), **bad)
    with pytest.raises(ConfigError, match="rate_control"):
        CodecModule.from_config(Config(model=tiny_config, train=replace(Config().train, rate_control=control)))


def test_init_from_grows_the_bottleneck_and_starts_out_computing_the_same(tiny_config, tiny_codec, tiny_model_file,
                                                                          make_audio):
    from snn_codec.train.module import CodecModule
    from snn_codec.train.run import _initialise_from

    units = tiny_config.bottleneck["units"]
    wide = replace(tiny_config, bottleneck={**tiny_config.bottleneck, "units": 2 * units})
    module = CodecModule.from_config(Config(model=wide))
    _initialise_from(module, str(tiny_model_file))
    codec = module.codec.eval()
    source = tiny_codec.state_dict()
    assert torch.equal(codec.state_dict()["bottleneck.project.weight"][:units], source["bottleneck.project.weight"])
    audio = torch.from_numpy(make_audio(0.5, tiny_config.sample_rate)).reshape(1, 1, -1)
    with torch.no_grad():
        grown, original = codec(audio), tiny_codec(audio)
    assert grown.bottleneck.events.shape[1] == 2 * units
    assert torch.equal(grown.bottleneck.events[:, :units], original.bottleneck.events)
    assert grown.bottleneck.events[:, units:].any()  # the new units fire: they have their own projection
    torch.testing.assert_close(grown.audio, original.audio)  # but their decoder weights start at zero
    # fewer units, or more units and another change, are not a growth
    for other in (replace(tiny_config, bottleneck={**tiny_config.bottleneck, "units": units // 2}),
                  replace(wide, latent_dim=2 * tiny_config.latent_dim)):
        with pytest.raises(CodecError, match="architecture differs"):
            _initialise_from(CodecModule.from_config(Config(model=other)), str(tiny_model_file))


def test_a_vq_model_with_the_units_as_output_channels_starts_from_a_spiking_model(tiny_config, tiny_model_file):
    from snn_codec.train.module import CodecModule
    from snn_codec.train.run import _initialise_from

    bottleneck = {"kind": "rvq", "codebook_size": 16, "codebook_dim": 4, "kmeans_init": False,
                  "output_channels": tiny_config.bottleneck["units"]}
    module = CodecModule.from_config(Config(model=replace(tiny_config, bottleneck=bottleneck)))
    _initialise_from(module, str(tiny_model_file))
    source, state = load_model(tiny_model_file).state_dict(), module.codec.state_dict()
    shared = [k for k in source if not k.startswith("bottleneck.")]
    assert shared and all(torch.equal(state[k], source[k]) for k in shared)


def test_init_from_copies_a_trained_model_and_refuses_another_architecture(tiny_config, tiny_model_file):
    from snn_codec.errors import CodecError
    from snn_codec.train.module import CodecModule
    from snn_codec.train.run import _initialise_from

    module = CodecModule.from_config(Config(model=tiny_config))
    _initialise_from(module, str(tiny_model_file))
    source = load_model(tiny_model_file).state_dict()
    assert all(torch.equal(v, source[k]) for k, v in module.codec.state_dict().items())
    other = replace(tiny_config, latent_dim=tiny_config.latent_dim * 2)
    with pytest.raises(CodecError, match="architecture differs"):
        _initialise_from(CodecModule.from_config(Config(model=other)), str(tiny_model_file))
    # another neuron model: everything but the neuron's own parameters comes from the source
    leaky = replace(tiny_config, bottleneck={**tiny_config.bottleneck, "kind": "snntorch_leaky", "beta": 0.5})
    module = CodecModule.from_config(Config(model=leaky))
    _initialise_from(module, str(tiny_model_file))
    state = module.codec.state_dict()
    assert all(torch.equal(state[k], v) for k, v in source.items())
    assert torch.allclose(state["bottleneck.neuron.beta"], torch.tensor(0.5))


def test_command_line_overrides_are_saved_in_the_config(tmp_path, tiny_config, capsys):
    from snn_codec.cli import main
    from snn_codec.config import save_config
    from snn_codec.errors import CodecError
    from snn_codec.train.run import with_overrides

    config = Config(model=tiny_config)
    changed = with_overrides(config, target_kbps=1.5, init_from="piano-v1", steps=7)
    assert changed.train.rate_control.target_kbps == 1.5 and changed.train.init_from == "piano-v1"
    assert changed.train.steps == 7 and changed.model == config.model
    for bad in (0.0, -1.0, float("nan"), 1e9):
        with pytest.raises(CodecError, match="--target-kbps"):
            with_overrides(config, target_kbps=bad)
    save_config(config, tmp_path / "tiny.yaml")
    assert main(["train", "--config", str(tmp_path / "tiny.yaml"), "--target-kbps", "-2"]) == 1
    assert "--target-kbps must be a positive bitrate" in capsys.readouterr().err


def test_the_train_command_warns_when_the_trim_cannot_reach_the_target(tmp_path, tiny_config, make_audio, capsys):
    from snn_codec.cli import main
    from snn_codec.config import save_config

    data_dir = tmp_path / "audio"
    data_dir.mkdir()
    sf.write(data_dir / "clip.wav", make_audio(1.0, 8000)[0], 8000)
    save_config(tiny_run_config(tiny_config, data_dir, steps=1), tmp_path / "tiny.yaml")
    run_dir = tmp_path / "run"
    assert main(["train", "--config", str(tmp_path / "tiny.yaml"), "--run-dir", str(run_dir),
                 "--target-kbps", "1000"]) == 0
    out, err = capsys.readouterr()
    assert "rate trimmed to the target 1000 kbps" in out and "model written" in out
    assert "warning: the model codes at" in err and "not 1000" in err
    assert (run_dir / "model.safetensors").is_file()  # the trained model is kept: training cost time
