"""The unquantized reference: continuous latents at the frame rate, for measuring the auto-encoder's ceiling."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from snn_codec.bottlenecks.base import Bottleneck, BottleneckOutput, State


class ContinuousBottleneck(Bottleneck):
    """z = sigmoid(BN(Conv1x1(latent))): the threshold bottleneck with its Heaviside step made smooth.

    Nothing is quantized, so there is no bitstream: a model with this bottleneck trains and evaluates, but
    cannot compress. It is the upper bound of the same encoder and decoder at the same frame rate and
    width (what they reach when the bottleneck costs nothing). It has the threshold bottleneck's tensors,
    so it warm-starts from a threshold model and the other way round.

    Args:
        latent_dim: channels C of the encoder output.
        units: channels N of z, as many as the spiking model it bounds.
    """

    has_bitstream: ClassVar[bool] = False

    def __init__(self, latent_dim: int, units: int = 64):
        super().__init__()
        self.units = units
        self.project = nn.Conv1d(latent_dim, units, kernel_size=1)
        self.norm = nn.BatchNorm1d(units)

    def forward(self, latent: Tensor, state: State | None = None) -> BottleneckOutput:
        z = torch.sigmoid(self.norm(self.project(latent)))  # (B, N, T) in (0, 1)
        return BottleneckOutput(z=z, events=z.detach(), aux_loss=z.new_zeros(()), stats={}, state={})

    def decode(self, events: Tensor) -> Tensor:
        return events
