"""Decoders: events (B, N, T) -> waveform (B, 1, T * hop_length).

`IstftDecoder` works at frame rate and synthesises with an inverse STFT (Vocos-style): cheap on CPU.
`ConvDecoder` mirrors the encoder with transposed convolutions: the classic, costlier alternative.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from snn_codec.config import ModelConfig
from snn_codec.models.layers import ConvNeXtBlock, ResidualUnit, Upsample, split_hop


class IstftDecoder(nn.Module):
    """ConvNeXt blocks at `upsample` x frame rate, then log-magnitude and phase per STFT bin.

    The STFT hop is hop_length / upsample and the window 4 hops long (Hann), with "same" padding so that
    T latent frames give exactly T * hop_length samples.
    """

    def __init__(self, config: ModelConfig, units: int):
        super().__init__()
        dec = config.decoder
        self.upsample = dec.upsample
        self.hop = config.hop_length // dec.upsample
        self.n_fft = 4 * self.hop
        self.inp = nn.Conv1d(units, dec.dim, kernel_size=7, padding=3)
        self.blocks = nn.Sequential(*[ConvNeXtBlock(dec.dim) for _ in range(dec.layers)])
        self.norm = nn.LayerNorm(dec.dim)
        self.head = nn.Linear(dec.dim, 2 * (self.n_fft // 2 + 1))
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)
        reach = 3 * self.upsample + 3 * dec.layers + self.n_fft // (2 * self.hop)  # in STFT frames
        self.context_frames = math.ceil(reach / self.upsample) + 1

    def forward(self, z: Tensor) -> Tensor:
        """(B, N, T) events -> (B, 1, T * hop_length) float32; the network runs in its weights' dtype."""
        x = self.inp(z.to(self.inp.weight.dtype))
        if self.upsample > 1:
            x = x.repeat_interleave(self.upsample, dim=-1)
        x = self.norm(self.blocks(x).transpose(1, 2))  # (B, U, C)
        log_mag, phase = self.head(x).float().chunk(2, dim=-1)  # (B, U, F) each
        magnitude = log_mag.clamp(max=6.0).exp()
        spec = torch.complex(magnitude * phase.cos(), magnitude * phase.sin())  # (B, U, F)
        return self.istft(spec).unsqueeze(1)

    def istft(self, spec: Tensor) -> Tensor:
        """Inverse STFT with "same" padding: (B, U, F) complex, frame-major -> (B, U * hop) real."""
        frames = torch.fft.irfft(spec, n=self.n_fft, dim=-1) * self.window  # (B, U, n_fft)
        num_frames = frames.shape[1]
        audio = overlap_add(frames, self.hop)
        envelope = overlap_add(self.window.square().expand(1, num_frames, -1), self.hop)[0]
        pad = (self.n_fft - self.hop) // 2
        return audio[:, pad : pad + num_frames * self.hop] / envelope[pad : pad + num_frames * self.hop]


def overlap_add(frames: Tensor, hop: int) -> Tensor:
    """(B, U, n_fft) frames, n_fft a multiple of `hop` -> (B, (U - 1) * hop + n_fft), each frame added in at
    `hop` times its index: one shifted sum per hop of the frame (cheaper than F.fold)."""
    batch, num_frames, n_fft = frames.shape
    overlap = n_fft // hop
    segments = frames.view(batch, num_frames, overlap, hop)
    out = frames.new_zeros(batch, num_frames + overlap - 1, hop)
    for j in range(overlap):
        out[:, j : j + num_frames] += segments[:, :, j]
    return out.view(batch, -1)


class ConvDecoder(nn.Module):
    """Mirror of the encoder: transposed-conv upsampling stages, each followed by residual units."""

    def __init__(self, config: ModelConfig, units: int):
        super().__init__()
        channels = config.decoder.channels
        strides = tuple(reversed(split_hop(config.hop_length, len(channels))))
        widths = (*channels, channels[-1])
        layers: list[nn.Module] = [nn.Conv1d(units, widths[0], kernel_size=7, padding=3)]
        for stage, stride in enumerate(strides):
            layers.append(Upsample(widths[stage], widths[stage + 1], stride))
            layers += [ResidualUnit(widths[stage + 1], d) for d in config.encoder.dilations]
        layers += [nn.ELU(), nn.Conv1d(widths[-1], 1, kernel_size=7, padding=3)]
        self.net = nn.Sequential(*layers)
        reach, jump = 3, 1  # in latent frames, then finer
        for stride in strides:
            reach += 2 / jump + sum(config.encoder.dilations) / (jump * stride)
            jump *= stride
        self.context_frames = math.ceil(reach) + 2

    def forward(self, z: Tensor) -> Tensor:
        """(B, N, T) events -> (B, 1, T * hop_length) float32; the network runs in its weights' dtype."""
        return torch.tanh(self.net(z.to(self.net[0].weight.dtype)).float())


def build_decoder(config: ModelConfig, units: int) -> nn.Module:
    return {"istft": IstftDecoder, "conv": ConvDecoder}[config.decoder.kind](config, units)
