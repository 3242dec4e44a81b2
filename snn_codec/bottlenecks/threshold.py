"""The Spiking Music paper's reference bottleneck: z = H(BN(Linear(latent)))."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from snn_codec.bottlenecks.base import Bottleneck, BottleneckOutput, State, spiking_output
from snn_codec.bottlenecks.surrogate import triangle_spike


class ThresholdBottleneck(Bottleneck):
    """Linear projection, BatchNorm, Heaviside step with a triangle surrogate gradient.

    Stateless: each frame is thresholded on its own, so chunked streams equal a single pass.
    The auxiliary loss is the firing rate (mean of the spikes), the paper's sparsity term.

    Args:
        latent_dim: channels C of the encoder output.
        units: number of neurons N (bits per frame).
    """

    def __init__(self, latent_dim: int, units: int = 64):
        super().__init__()
        self.units = units
        self.project = nn.Conv1d(latent_dim, units, kernel_size=1)
        self.norm = nn.BatchNorm1d(units)

    def forward(self, latent: Tensor, state: State | None = None) -> BottleneckOutput:
        current = self.norm(self.project(latent))  # (B, N, T)
        return spiking_output(triangle_spike(current), state={})

    def decode(self, events: Tensor) -> Tensor:
        return events.to(torch.get_default_dtype())
