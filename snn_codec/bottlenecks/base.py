"""The bottleneck interface: latent frames in, events (what is stored) and the decoder's input out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from snn_codec.errors import ConfigError

State = dict[str, Tensor]  # every tensor has batch as dim 0; {} for stateless models


@dataclass
class BottleneckOutput:
    z: Tensor  # (B, channels, T) float, differentiable: the decoder's input
    events: Tensor  # (B, N, T) bool spikes or (B, Q, T) int64 codebook indices: what is stored
    aux_loss: Tensor  # scalar, unweighted (the trainer owns the coefficients)
    stats: dict[str, Tensor]  # "firing_rate", "events_per_frame", ... (detached)
    state: State  # pass to the next call to continue the same stream


class Bottleneck(nn.Module):
    """Turns latent frames into events. Latent frames are the neurons' time steps."""

    alphabet_size: int = 2  # 2 for spikes, the codebook size for VQ; read by the event coder
    stores_indices: ClassVar[bool] = False  # events are int64 codebook indices (index coders), not spikes
    has_bitstream: ClassVar[bool] = True  # False for the unquantized reference, which cannot be stored
    units: int  # rows of `events`: neurons N, or codebooks Q

    @property
    def output_channels(self) -> int:
        """Channels of `z`, the decoder's input: one per neuron for spiking bottlenecks."""
        return self.units

    @property
    def event_dtype(self) -> type:
        """The numpy dtype of stored events: bool spikes or int64 indices."""
        return np.int64 if self.stores_indices else np.bool_

    def forward(self, latent: Tensor, state: State | None = None) -> BottleneckOutput:
        """latent: (B, C, T). `state=None` starts a fresh stream."""
        raise NotImplementedError

    def decode(self, events: Tensor) -> Tensor:
        """events (B, N, T) -> z (B, channels, T), for decompression. Equals `forward(...).z` in eval mode."""
        raise NotImplementedError


class SpikingBottleneck(Bottleneck):
    """A bottleneck of `units` neurons whose input current is BN(Conv1x1(latent)) and whose events are
    spikes; `decode` turns stored spikes back into the decoder's input."""

    def __init__(self, latent_dim: int, units: int):
        super().__init__()
        self.units = units
        self.project = nn.Conv1d(latent_dim, units, kernel_size=1)
        self.norm = nn.BatchNorm1d(units)

    def input_current(self, latent: Tensor) -> Tensor:
        """latent (B, C, T) -> input current (B, N, T)."""
        return self.norm(self.project(latent))

    def decode(self, events: Tensor) -> Tensor:
        return events.to(torch.get_default_dtype())


def spike_stats(events: Tensor) -> dict[str, Tensor]:
    """Firing statistics of a (B, N, T) spike tensor, detached."""
    spikes = events.detach().float()
    return {
        "firing_rate": spikes.mean(),
        "events_per_frame": spikes.sum(dim=1).mean(),
    }


RESETS = ("subtract", "zero", "none")


def check_decay(name: str, value: float) -> float:
    """A per-frame decay must lie in [0, 1): 0 is memoryless, 1 would never forget."""
    if not 0.0 <= value < 1.0:
        raise ConfigError(f"{name} must satisfy 0 <= {name} < 1 (per-frame decay), got {value}")
    return float(value)


def check_neuron_options(units: int, threshold: float, reset: str) -> None:
    if units < 1:
        raise ConfigError(f"units must be a positive integer, got {units}")
    if threshold < 0:
        raise ConfigError(f"threshold must be >= 0, got {threshold}")
    if reset not in RESETS:
        raise ConfigError(f"unknown reset {reset!r}; choose from {list(RESETS)}")


def spiking_output(spikes: Tensor, state: State) -> BottleneckOutput:
    """BottleneckOutput for (B, N, T) float spikes carrying the surrogate gradient."""
    events = spikes.detach() > 0
    return BottleneckOutput(z=spikes, events=events, aux_loss=spikes.mean(), stats=spike_stats(events), state=state)
