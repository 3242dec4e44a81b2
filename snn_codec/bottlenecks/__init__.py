"""Bottleneck registry: a new neuron model (or quantizer) is one class plus one line here."""

from __future__ import annotations

import inspect
from typing import Any

from snn_codec.bottlenecks.adlif import AdaptiveLIF
from snn_codec.bottlenecks.base import Bottleneck, BottleneckOutput, SpikingBottleneck, State, spike_stats
from snn_codec.bottlenecks.continuous import ContinuousBottleneck
from snn_codec.bottlenecks.norse_neurons import NorseLIF, NorseLSNN
from snn_codec.bottlenecks.plugins import check_plugin, is_plugin_kind, load_plugin
from snn_codec.bottlenecks.scalar_quantizers import FSQBottleneck, LFQBottleneck
from snn_codec.bottlenecks.snntorch_neurons import SnnTorchLeaky, SnnTorchRLeaky, SnnTorchSynaptic
from snn_codec.bottlenecks.threshold import ThresholdBottleneck
from snn_codec.bottlenecks.vq import ResidualVQBottleneck, VQBottleneck
from snn_codec.errors import ConfigError

BOTTLENECKS: dict[str, type[Bottleneck]] = {
    "threshold": ThresholdBottleneck,
    "snntorch_leaky": SnnTorchLeaky,
    "snntorch_synaptic": SnnTorchSynaptic,
    "norse_lif": NorseLIF,
    "norse_lsnn": NorseLSNN,
    "adlif": AdaptiveLIF,
    "snntorch_rleaky": SnnTorchRLeaky,
    "vq": VQBottleneck,
    "rvq": ResidualVQBottleneck,
    "fsq": FSQBottleneck,
    "lfq": LFQBottleneck,
}
# References that train and evaluate but store nothing: kept out of BOTTLENECKS, whose members are codecs.
REFERENCE_BOTTLENECKS: dict[str, type[Bottleneck]] = {"continuous": ContinuousBottleneck}


def build_bottleneck(kind: str, latent_dim: int, **options: Any) -> Bottleneck:
    """Builds the bottleneck registered as `kind`, or the plug-in class `kind` names (`package.module:Class`,
    checked by a probe; see plugins.py). Unknown kinds or options, and faulty plug-ins, raise ConfigError."""
    known = BOTTLENECKS | REFERENCE_BOTTLENECKS
    if is_plugin_kind(kind):
        cls = load_plugin(kind)
    elif kind in known:
        cls = known[kind]
    else:
        raise ConfigError(f"unknown bottleneck {kind!r}; choose from {sorted(known)}, or name your own class as "
                          "`package.module:ClassName`")
    parameters = inspect.signature(cls).parameters
    if "latent_dim" not in parameters:
        raise ConfigError(f"bottleneck {kind}: its __init__ must take `latent_dim` (the encoder's channels C)")
    allowed = set(parameters) - {"latent_dim"}
    unknown = set(options) - allowed
    if unknown:
        raise ConfigError(f"bottleneck {kind}: unknown options {sorted(unknown)}; allowed: {sorted(allowed)}")
    bottleneck = cls(latent_dim=latent_dim, **options)
    if is_plugin_kind(kind):
        check_plugin(bottleneck, kind, latent_dim)
    return bottleneck


__all__ = ["BOTTLENECKS", "REFERENCE_BOTTLENECKS", "Bottleneck", "BottleneckOutput", "SpikingBottleneck", "State",
           "build_bottleneck", "spike_stats"]
