"""Encoders: (B, 1, S) -> (B, latent_dim, S / hop_length).

`Encoder` convolves the waveform at the sample rate (SEANet-like); `StftEncoder` works on log-magnitude
STFT frames at the latent frame rate (the mirror of the inverse-STFT decoder), several times faster.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from snn_codec.config import ModelConfig
from snn_codec.models.layers import ConvNeXtBlock, Downsample, ResidualUnit, split_hop
from snn_codec.models.neuromorphic import FilterbankEncoder


class Encoder(nn.Module):
    """SEANet-like strided conv net: residual units then a strided conv per stage.

    The strides are derived from `sample_rate / frame_rate`, one per entry of `encoder.channels`.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        channels, patch = config.encoder.channels, config.encoder.patch
        self.strides = split_hop(config.hop_length // patch, len(channels))
        self.hop_length = config.hop_length
        widths = (*channels, config.latent_dim)
        if patch == 1:
            first: nn.Module = nn.Conv1d(1, widths[0], kernel_size=7, padding=3)
        else:  # strided first: the rest runs at sample_rate / patch
            first = Downsample(1, widths[0], patch, activate=False)
        layers: list[nn.Module] = [first]
        for stage, stride in enumerate(self.strides):
            layers += [ResidualUnit(widths[stage], d) for d in config.encoder.dilations]
            layers.append(Downsample(widths[stage], widths[stage + 1], stride))
        layers.append(nn.Conv1d(widths[-1], config.latent_dim, kernel_size=3, padding=1))
        self.net = nn.Sequential(*layers)
        # Samples of context each side that influence one output frame (an upper bound).
        reach, jump = 3 * patch, patch
        for stride in self.strides:
            reach += (sum(config.encoder.dilations) + stride) * jump
            jump *= stride
        reach += jump
        self.context_frames = math.ceil(reach / self.hop_length) + 1

    def forward(self, audio: Tensor) -> Tensor:
        """audio: (B, 1, S) with S a multiple of hop_length -> latent (B, latent_dim, S / hop_length)."""
        return self.net(audio)


class StftEncoder(nn.Module):
    """Log-magnitude STFT, `stft_frames` frames stacked per latent frame, then ConvNeXt blocks at frame rate.

    The STFT hop is hop_length / stft_frames and its Hann window `window_hops` hops long, centred on the
    middle of its hop ("same" padding), so S samples give exactly S / hop_length latent frames.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        encoder = config.encoder
        self.hop_length = config.hop_length
        self.stft_frames = encoder.stft_frames
        self.hop = config.hop_length // encoder.stft_frames
        self.n_fft = encoder.window_hops * self.hop
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)
        features = (self.n_fft // 2 + 1) * encoder.stft_frames
        self.inp = nn.Conv1d(features, encoder.dim, kernel_size=1)
        self.blocks = nn.Sequential(*[ConvNeXtBlock(encoder.dim) for _ in range(encoder.layers)])
        self.norm = nn.LayerNorm(encoder.dim)
        self.out = nn.Linear(encoder.dim, config.latent_dim)
        self.padding = (self.n_fft - self.hop) // 2  # samples before a hop in its window ("same" padding)
        self.context_frames = math.ceil(self.padding / self.hop_length) + 3 * encoder.layers + 1

    def features(self, audio: Tensor) -> Tensor:
        """(B, 1, S) -> log power spectra (B, bins * stft_frames, S / hop_length)."""
        padded = F.pad(audio[:, 0], (self.padding, self.n_fft - self.hop - self.padding))
        spec = torch.stft(padded, self.n_fft, self.hop, window=self.window, center=False, return_complex=True)
        power = torch.log(spec.real.square() + spec.imag.square() + 1e-7)  # (B, bins, S / hop)
        batch, bins, frames = power.shape
        stacked = power.view(batch, bins, frames // self.stft_frames, self.stft_frames).transpose(2, 3)
        return stacked.reshape(batch, bins * self.stft_frames, frames // self.stft_frames)

    def forward(self, audio: Tensor) -> Tensor:
        x = self.blocks(self.inp(self.features(audio)))
        return self.out(self.norm(x.transpose(1, 2))).transpose(1, 2)


def build_encoder(config: ModelConfig) -> nn.Module:
    return {"conv": Encoder, "stft": StftEncoder, "filterbank": FilterbankEncoder}[config.encoder.kind](config)
