"""Waveform encoder: (B, 1, S) -> (B, latent_dim, S / hop_length)."""

from __future__ import annotations

import math

from torch import Tensor, nn

from snn_codec.config import ModelConfig
from snn_codec.models.layers import Downsample, ResidualUnit, split_hop


class Encoder(nn.Module):
    """SEANet-like strided conv net: residual units then a strided conv per stage.

    The strides are derived from `sample_rate / frame_rate`, one per entry of `encoder.channels`.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        channels = config.encoder.channels
        self.strides = split_hop(config.hop_length, len(channels))
        self.hop_length = config.hop_length
        widths = (*channels, config.latent_dim)
        layers: list[nn.Module] = [nn.Conv1d(1, widths[0], kernel_size=7, padding=3)]
        for stage, stride in enumerate(self.strides):
            layers += [ResidualUnit(widths[stage], d) for d in config.encoder.dilations]
            layers.append(Downsample(widths[stage], widths[stage + 1], stride))
        layers.append(nn.Conv1d(widths[-1], config.latent_dim, kernel_size=3, padding=1))
        self.net = nn.Sequential(*layers)
        # Samples of context each side that influence one output frame (an upper bound).
        reach, jump = 3, 1
        for stride in self.strides:
            reach += (sum(config.encoder.dilations) + stride) * jump
            jump *= stride
        reach += jump
        self.context_frames = math.ceil(reach / self.hop_length) + 1

    def forward(self, audio: Tensor) -> Tensor:
        """audio: (B, 1, S) with S a multiple of hop_length -> latent (B, latent_dim, S / hop_length)."""
        return self.net(audio)
