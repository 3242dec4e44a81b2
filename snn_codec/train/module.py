"""LightningModule: losses, sparsity schedule or rate controller, validation metrics. The same code runs on
CPU, GPU or DDP."""

from __future__ import annotations

import math

import numpy as np
import pytorch_lightning as pl
import torch
from torch import Tensor

from snn_codec.bitstream.entropy import model_cost_bits
from snn_codec.bottlenecks import SpikingBottleneck
from snn_codec.codec import Codec, CodecOutput
from snn_codec.config import Config, from_dict, to_dict
from snn_codec.errors import ConfigError
from snn_codec.model_io import load_model
from snn_codec.eval.metrics import log_mel_distance, si_sdr
from snn_codec.rate import Trim, coded_kbps, probe_kbps, trim_rate
from snn_codec.train.losses import mel_loss, multi_resolution_stft_loss
from snn_codec.train.discriminators import (Discriminators, discriminator_loss, feature_matching_loss,
                                              generator_loss)
from snn_codec.train.schedules import learning_rate_factor, rate_control_step, sparsity_weight

# Metric prefixes of the validation loaders, in order: in-domain, then the held-out (unseen) timbre.
VALIDATION_PREFIXES = ("val", "val_unseen")


def stream_model_kbps(events: np.ndarray, frame_rate: float) -> float:
    """(B, N, T) events, coded back to back as one stream -> the entropy coder's model cost in kbps."""
    stream = np.concatenate(list(events), axis=1)
    return model_cost_bits(stream) / (stream.shape[1] / frame_rate) / 1000


class CodecModule(pl.LightningModule):
    """Trains a Codec. Checkpoints carry the full config (hparams) so a run resumes from the file alone."""

    def __init__(self, config: dict):
        super().__init__()
        self.save_hyperparameters({"config": config})
        self.config: Config = from_dict(Config, config)
        self.codec = Codec(self.config.model)
        # Training only, like the discriminators: the model whose encoder this one imitates.
        self.teacher = self._teacher(self.config.train.distill_from) if self.config.train.distill_from else None
        adversarial = self.config.train.adversarial
        # Training only: saved in checkpoints, never in the exported model (which holds `codec` alone).
        self.discriminators = (Discriminators(adversarial.periods, adversarial.fft_sizes, adversarial.channels)
                               if adversarial.enabled else None)
        # Two optimisers take turns (discriminators, then codec), so this module steps them itself.
        self.automatic_optimization = not adversarial.enabled
        control = self.config.train.rate_control
        if self.rate_controlled and not (control.gain > 0 and control.proportional >= 0 and control.probe_every >= 1
                                            and 0 < control.min_weight <= control.initial_weight <= control.max_weight):
            raise ConfigError("train.rate_control: needs gain > 0, proportional >= 0, probe_every >= 1 and "
                              "0 < min_weight <= initial_weight <= max_weight")
        if self.rate_controlled and self.codec.bottleneck.stores_indices:
            raise ConfigError("train.rate_control targets the rate of spike events; a VQ model's rate is set by "
                              "its codebooks (size and number), so leave target_kbps at 0")
        if self.rate_controlled and not isinstance(self.codec.bottleneck, SpikingBottleneck):
            raise ConfigError(f"train.rate_control moves the firing thresholds through the input BatchNorm of a "
                              f"SpikingBottleneck; {self.config.model.bottleneck['kind']} is not one: derive it from "
                              "snn_codec.bottlenecks.SpikingBottleneck, or leave target_kbps at 0")
        # The rate controller's state, in buffers so that checkpoints carry it and a resumed run goes on from
        # it: log(weight), the controller's integral and the last probe's coded rate.
        for name, value in (("sparsity_log_weight", math.log(control.initial_weight)),
                            ("rate_integral", math.log(control.initial_weight)), ("probe_rate_kbps", 0.0)):
            self.register_buffer(name, torch.tensor(value, dtype=torch.float64))
        self._validation: dict[int, list[dict[str, float]]] = {}
        self._validation_events: dict[int, list[np.ndarray]] = {}
        self.rate_probe: list[Tensor] = []  # (B, 1, S) batches of in-domain validation audio; see run_training

    def _teacher(self, model: str) -> Codec:
        """The frozen model to distil from; its bottleneck and decoder are copied into this one's."""
        train = self.config.train
        if train.adversarial.enabled or self.rate_controlled or train.init_from:
            raise ConfigError("train.distill_from trains the encoder alone: leave adversarial, rate_control and "
                              "init_from off (fine-tune end to end afterwards, from the distilled model)")
        teacher = load_model(model).eval().requires_grad_(False)
        for part in ("bottleneck", "decoder"):
            theirs, ours = getattr(teacher, part).state_dict(), getattr(self.codec, part).state_dict()
            if {k: v.shape for k, v in theirs.items()} != {k: v.shape for k, v in ours.items()}:
                raise ConfigError(f"train.distill_from {model!r}: its {part} differs from this config's "
                                  "(the student keeps the teacher's bottleneck and decoder)")
            getattr(self.codec, part).load_state_dict(theirs)
        return teacher

    def _distillation_losses(self, audio: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """The student's bottleneck input currents against the teacher's (both through the teacher's
        bottleneck with its running statistics), and the fraction of events on which they agree."""
        self.teacher.eval()  # Lightning switches every submodule to training mode each epoch
        with torch.no_grad():
            target = self.teacher.bottleneck.input_current(self.teacher.encoder(audio))
        current = self.teacher.bottleneck.input_current(self.codec.encoder(audio))
        loss = torch.nn.functional.mse_loss(current, target)
        agreement = ((current > 0) == (target > 0)).float().mean()
        return loss, {"loss": loss, "distill_mse": loss.detach(), "event_agreement": agreement}

    @classmethod
    def from_config(cls, config: Config) -> "CodecModule":
        return cls(to_dict(config))

    @property
    def stores_spikes(self) -> bool:
        """Whether the bottleneck's events are spikes (not VQ codes, nor the unquantized reference's floats)."""
        bottleneck = self.codec.bottleneck
        return bottleneck.has_bitstream and not bottleneck.stores_indices

    @property
    def rate_controlled(self) -> bool:
        return self.config.train.rate_control.target_kbps > 0

    def _sparsity_weight(self) -> float:
        train = self.config.train
        if not self.rate_controlled:
            return sparsity_weight(self.global_step, train.sparsity)
        if self.global_step < train.rate_control.delay_steps:
            return 0.0
        return math.exp(float(self.sparsity_log_weight))

    def _losses(self, audio: Tensor) -> tuple[Tensor, dict[str, Tensor], CodecOutput]:
        """The reconstruction and sparsity losses of one batch (B, 1, S), their logs, the codec's output."""
        train, sample_rate = self.config.train, self.config.model.sample_rate
        out = self.codec(audio)
        reference, estimate = audio[:, 0], out.audio[:, 0]
        stft = multi_resolution_stft_loss(reference, estimate, sample_rate)
        mel = mel_loss(reference, estimate, sample_rate)
        weight = self._sparsity_weight()
        loss = train.stft_weight * stft + train.mel_weight * mel + weight * out.bottleneck.aux_loss
        logs = {"loss": loss, "stft": stft, "mel": mel, "sparsity_weight": torch.tensor(weight)}
        logs.update(out.bottleneck.stats)
        return loss, logs, out

    def _adversarial_step(self, audio: Tensor) -> tuple[Tensor, dict[str, Tensor], CodecOutput]:
        """One step of each optimiser: the discriminators on real vs generated audio, then the codec on its
        reconstruction losses plus the adversarial and feature-matching terms (from `start_step` on)."""
        train = self.config.train
        adversarial = train.adversarial
        codec_optimizer, discriminator_optimizer = self.optimizers()
        loss, logs, out = self._losses(audio)
        active = self.global_step >= adversarial.start_step
        if active:
            self.toggle_optimizer(discriminator_optimizer)
            real_audio, fake_audio = audio[: adversarial.batch_size], out.audio[: adversarial.batch_size]
            real, fake = self.discriminators(real_audio), self.discriminators(fake_audio.detach())
            d_loss = discriminator_loss(real, fake)
            discriminator_optimizer.zero_grad()
            self.manual_backward(d_loss)
            self.clip_gradients(discriminator_optimizer, train.grad_clip, "norm")
            # The unwrapped optimiser: Lightning counts every wrapped step as a training step.
            discriminator_optimizer.optimizer.step()
            self.untoggle_optimizer(discriminator_optimizer)
        self.toggle_optimizer(codec_optimizer)  # from here on, gradients reach the codec's weights only
        if active:
            with torch.no_grad():
                real = self.discriminators(real_audio)
            fake = self.discriminators(fake_audio)
            g_adversarial, matching = generator_loss(fake), feature_matching_loss(real, fake)
            loss = loss + adversarial.weight * g_adversarial + adversarial.feature_weight * matching
            logs.update({"loss": loss, "disc": d_loss.detach(), "adv": g_adversarial.detach(),
                         "feature_matching": matching.detach()})
        codec_optimizer.zero_grad()
        self.manual_backward(loss)
        self.clip_gradients(codec_optimizer, train.grad_clip, "norm")
        codec_optimizer.step()
        self.untoggle_optimizer(codec_optimizer)
        codec_schedule, discriminator_schedule = self.lr_schedulers()
        codec_schedule.step()
        if active:
            discriminator_schedule.step()
        return loss, logs, out

    def training_step(self, batch: Tensor, batch_idx: int) -> Tensor:
        if self.teacher is not None:
            loss, logs = self._distillation_losses(batch)
            self.log_dict({f"train/{k}": v for k, v in logs.items()}, prog_bar=False, sync_dist=False)
            self.log("agree", logs["event_agreement"], prog_bar=True, logger=False)
            return loss
        if self.discriminators is None:
            loss, logs, out = self._losses(batch)
        else:
            loss, logs, out = self._adversarial_step(batch)
        if self.rate_controlled:
            logs["model_kbps"] = torch.tensor(stream_model_kbps(out.bottleneck.events.detach().cpu().numpy(),
                                                                self.config.model.frame_rate))
        self.log_dict({f"train/{k}": v for k, v in logs.items()}, prog_bar=False, sync_dist=False)
        self.log("loss", loss, prog_bar=True, logger=False)
        if "firing_rate" in logs:  # spiking bottlenecks; VQ ones report codebook statistics instead
            self.log("firing", logs["firing_rate"], prog_bar=True, logger=False)
        return loss

    def on_train_batch_start(self, batch: Tensor, batch_idx: int) -> None:
        """Every `probe_every` steps (from `delay_steps` on) the controller measures the probe's coded rate,
        updates the sparsity weight of the steps that follow and, with `trim`, sets the firing thresholds so
        that the probe codes at the target. The next probe then measures how far training moved the rate
        in between, and the weight settles where training no longer moves it."""
        control = self.config.train.rate_control
        since = self.global_step - control.delay_steps
        if not self.rate_controlled or since < 0 or since % control.probe_every:
            return
        if not self.rate_probe:
            raise ConfigError("train.rate_control needs validation audio to measure the rate on")
        if control.trim:
            trim = self.trim_to_target()
            rate, logs = trim.kbps_before, {"train/trim_offset": trim.offset}
        else:
            rate, logs = self.trainer.strategy.broadcast(probe_kbps(self.codec, self.rate_probe), src=0), {}
        integral, log_weight = rate_control_step(float(self.rate_integral), rate, control)
        self.rate_integral.fill_(integral)
        self.sparsity_log_weight.fill_(log_weight)
        self.probe_rate_kbps.fill_(rate)
        if self.logger is not None:  # every probe, not only at the logging interval
            logs.update({"train/probe_kbps": rate, "train/sparsity_weight": math.exp(log_weight)})
            self.logger.log_metrics(logs, step=self.global_step)

    def trim_to_target(self) -> Trim:
        """Trims the firing thresholds so that the probe codes at the target (see `trim_rate`).

        Under DDP every rank measures the same probe, but each keeps BatchNorm statistics of its own
        batches, so rank 0's trim (its rate and thresholds) is given to all: the weights stay identical.
        """
        trim = self.trainer.strategy.broadcast(
            trim_rate(self.codec, self.rate_probe, self.config.train.rate_control.target_kbps), src=0)
        bias = self.codec.bottleneck.norm.bias
        with torch.no_grad():
            bias.copy_(self.trainer.strategy.broadcast(bias.detach().clone(), src=0))
        return trim

    def validation_step(self, batch: Tensor, batch_idx: int, dataloader_idx: int = 0) -> None:
        sample_rate = self.config.model.sample_rate
        out = self.codec(batch)
        events = out.bottleneck.events.cpu().numpy()
        self._validation_events.setdefault(dataloader_idx, []).extend(events)
        for i in range(batch.shape[0]):
            reference, estimate = batch[i, 0].float().cpu(), out.audio[i, 0].float().cpu()
            row = {
                "si_sdr": si_sdr(reference, estimate),
                "log_mel_db": log_mel_distance(reference, estimate, sample_rate),
            }
            if self.stores_spikes:  # a VQ model's codebook indices have no firing rate
                row["firing_rate"] = float(events[i].mean())
            self._validation.setdefault(dataloader_idx, []).append(row)

    def on_validation_epoch_end(self) -> None:
        """Logs mean metrics per loader; `payload_kbps` codes all crops back to back as one stream."""
        logs = {}
        for index, rows in sorted(self._validation.items()):
            prefix = VALIDATION_PREFIXES[index]
            logs.update({f"{prefix}/{k}": float(np.mean([row[k] for row in rows])) for k in rows[0]})
            if self.codec.bottleneck.has_bitstream:
                logs[f"{prefix}/payload_kbps"] = coded_kbps(self._validation_events[index],
                                                            self.codec.bottleneck.alphabet_size,
                                                            self.config.model.frame_rate)
        self._validation.clear()
        self._validation_events.clear()
        self.log_dict(logs, prog_bar=False, sync_dist=True, add_dataloader_idx=False)

    def configure_optimizers(self):
        train = self.config.train

        def warm_up_then_decay(step: int) -> float:
            return learning_rate_factor(step, train.warmup_steps, train.steps)

        # Distillation trains the encoder alone; the bottleneck and decoder stay the teacher's.
        trained = self.codec.encoder if self.teacher is not None else self.codec
        optimizer = torch.optim.AdamW(trained.parameters(), lr=train.learning_rate, weight_decay=train.weight_decay)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, warm_up_then_decay)
        if self.discriminators is None:
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}
        critic = torch.optim.AdamW(self.discriminators.parameters(), lr=train.adversarial.learning_rate,
                                   betas=(0.8, 0.99), weight_decay=train.weight_decay)
        return [optimizer, critic], [schedule, torch.optim.lr_scheduler.LambdaLR(critic, warm_up_then_decay)]
