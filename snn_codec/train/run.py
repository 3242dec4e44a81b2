"""Training entry point: builds data and trainer from a Config, saves the config beside checkpoints,
resumes from the last checkpoint, and exports the trained model as safetensors."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint, TQDMProgressBar
from lightning_fabric.utilities.seed import pl_worker_init_function
from pytorch_lightning.loggers import CSVLogger
from pytorch_lightning.utilities import rank_zero_only
from torch.utils.data import DataLoader, Dataset, Sampler, Subset

from snn_codec.config import Config, ModelConfig, save_config, to_dict
from snn_codec.data.augment import Augmenter
from snn_codec.data.datasets import AudioCropDataset, dataset_files
from snn_codec.errors import CodecError
from snn_codec.eval.plots import plot_training
from snn_codec.model_io import load_model, save_model
from snn_codec.rate import check_target_kbps
from snn_codec.train.checkpoints import load_checkpoint, refusing_code
from snn_codec.train.interrupt import StopOnSignal, TrainingInterrupted
from snn_codec.train.module import CodecModule


def build_loaders(config: Config, start_step: int = 0) -> tuple[DataLoader, list[DataLoader]]:
    """The training loader and the validation loaders: in-domain, then the held-out soundfont if any.

    A resumed run starts at the training crops it has not yet seen.
    """
    train, rate = config.train, config.model.sample_rate
    data = train.data
    holdout = data.holdout_soundfont or None
    augment = Augmenter(data.augment, rate) if data.augment.enabled else None
    train_set = AudioCropDataset(
        dataset_files(data.train, "train", exclude_soundfont=holdout),
        rate,
        _segment_samples(data.segment_s, config),
        items_per_epoch=train.steps * train.batch_size,
        seed=train.seed,
        augment=augment,
    )
    validation_files = [dataset_files(data.validation, "validation", exclude_soundfont=holdout)]
    if holdout:
        validation_files.append(dataset_files(data.validation, "validation", soundfont=holdout))
    common = dict(num_workers=train.num_workers, persistent_workers=train.num_workers > 0,
                  worker_init_fn=_worker_init if train.num_workers > 0 else None)
    resume_at = ContinueSampler(len(train_set), start_step * train.batch_size)
    validation = [
        DataLoader(_validation_set(files, config), batch_size=max(1, train.batch_size // 4), shuffle=False, **common)
        for files in validation_files
    ]
    return DataLoader(train_set, batch_size=train.batch_size, sampler=resume_at, drop_last=True, **common), validation


def _worker_init(worker_id: int) -> None:
    """Data workers leave Ctrl-C to the trainer (they share the terminal's process group), which stops
    after the current step and needs its next batches to get there. Then Lightning's worker seeding."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if int(os.environ.get("PL_SEED_WORKERS", 0)):
        pl_worker_init_function(worker_id)


def _validation_set(files: list[Path], config: Config) -> Dataset:
    """Fixed crops of `files`, thinned evenly to `validation_crops`."""
    data = config.train.data
    crops = AudioCropDataset(files, config.model.sample_rate, _segment_samples(data.validation_segment_s, config),
                             random_crops=False)
    if len(crops) <= data.validation_crops:
        return crops
    picks = np.linspace(0, len(crops) - 1, data.validation_crops).round().astype(int)
    return Subset(crops, picks.tolist())


class ContinueSampler(Sampler[int]):
    """Indices `start` .. `total` - 1, in order, while reporting the full length.

    Training crops are a fixed sequence (crop i is drawn from seed i), one epoch long. A resumed run
    continues where it stopped: Lightning restores its batch counter and keeps counting up to the full
    length, so the sampler skips the crops already used instead of replaying them.
    """

    def __init__(self, total: int, start: int):
        self.total, self.start = total, min(start, total)

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.start, self.total))

    def __len__(self) -> int:
        return self.total


def _segment_samples(seconds: float, config: Config) -> int:
    """Seconds -> samples, rounded to whole latent frames."""
    hop = config.model.hop_length
    return max(1, round(seconds * config.model.sample_rate / hop)) * hop


def run_training(
    config: Config,
    run_dir: str | os.PathLike,
    *,
    resume: bool = True,
    accelerator: str = "auto",
    devices: str | int = "auto",
    max_steps: int | None = None,
    progress: bool = True,
) -> Path:
    """Trains (or resumes) a run in `run_dir` and exports `run_dir/model.safetensors`. Returns that path.

    `max_steps` stops early (the schedule still follows `config.train.steps`), e.g. to train in slices.
    The model is named `config.model.name` (see `save_model` for a shipped model's name). On Ctrl-C or
    SIGTERM the run stops after the step in progress, saves its checkpoint and raises
    `TrainingInterrupted`; running it again resumes from that step.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    saved = run_dir / "config.yaml"
    last = run_dir / "checkpoints" / "last.ckpt"
    if saved.exists() and last.exists() and resume:
        from snn_codec.config import load_config

        if _what_training_depends_on(load_config(saved)) != _what_training_depends_on(config):
            raise CodecError(f"{run_dir} holds a run with a different config; use a new --run-dir or --no-resume")
    save_config(config, saved)
    pl.seed_everything(config.train.seed, workers=True)
    resume_from = last if resume and last.exists() else None
    start_step = load_checkpoint(resume_from)["global_step"] if resume_from else 0
    if progress:
        _say(f"{run_dir}: resuming from step {start_step} of {config.train.steps}" if resume_from else
             f"{run_dir}: starting at step 0 of {config.train.steps}")
    train_loader, validation_loaders = build_loaders(config, start_step)
    module = CodecModule.from_config(config)
    if resume_from is None and config.train.init_from:
        _initialise_from(module, config.train.init_from)
    if module.rate_controlled:
        module.rate_probe = [batch for batch in validation_loaders[0]]
    checkpoints = ModelCheckpoint(
        dirpath=run_dir / "checkpoints", save_last=True, every_n_train_steps=config.train.checkpoint_every,
        save_top_k=0,
    )
    stop = StopOnSignal(notify=progress)
    trainer = pl.Trainer(
        default_root_dir=run_dir,
        accelerator=accelerator,
        devices=devices,
        strategy=_strategy(config, devices),
        max_steps=max_steps or config.train.steps,
        val_check_interval=config.train.val_every,
        check_val_every_n_epoch=None,
        # An adversarial run clips its two optimisers' gradients itself (CodecModule._adversarial_step).
        gradient_clip_val=None if config.train.adversarial.enabled else config.train.grad_clip,
        logger=CSVLogger(run_dir, name="logs"),  # a new version folder per (resumed) session
        callbacks=[checkpoints, stop, *([TQDMProgressBar(refresh_rate=10)] if progress else [])],
        enable_progress_bar=progress,
        log_every_n_steps=25,
        num_sanity_val_steps=0,
        enable_model_summary=progress,
    )
    try:
        with refusing_code(resume_from):  # a resumed checkpoint is read as data only, never run
            trainer.fit(module, train_loader, validation_loaders, ckpt_path=resume_from, weights_only=True)
    except SystemExit:  # Lightning's answer to a KeyboardInterrupt: here a second signal
        if stop.received is None:
            raise
        raise KeyboardInterrupt(f"stopped without saving; a rerun resumes from {last} if there is one") from None
    if stop.stopped_at is not None and trainer.global_step < (max_steps or config.train.steps):
        trainer.save_checkpoint(last)
        raise TrainingInterrupted(trainer.global_step, last)
    trimmed = module.rate_controlled and config.train.rate_control.trim
    trim = _trim(module, trainer, validation_loaders) if trimmed else {}
    trainer.save_checkpoint(last)
    model_path = run_dir / "model.safetensors"
    if trainer.is_global_zero:  # under DDP every rank gets here; one writes
        save_model(module.codec.cpu().eval(), model_path)
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val")} | trim
        (run_dir / "metrics.json").write_text(json.dumps({"step": trainer.global_step, **metrics}, indent=2))
        plot_training(run_dir, config.train.rate_control.target_kbps)
    return model_path


def _strategy(config: Config, devices: str | int) -> str:
    """DDP when devices > 1 ("auto"). The adversarial step runs a backward pass that reaches only the
    discriminators, which plain DDP takes for an error, so it needs DDP that allows unused parameters."""
    several = str(devices) not in ("auto", "1", "[0]")
    return "ddp_find_unused_parameters_true" if config.train.adversarial.enabled and several else "auto"


@rank_zero_only
def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _what_training_depends_on(config: Config) -> dict:
    """The config without the settings a run may change when it resumes: the model's name and how often
    it validates and saves checkpoints."""
    train = replace(config.train, val_every=1, checkpoint_every=1)
    return to_dict(replace(config, model=replace(config.model, name=""), train=train))


def training_warnings(config: Config) -> list[str]:
    """Settings that run but are probably not what was meant, one sentence each."""
    train = config.train
    warnings = []
    if train.warmup_steps >= train.steps:
        warnings.append(f"train.warmup_steps ({train.warmup_steps}) is not below train.steps ({train.steps}): the "
                        "learning rate never reaches train.learning_rate; lower warmup_steps for a run this short")
    return warnings


def _trim(module: CodecModule, trainer: pl.Trainer, validation_loaders: list[DataLoader]) -> dict[str, float]:
    """Trims the trained model's rate on the probe to the target, then validates it again (the metrics of
    the model that ships). Returns what the trim did, for metrics.json."""
    trim = module.trim_to_target()
    trainer.validate(module, validation_loaders, verbose=False)
    return {"trim/offset": trim.offset, "trim/kbps_before": trim.kbps_before, "trim/kbps_after": trim.kbps_after}


RUNNING_STATS = ("running_mean", "running_var", "num_batches_tracked")  # BatchNorm's statistics of its input


def _initialise_from(module: CodecModule, model: str) -> None:
    """Copies the weights of a trained model into a fresh run.

    Every tensor of the source must exist in the new model with the same shape, or grown when the new
    model differs only in having more bottleneck units. The new bottleneck may have parameters of its own
    (a LIF neuron's decay and threshold, say): they keep their initial values, so a neuron model can be
    fine-tuned from another one's encoder, projection and decoder. A bottleneck of another kind (VQ) takes
    the encoder and decoder and leaves out the source's bottleneck tensors it has no use for. An encoder of
    another kind (`model.encoder.kind`) starts fresh, the bottleneck and decoder copied but for the
    bottleneck's running statistics of the old encoder's latents.

    A grown tensor gets the source in its leading slice. Along its first axis (outputs: the new units'
    projection and normalisation) the rest keeps its initial values; along the others (inputs: the
    decoder's weights from the new units) the rest is zero, so the grown model starts out computing what
    the source computed, and the new units' events come into play as training moves those weights.
    """
    trained = load_model(model)
    source, target = trained.state_dict(), module.codec.state_dict()
    grows = _only_more_units(trained.config, module.codec.config)
    # another bottleneck kind (a VQ model from a spiking one) has its own tensors: only what it shares is copied
    source = {k: v for k, v in source.items() if k in target or not k.startswith("bottleneck.")}
    fresh = ("bottleneck.",)
    if trained.config.encoder.kind != module.codec.config.encoder.kind:  # another encoder kind starts fresh,
        # and so do the running statistics of the latents it makes (the bottleneck's BatchNorm)
        source = {k: v for k, v in source.items() if not k.startswith("encoder.") and not k.endswith(RUNNING_STATS)}
        fresh += ("encoder.",)
    foreign = [k for k in source if k not in target or not (
        source[k].shape == target[k].shape or grows and _fits_in(source[k].shape, target[k].shape))]
    new = [k for k in target if k not in source]
    if foreign or any(not k.startswith(fresh) for k in new):
        raise CodecError(f"train.init_from {model!r}: its architecture differs from this config's "
                         f"(not matching: {sorted(foreign)[:4]}; missing: {sorted(new)[:4]})")
    state = dict(target)
    for key, weights in source.items():
        state[key] = _grown(weights, target[key])
    module.codec.load_state_dict(state)


def _only_more_units(source: ModelConfig, target: ModelConfig) -> bool:
    """Whether the two models differ in nothing but the target's larger number of bottleneck units."""
    units = source.bottleneck.get("units", 0), target.bottleneck.get("units", 0)
    same_otherwise = replace(source, name=target.name, bottleneck={**source.bottleneck, "units": units[1]}) == target
    return units[1] > units[0] and same_otherwise


def _fits_in(shape: torch.Size, grown: torch.Size) -> bool:
    return len(shape) == len(grown) and all(a <= b for a, b in zip(shape, grown))


def _grown(source: torch.Tensor, initial: torch.Tensor) -> torch.Tensor:
    """`initial` with `source` in its leading slice; entries past the source along an axis > 0 are zero."""
    if source.shape == initial.shape:
        return source
    grown = initial.clone()
    for axis in range(1, grown.dim()):
        grown.narrow(axis, source.shape[axis], grown.shape[axis] - source.shape[axis]).zero_()
    grown[tuple(slice(0, n) for n in source.shape)] = source
    return grown


def with_overrides(config: Config, *, steps: int | None = None, data: str | None = None,
                   target_kbps: float | None = None, init_from: str | None = None, name: str | None = None,
                   val_every: int | None = None, checkpoint_every: int | None = None) -> Config:
    """The config with command-line overrides applied (they are saved with the run)."""
    train = config.train
    for key, value in (("steps", steps), ("val_every", val_every), ("checkpoint_every", checkpoint_every)):
        if value is not None and value < 1:
            raise CodecError(f"--{key.replace('_', '-')} must be at least 1, got {value}")
    if val_every is not None:
        train = replace(train, val_every=val_every)
    if checkpoint_every is not None:
        train = replace(train, checkpoint_every=checkpoint_every)
    if init_from is not None:
        train = replace(train, init_from=init_from)
    if steps is not None:
        train = replace(train, steps=steps)
    if target_kbps is not None:
        check_target_kbps(target_kbps)
        train = replace(train, rate_control=replace(train.rate_control, target_kbps=target_kbps))
    if data is not None:
        train = replace(train, data=replace(train.data, train=data, validation=data))
    model = config.model if name is None else replace(config.model, name=name)
    return replace(config, model=model, train=train)


def export_checkpoint(run_dir: str | os.PathLike, out: str | os.PathLike | None = None, half: str | None = None,
                      force: bool = False) -> Path:
    """Writes the model of a run's last checkpoint as safetensors (e.g. while the run is still training).

    The model keeps the run's name. `half`: which weights to store as float16 (see `save_model`). An
    existing output is overwritten only with `force`.
    """
    run_dir = Path(run_dir)
    last = run_dir / "checkpoints" / "last.ckpt"
    if not last.is_file():
        raise CodecError(f"{run_dir}: no checkpoint to export (expected {last})")
    target = Path(out or run_dir / "model.safetensors").with_suffix(".safetensors")
    if target.exists() and not force:
        raise CodecError(f"{target} exists; pass --force to overwrite it")
    with refusing_code(last):
        module = CodecModule.load_from_checkpoint(last, map_location="cpu", weights_only=True)
    plot_training(run_dir, module.config.train.rate_control.target_kbps)
    return save_model(module.codec.eval(), target, half=half)
