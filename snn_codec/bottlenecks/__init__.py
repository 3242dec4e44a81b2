"""Bottleneck registry: a new neuron model (or quantizer) is one class plus one line here."""

from __future__ import annotations

import inspect
from typing import Any

from snn_codec.bottlenecks.base import Bottleneck, BottleneckOutput, State, spike_stats
from snn_codec.bottlenecks.continuous import ContinuousBottleneck
from snn_codec.bottlenecks.norse_neurons import NorseLIF, NorseLSNN
from snn_codec.bottlenecks.snntorch_neurons import SnnTorchLeaky, SnnTorchSynaptic
from snn_codec.bottlenecks.threshold import ThresholdBottleneck
from snn_codec.bottlenecks.vq import ResidualVQBottleneck, VQBottleneck
from snn_codec.errors import ConfigError

BOTTLENECKS: dict[str, type[Bottleneck]] = {
    "threshold": ThresholdBottleneck,
    "snntorch_leaky": SnnTorchLeaky,
    "snntorch_synaptic": SnnTorchSynaptic,
    "norse_lif": NorseLIF,
    "norse_lsnn": NorseLSNN,
    "vq": VQBottleneck,
    "rvq": ResidualVQBottleneck,
}
# References that train and evaluate but store nothing: kept out of BOTTLENECKS, whose members are codecs.
REFERENCE_BOTTLENECKS: dict[str, type[Bottleneck]] = {"continuous": ContinuousBottleneck}


def build_bottleneck(kind: str, latent_dim: int, **options: Any) -> Bottleneck:
    """Builds the bottleneck registered as `kind`; unknown kinds or options raise ConfigError."""
    known = BOTTLENECKS | REFERENCE_BOTTLENECKS
    if kind not in known:
        raise ConfigError(f"unknown bottleneck {kind!r}; choose from {sorted(known)}")
    cls = known[kind]
    allowed = set(inspect.signature(cls).parameters) - {"latent_dim"}
    unknown = set(options) - allowed
    if unknown:
        raise ConfigError(f"bottleneck {kind}: unknown options {sorted(unknown)}; allowed: {sorted(allowed)}")
    return cls(latent_dim=latent_dim, **options)


__all__ = ["BOTTLENECKS", "REFERENCE_BOTTLENECKS", "Bottleneck", "BottleneckOutput", "State", "build_bottleneck", "spike_stats"]
