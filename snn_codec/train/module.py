"""LightningModule: losses, sparsity schedule, validation metrics. The same code runs on CPU, GPU or DDP."""

from __future__ import annotations

import numpy as np
import pytorch_lightning as pl
import torch
from torch import Tensor

from snn_codec.bitstream import encode_events
from snn_codec.codec import Codec
from snn_codec.config import Config, from_dict, to_dict
from snn_codec.eval.metrics import bitrate_kbps, log_mel_distance, si_sdr
from snn_codec.train.losses import mel_loss, multi_resolution_stft_loss
from snn_codec.train.schedules import learning_rate_factor, sparsity_weight


class CodecModule(pl.LightningModule):
    """Trains a Codec. Checkpoints carry the full config (hparams) so a run resumes from the file alone."""

    def __init__(self, config: dict):
        super().__init__()
        self.save_hyperparameters({"config": config})
        self.config: Config = from_dict(Config, config)
        self.codec = Codec(self.config.model)
        self._validation: list[dict[str, float]] = []

    @classmethod
    def from_config(cls, config: Config) -> "CodecModule":
        return cls(to_dict(config))

    def _losses(self, audio: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        train, sample_rate = self.config.train, self.config.model.sample_rate
        out = self.codec(audio)
        reference, estimate = audio[:, 0], out.audio[:, 0]
        stft = multi_resolution_stft_loss(reference, estimate, sample_rate)
        mel = mel_loss(reference, estimate, sample_rate)
        weight = sparsity_weight(self.global_step, train.sparsity)
        loss = train.stft_weight * stft + train.mel_weight * mel + weight * out.bottleneck.aux_loss
        logs = {"loss": loss, "stft": stft, "mel": mel, "sparsity_weight": torch.tensor(weight)}
        logs.update(out.bottleneck.stats)
        return loss, logs

    def training_step(self, batch: Tensor, batch_idx: int) -> Tensor:
        loss, logs = self._losses(batch)
        self.log_dict({f"train/{k}": v for k, v in logs.items()}, prog_bar=False, sync_dist=False)
        self.log("loss", loss, prog_bar=True, logger=False)
        self.log("rate", logs["firing_rate"], prog_bar=True, logger=False)
        return loss

    def validation_step(self, batch: Tensor, batch_idx: int) -> None:
        sample_rate = self.config.model.sample_rate
        out = self.codec(batch)
        events = out.bottleneck.events.cpu().numpy()
        for i in range(batch.shape[0]):
            reference, estimate = batch[i, 0].float().cpu(), out.audio[i, 0].float().cpu()
            _, payload = encode_events(events[i])
            duration_s = reference.shape[-1] / sample_rate
            self._validation.append(
                {
                    "si_sdr": si_sdr(reference, estimate),
                    "log_mel_db": log_mel_distance(reference, estimate, sample_rate),
                    "payload_kbps": bitrate_kbps(len(payload), duration_s),
                    "firing_rate": float(events[i].mean()),
                }
            )

    def on_validation_epoch_end(self) -> None:
        if not self._validation:
            return
        means = {k: float(np.mean([row[k] for row in self._validation])) for k in self._validation[0]}
        self._validation.clear()
        self.log_dict({f"val/{k}": v for k, v in means.items()}, prog_bar=False, sync_dist=True)

    def configure_optimizers(self):
        train = self.config.train
        optimizer = torch.optim.AdamW(self.parameters(), lr=train.learning_rate, weight_decay=train.weight_decay)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: learning_rate_factor(step, train.warmup_steps, train.steps)
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}
