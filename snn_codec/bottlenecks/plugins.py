"""Bottlenecks from outside the package: a config's `kind: my_package.neurons:MyNeuron` names an importable
class that follows the Bottleneck interface. It trains, compresses and is benchmarked like a registered
kind; the model file records the kind, so loading the model needs the class importable again.

A plug-in is checked when it is built, by a probe: a copy of it in eval mode codes a few frames of fixed
noise, and its output must have the interface's shapes, types and alphabet (`check_plugin`).
"""

from __future__ import annotations

import copy
import importlib
import re

import torch

from snn_codec.bottlenecks.base import Bottleneck, BottleneckOutput
from snn_codec.bottlenecks.vq import MAX_CODEBOOK_SIZE as MAX_ALPHABET
from snn_codec.errors import ConfigError

PLUGIN_KIND = re.compile(r"(?P<module>[A-Za-z_][\w.]*):(?P<name>[A-Za-z_]\w*)")
PROBE_SHAPE = (2, 7)  # batch, frames of the probe


def is_plugin_kind(kind: str) -> bool:
    """Whether `kind` names a class by import path (`package.module:Class`) rather than a registered kind."""
    return ":" in kind


def load_plugin(kind: str) -> type[Bottleneck]:
    """Imports the Bottleneck subclass named `package.module:Class`.

    Raises:
        ConfigError: a malformed name, a module that cannot be imported, no such class, or not a Bottleneck.
    """
    match = PLUGIN_KIND.fullmatch(kind)
    if match is None:
        raise ConfigError(f"bottleneck kind {kind!r}: a plug-in is named `package.module:ClassName`")
    module_name, name = match["module"], match["name"]
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ConfigError(
            f"bottleneck {kind!r}: cannot import module {module_name!r} ({err}); install it, or add the folder "
            "that holds it to PYTHONPATH") from None
    except Exception as err:  # the plug-in's own code failed while importing
        raise ConfigError(
            f"bottleneck {kind!r}: importing {module_name!r} failed: {type(err).__name__}: {err}") from None
    cls = getattr(module, name, None)
    if cls is None:
        public = sorted(n for n, v in vars(module).items() if isinstance(v, type) and issubclass(v, Bottleneck))
        raise ConfigError(
            f"bottleneck {kind!r}: module {module_name!r} has no {name!r}; its Bottleneck classes: {public}")
    if not (isinstance(cls, type) and issubclass(cls, Bottleneck)):
        raise ConfigError(
            f"bottleneck {kind!r}: {name} is not a subclass of snn_codec.bottlenecks.Bottleneck; derive it from "
            "Bottleneck (or SpikingBottleneck for spiking neurons) and implement forward() and decode()")
    return cls


def check_plugin(bottleneck: Bottleneck, kind: str, latent_dim: int) -> None:
    """Probes a plug-in: a deep copy in eval mode codes fixed noise (B, latent_dim, T) once; the original is
    untouched and the global random state is not used.

    Raises:
        ConfigError: naming what is wrong (units or alphabet, the output type, shapes, event dtype or values,
            decode(events) differing from z, or an exception raised by the plug-in).
    """
    where = f"bottleneck {kind!r}"
    units = getattr(bottleneck, "units", None)
    if not isinstance(units, int) or units < 1:
        raise ConfigError(f"{where}: set `self.units` (rows of the stored events: neurons or codebooks) to an int >= 1")
    alphabet = bottleneck.alphabet_size
    if bottleneck.stores_indices and not (isinstance(alphabet, int) and 2 <= alphabet <= MAX_ALPHABET):
        raise ConfigError(f"{where}: an index bottleneck needs alphabet_size in 2..{MAX_ALPHABET}, got {alphabet!r}")
    if not bottleneck.stores_indices and alphabet != 2:
        raise ConfigError(
            f"{where}: a spiking bottleneck stores binary events: alphabet_size must be 2, got {alphabet!r}")
    batch, frames = PROBE_SHAPE
    generator = torch.Generator().manual_seed(0)
    latent = torch.randn(batch, latent_dim, frames, generator=generator)
    probe = copy.deepcopy(bottleneck).eval()
    try:
        with torch.no_grad():
            out = probe(latent)
            decoded = probe.decode(out.events) if isinstance(out, BottleneckOutput) else None
    except Exception as err:
        raise ConfigError(f"{where}: the probe (fixed noise of shape {tuple(latent.shape)}) failed in the plug-in: "
                          f"{type(err).__name__}: {err}") from None
    if not isinstance(out, BottleneckOutput):
        raise ConfigError(f"{where}: forward() must return a BottleneckOutput, got {type(out).__name__}")
    _check_output(out, decoded, probe, where, (batch, frames))


def _check_output(out: BottleneckOutput, decoded, probe: Bottleneck, where: str, shape: tuple[int, int]) -> None:
    batch, frames = shape
    z_shape, events_shape = (batch, probe.output_channels, frames), (batch, probe.units, frames)
    if not isinstance(out.z, torch.Tensor) or tuple(out.z.shape) != z_shape:
        raise ConfigError(f"{where}: z must have shape (B, output_channels, T) = {z_shape}, got {_shape(out.z)}")
    if not isinstance(out.events, torch.Tensor) or tuple(out.events.shape) != events_shape:
        raise ConfigError(f"{where}: events must have shape (B, units, T) = {events_shape}, got {_shape(out.events)}")
    if probe.stores_indices:
        if out.events.dtype != torch.int64:
            raise ConfigError(
                f"{where}: an index bottleneck's events must be int64 codebook indices, got {out.events.dtype}")
        if out.events.numel() and not (0 <= int(out.events.min()) and int(out.events.max()) < probe.alphabet_size):
            raise ConfigError(f"{where}: indices must lie in [0, alphabet_size = {probe.alphabet_size})")
    elif out.events.dtype != torch.bool:
        values = sorted(set(out.events.flatten().tolist()))[:5]
        raise ConfigError(f"{where}: a spiking bottleneck's events must be binary, a bool tensor (spikes > 0), got "
                          f"{out.events.dtype} with values {values}; return `spikes.detach() > 0` (see spiking_output)")
    if not isinstance(out.aux_loss, torch.Tensor) or out.aux_loss.ndim != 0:
        raise ConfigError(f"{where}: aux_loss must be a scalar tensor, got {_shape(out.aux_loss)}")
    if not isinstance(out.state, dict):
        raise ConfigError(
            f"{where}: state must be a dict of tensors ({{}} when stateless), got {type(out.state).__name__}")
    if not (isinstance(decoded, torch.Tensor) and decoded.shape == out.z.shape and torch.equal(decoded, out.z)):
        raise ConfigError(f"{where}: decode(events) must equal forward(latent).z in eval mode (it is what the "
                          "decoder gets on decompression)")


def _shape(value) -> str:
    return str(tuple(value.shape)) if isinstance(value, torch.Tensor) else type(value).__name__
