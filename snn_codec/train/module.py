"""LightningModule: losses, sparsity schedule or rate controller, validation metrics. The same code runs on
CPU, GPU or DDP."""

from __future__ import annotations

import math

import numpy as np
import pytorch_lightning as pl
import torch
from torch import Tensor

from snn_codec.bitstream import encode_events
from snn_codec.bitstream.entropy import model_cost_bits
from snn_codec.codec import Codec
from snn_codec.config import Config, from_dict, to_dict
from snn_codec.errors import ConfigError
from snn_codec.eval.metrics import bitrate_kbps, log_mel_distance, si_sdr
from snn_codec.train.losses import mel_loss, multi_resolution_stft_loss
from snn_codec.train.schedules import learning_rate_factor, rate_control_step, sparsity_weight

# Metric prefixes of the validation loaders, in order: in-domain, then the held-out (unseen) timbre.
VALIDATION_PREFIXES = ("val", "val_unseen")


def stream_model_kbps(events: np.ndarray, frame_rate: float) -> float:
    """(B, N, T) events, coded back to back as one stream -> the entropy coder's model cost in kbps."""
    stream = np.concatenate(list(events), axis=1)
    return model_cost_bits(stream) / (stream.shape[1] / frame_rate) / 1000


CALIBRATION_BATCHES = 10  # training batches averaged for the first calibration, before the controller acts


class CodecModule(pl.LightningModule):
    """Trains a Codec. Checkpoints carry the full config (hparams) so a run resumes from the file alone."""

    def __init__(self, config: dict):
        super().__init__()
        self.save_hyperparameters({"config": config})
        self.config: Config = from_dict(Config, config)
        self.codec = Codec(self.config.model)
        control = self.config.train.rate_control
        if self.rate_controlled and not (control.gain > 0 and control.calibration_window >= 1
                                            and 0 < control.min_weight <= control.initial_weight <= control.max_weight):
            raise ConfigError("train.rate_control: needs gain > 0, calibration_window >= 1 and "
                              "0 < min_weight <= initial_weight <= max_weight")
        if self.rate_controlled and self.codec.bottleneck.stores_indices:
            raise ConfigError("train.rate_control targets the rate of spike events; a VQ model's rate is set by "
                              "its codebooks (size and number), so leave target_kbps at 0")
        # The rate controller's state, in buffers so that checkpoints carry it and a resumed run goes on from it:
        # log(weight), the validation-to-training rate ratio, and the exponentially decayed sum and count of
        # recent training-batch rates (their ratio is the recent mean rate).
        for name, value in (("sparsity_log_weight", math.log(control.initial_weight)), ("rate_calibration", 1.0),
                            ("batch_kbps_sum", 0.0), ("batch_kbps_count", 0.0)):
            self.register_buffer(name, torch.tensor(value, dtype=torch.float64))
        self._validation: dict[int, list[dict[str, float]]] = {}
        self._validation_events: dict[int, list[np.ndarray]] = {}
        # A fresh run validates once before training (Lightning's sanity pass over the whole validation
        # set): its rate waits here until CALIBRATION_BATCHES training batches give the first calibration.
        self._initial_validation_kbps: float | None = None

    @classmethod
    def from_config(cls, config: Config) -> "CodecModule":
        return cls(to_dict(config))

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

    def _losses(self, audio: Tensor) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        train, sample_rate = self.config.train, self.config.model.sample_rate
        out = self.codec(audio)
        reference, estimate = audio[:, 0], out.audio[:, 0]
        stft = multi_resolution_stft_loss(reference, estimate, sample_rate)
        mel = mel_loss(reference, estimate, sample_rate)
        weight = self._sparsity_weight()
        loss = train.stft_weight * stft + train.mel_weight * mel + weight * out.bottleneck.aux_loss
        logs = {"loss": loss, "stft": stft, "mel": mel, "sparsity_weight": torch.tensor(weight)}
        logs.update(out.bottleneck.stats)
        return loss, logs, out.bottleneck.events

    def training_step(self, batch: Tensor, batch_idx: int) -> Tensor:
        loss, logs, events = self._losses(batch)
        if self.rate_controlled:
            logs["model_kbps"] = torch.tensor(self._control_rate(events))
            logs["calibrated_kbps"] = logs["model_kbps"] * float(self.rate_calibration)
        self.log_dict({f"train/{k}": v for k, v in logs.items()}, prog_bar=False, sync_dist=False)
        self.log("loss", loss, prog_bar=True, logger=False)
        if "firing_rate" in logs:  # spiking bottlenecks; VQ ones report codebook statistics instead
            self.log("rate", logs["firing_rate"], prog_bar=True, logger=False)
        return loss

    def _control_rate(self, events: Tensor) -> float:
        """Measures the batch's coded rate (averaged over DDP ranks) and updates the sparsity weight.

        Training crops (short, augmented) code at another rate than whole validation audio; the rate the
        controller compares with the target is the batch's, scaled by the ratio of the last validation's
        coded rate to the recent batch rate at that time. So the target is met on validation audio.

        The recent batch rate is an exponentially weighted mean over about `calibration_window` steps: it
        follows the rate as the weight moves it, so the ratio compares validation and training rates of the
        same model rather than of a model that has since changed. A fresh run gets its first ratio from a
        validation before training and its first CALIBRATION_BATCHES batches, during which the weight holds.
        """
        control = self.config.train.rate_control
        rate = stream_model_kbps(events.detach().cpu().numpy(), self.config.model.frame_rate)
        rate = float(self.trainer.strategy.reduce(torch.tensor(rate, device=self.device), reduce_op="mean"))
        decay = 1.0 - 1.0 / control.calibration_window
        self.batch_kbps_sum.mul_(decay).add_(rate)
        self.batch_kbps_count.mul_(decay).add_(1.0)
        if self._initial_validation_kbps is not None:  # only a fresh run has one: its batches are steps 0, 1, ...
            if self.global_step + 1 < CALIBRATION_BATCHES:
                return rate  # the weight holds until the first calibration
            self._calibrate_rate(self._initial_validation_kbps)
            self._initial_validation_kbps = None
        if self.global_step >= control.delay_steps:
            calibrated = rate * float(self.rate_calibration)
            self.sparsity_log_weight.fill_(rate_control_step(float(self.sparsity_log_weight), calibrated, control))
        return rate

    def _calibrate_rate(self, validation_kbps: float) -> None:
        """After a validation: the ratio of its coded rate to the recent training-batch rate."""
        validation_kbps = float(self.trainer.strategy.reduce(torch.tensor(validation_kbps, device=self.device),
                                                             reduce_op="mean"))
        if self.batch_kbps_count > 0 and self.batch_kbps_sum > 0:
            self.rate_calibration.fill_(validation_kbps / float(self.batch_kbps_sum / self.batch_kbps_count))

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
            if not self.codec.bottleneck.stores_indices:  # spikes; a VQ model's codebook indices have no rate
                row["firing_rate"] = float(events[i].mean())
            self._validation.setdefault(dataloader_idx, []).append(row)

    def on_validation_epoch_end(self) -> None:
        """Logs mean metrics per loader; `payload_kbps` codes all crops back to back as one stream."""
        logs = {}
        for index, rows in sorted(self._validation.items()):
            prefix = VALIDATION_PREFIXES[index]
            logs.update({f"{prefix}/{k}": float(np.mean([row[k] for row in rows])) for k in rows[0]})
            stream = np.concatenate(self._validation_events[index], axis=1)
            _, payload = encode_events(stream, alphabet_size=self.codec.bottleneck.alphabet_size)
            logs[f"{prefix}/payload_kbps"] = bitrate_kbps(len(payload), stream.shape[1] / self.config.model.frame_rate)
        if self.rate_controlled and "val/payload_kbps" in logs:
            if self.trainer.sanity_checking:
                self._initial_validation_kbps = logs["val/payload_kbps"]
                logs.clear()  # the sanity pass is not a logged validation
            else:
                self._calibrate_rate(logs["val/payload_kbps"])
                logs["val/rate_calibration"] = float(self.rate_calibration)
        self._validation.clear()
        self._validation_events.clear()
        self.log_dict(logs, prog_bar=False, sync_dist=True, add_dataloader_idx=False)

    def configure_optimizers(self):
        train = self.config.train
        optimizer = torch.optim.AdamW(self.codec.parameters(), lr=train.learning_rate, weight_decay=train.weight_decay)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: learning_rate_factor(step, train.warmup_steps, train.steps)
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}
