"""Adaptive LIF (adLIF) discretised with the symplectic Euler scheme (SE-adLIF) of Baronig, Ferrand,
Sabathiel and Legenstein, "Advancing spatio-temporal processing in spiking neural networks through
adaptation" (Nature Communications 2025, arXiv 2408.07517).

Continuous model: tau_u du/dt = -u + I - w, tau_w dw/dt = -w + a u + b tau_w S. The symplectic Euler step
updates the membrane from the old adaptation current, then the adaptation current from the *new*
(post-reset) membrane, which keeps the oscillatory dynamics stable whatever the frame period:

    u^[t] = beta * u[t-1] + (1 - beta) * (I[t] - w[t-1])
    S[t]  = H(u^[t] - theta)
    u[t]  = u^[t] * (1 - S[t])                                  (reset to zero)
    w[t]  = rho * w[t-1] + (1 - rho) * (a * u[t] + b * S[t])

beta = exp(-dt / tau_u) is the per-frame membrane decay and rho = exp(-dt / tau_w) the per-frame decay of
the adaptation current. a couples the membrane into w (a > 0 gives sub-threshold oscillations, a
resonator); b is the spike-triggered adaptation (spike-frequency adaptation).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from snn_codec.bottlenecks.base import BottleneckOutput, SpikingBottleneck, State, check_decay, spiking_output
from snn_codec.bottlenecks.surrogate import check_surrogate, spike
from snn_codec.errors import ConfigError


class AdaptiveLIF(SpikingBottleneck):
    """SE-adLIF neurons over the latent frames; see the module docstring for the update equations.

    The input current is I = BN(Conv1d_1x1(latent)) (B, N, T), as for the other neurons. a and b are
    learned per neuron by default (kept at or above 0 in the forward pass, as the paper bounds them); the
    decays stay fixed.

    Args:
        latent_dim: channels C of the encoder output.
        units: number of neurons N (bits per frame).
        beta: per-frame membrane decay, 0 <= beta < 1.
        rho: per-frame decay of the adaptation current w, 0 <= rho < 1.
        a: sub-threshold coupling of the membrane into w (>= 0).
        b: increase of the adaptation drive per spike (>= 0).
        threshold: firing threshold theta (> 0).
        learn_adaptation: learn one a and one b per neuron.
        surrogate: "triangle", "fast_sigmoid" or "arctan" (see surrogate.py).
    """

    def __init__(
        self,
        latent_dim: int,
        units: int = 64,
        beta: float = 0.5,
        rho: float = 0.9,
        a: float = 0.5,
        b: float = 1.0,
        threshold: float = 0.5,
        learn_adaptation: bool = True,
        surrogate: str = "triangle",
    ):
        if units < 1:
            raise ConfigError(f"units must be a positive integer, got {units}")
        if threshold <= 0:
            raise ConfigError(f"adlif: threshold must be > 0, got {threshold}")
        if a < 0 or b < 0:
            raise ConfigError(f"adlif: a and b must be >= 0, got a={a}, b={b}")
        super().__init__(latent_dim, units)
        self.beta, self.rho = check_decay("beta", beta), check_decay("rho", rho)
        self.threshold = float(threshold)
        self.surrogate = check_surrogate(surrogate)
        self.a = nn.Parameter(torch.full((units,), float(a)), requires_grad=learn_adaptation)
        self.b = nn.Parameter(torch.full((units,), float(b)), requires_grad=learn_adaptation)

    def forward(self, latent: Tensor, state: State | None = None) -> BottleneckOutput:
        """latent (B, C, T) -> spikes (B, N, T); state {"u": post-reset membrane, "w": adaptation} (B, N)."""
        current = self.input_current(latent)  # (B, N, T)
        zeros = current.new_zeros(current.shape[:2])
        u, w = (state["u"], state["w"]) if state else (zeros, zeros)
        a, b = self.a.clamp_min(0.0), self.b.clamp_min(0.0)
        spikes = []
        for t in range(current.shape[-1]):
            u = self.beta * u + (1.0 - self.beta) * (current[..., t] - w)
            s = spike(u - self.threshold, self.surrogate)
            u = u * (1.0 - s.detach())  # a detached reset (Zenke & Vogels 2021): gradients skip the reset
            w = self.rho * w + (1.0 - self.rho) * (a * u + b * s)
            spikes.append(s)
        return spiking_output(torch.stack(spikes, dim=-1), {"u": u, "w": w})
