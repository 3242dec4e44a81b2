"""A neuron model of your own, used by snn_codec without editing it: `kind: my_neurons:ResonateAndFire`.

Izhikevich's resonate-and-fire neuron (2001): a damped oscillator whose membrane is a complex number,

    x[t] = r * exp(i * omega) * x'[t-1] + I[t]        S[t] = H(Im x[t] - theta)

and a spike resets x to 0 (x' = (1 - S) * x). It fires for inputs that come at its own rhythm.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from snn_codec.bottlenecks.base import BottleneckOutput, SpikingBottleneck, State, spiking_output
from snn_codec.bottlenecks.surrogate import spike


class ResonateAndFire(SpikingBottleneck):
    """Args: latent_dim (given by snn_codec), units N, decay r per frame, omega in radians per frame, threshold."""

    def __init__(self, latent_dim: int, units: int = 64, decay: float = 0.9, omega: float = 0.5,
                 threshold: float = 0.5):
        super().__init__(latent_dim, units)  # input current I = BN(Conv1x1(latent)), and decode()
        self.rotate = (decay * math.cos(omega), decay * math.sin(omega))
        self.threshold = threshold

    def forward(self, latent: Tensor, state: State | None = None) -> BottleneckOutput:
        current = self.input_current(latent)  # (B, N, T)
        zeros = current.new_zeros(current.shape[:2])
        re, im = (state["re"], state["im"]) if state else (zeros, zeros)
        c, s = self.rotate
        spikes = []
        for t in range(current.shape[-1]):
            re, im = c * re - s * im + current[..., t], s * re + c * im
            fired = spike(im - self.threshold)  # Heaviside forward, triangle surrogate backward
            keep = 1.0 - fired.detach()
            re, im = re * keep, im * keep
            spikes.append(fired)
        # spiking_output: binary events (spikes > 0), the firing rate as the auxiliary loss, statistics
        return spiking_output(torch.stack(spikes, dim=-1), {"re": re, "im": im})
