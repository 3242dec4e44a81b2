"""The Spiking Music paper's reference bottleneck: z = H(BN(Linear(latent)))."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from snn_codec.bottlenecks.base import BottleneckOutput, SpikingBottleneck, State, spiking_output
from snn_codec.bottlenecks.surrogate import triangle_spike


class ThresholdBottleneck(SpikingBottleneck):
    """Linear projection, BatchNorm, Heaviside step with a triangle surrogate gradient.

    Stateless: each frame is thresholded on its own, so chunked streams equal a single pass.
    The auxiliary loss is the firing rate (mean of the spikes), the paper's sparsity term.

    Args:
        latent_dim: channels C of the encoder output.
        units: number of neurons N (bits per frame).
    """

    def __init__(self, latent_dim: int, units: int = 64):
        super().__init__(latent_dim, units)

    def forward(self, latent: Tensor, state: State | None = None) -> BottleneckOutput:
        current = self.input_current(latent)  # (B, N, T)
        return spiking_output(triangle_spike(current), state={})
