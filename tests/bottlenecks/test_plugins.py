"""Plug-in bottlenecks (`kind: package.module:Class`): built like registered kinds, probed, clear errors."""

from __future__ import annotations

import sys
import textwrap
from dataclasses import replace

import pytest
import torch

from snn_codec.bottlenecks import build_bottleneck
from snn_codec.config import Config, RateControlConfig, TrainConfig, to_dict
from snn_codec.errors import ConfigError
from snn_codec.train.module import CodecModule

MODULE = "snn_codec_plugin_probe"
SOURCE = '''
import torch
from torch import nn
from snn_codec.bottlenecks.base import Bottleneck, BottleneckOutput, SpikingBottleneck, spiking_output
from snn_codec.bottlenecks.surrogate import triangle_spike


class Good(SpikingBottleneck):
    def __init__(self, latent_dim, units=4, offset=0.0):
        super().__init__(latent_dim, units)
        self.offset = offset

    def forward(self, latent, state=None):
        return spiking_output(triangle_spike(self.input_current(latent) - self.offset), {})


class FloatEvents(Good):
    def forward(self, latent, state=None):
        out = super().forward(latent, state)
        out.events = out.z.detach()
        return out


class WrongShape(Good):
    def forward(self, latent, state=None):
        out = super().forward(latent, state)
        out.z = out.z[:, :1]
        return out


class WrongEventShape(Good):
    def forward(self, latent, state=None):
        out = super().forward(latent, state)
        out.events = out.events.transpose(1, 2)
        return out


class Raises(Good):
    def forward(self, latent, state=None):
        raise RuntimeError("boom")


class TupleOut(Good):
    def forward(self, latent, state=None):
        out = super().forward(latent, state)
        return out.z, out.events


class DecodeDiffers(Good):
    def decode(self, events):
        return 2 * events.float()


class NoUnits(Bottleneck):
    def __init__(self, latent_dim):
        super().__init__()


class NoLatentDim(Good):
    def __init__(self, units=4):
        super().__init__(8, units)


class NotABottleneck(nn.Module):
    def __init__(self, latent_dim):
        super().__init__()


class BareSpikes(Bottleneck):
    """Binary events without SpikingBottleneck's input BatchNorm: fine, but not rate-controllable."""

    def __init__(self, latent_dim):
        super().__init__()
        self.units = latent_dim

    def forward(self, latent, state=None):
        return spiking_output(triangle_spike(latent), {})

    def decode(self, events):
        return events.to(torch.get_default_dtype())


not_a_class = 3
'''


@pytest.fixture
def plugin_module(tmp_path, monkeypatch):
    (tmp_path / f"{MODULE}.py").write_text(textwrap.dedent(SOURCE))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    yield MODULE
    sys.modules.pop(MODULE, None)


def test_a_plugin_builds_with_its_options_and_is_left_as_built(plugin_module):
    torch.manual_seed(0)
    bottleneck = build_bottleneck(f"{plugin_module}:Good", latent_dim=8, units=5, offset=0.5)
    after_plugin = torch.rand(3)
    torch.manual_seed(0)
    registered = build_bottleneck("threshold", latent_dim=8, units=5)  # the same tensors, no probe
    assert torch.equal(torch.rand(3), after_plugin)  # the probe drew no random numbers
    assert torch.equal(registered.project.weight, bottleneck.project.weight)
    assert bottleneck.units == 5 and bottleneck.offset == 0.5 and bottleneck.training
    assert torch.equal(bottleneck.norm.running_mean, torch.zeros(5))  # the probe ran on a copy
    out = bottleneck(torch.randn(2, 8, 11))
    assert out.events.dtype == torch.bool and out.events.shape == (2, 5, 11)


@pytest.mark.parametrize(
    "name,message",
    [
        ("FloatEvents", "events must be binary, a bool tensor"),
        ("WrongShape", r"z must have shape \(B, output_channels, T\) = \(2, 4, 7\), got \(2, 1, 7\)"),
        ("WrongEventShape", r"events must have shape \(B, units, T\) = \(2, 4, 7\)"),
        ("Raises", "the probe .* failed in the plug-in: RuntimeError: boom"),
        ("TupleOut", "must return a BottleneckOutput, got tuple"),
        ("DecodeDiffers", r"decode\(events\) must equal"),
        ("NoUnits", "set `self.units`"),
        ("NoLatentDim", "must take `latent_dim`"),
        ("NotABottleneck", "not a subclass of snn_codec.bottlenecks.Bottleneck"),
        ("not_a_class", "not a subclass"),
        ("Missing", r"has no 'Missing'; its Bottleneck classes: \[.*'Good'"),
    ],
)
def test_plugin_mistakes_are_config_errors_that_say_what_to_fix(plugin_module, name, message):
    with pytest.raises(ConfigError, match=message):
        build_bottleneck(f"{plugin_module}:{name}", latent_dim=8)


def test_unimportable_and_malformed_plugins(plugin_module):
    with pytest.raises(ConfigError, match="cannot import module 'no_such_package.neurons'.*PYTHONPATH"):
        build_bottleneck("no_such_package.neurons:Neuron", latent_dim=8)
    with pytest.raises(ConfigError, match="package.module:ClassName"):
        build_bottleneck("a b:c", latent_dim=8)
    with pytest.raises(ConfigError, match="unknown options"):
        build_bottleneck(f"{plugin_module}:Good", latent_dim=8, beta=0.9)


def test_only_spiking_bottlenecks_take_the_rate_controller(plugin_module, tiny_config):
    model = replace(tiny_config, bottleneck={"kind": f"{plugin_module}:BareSpikes"})
    CodecModule(to_dict(Config(model=model)))  # trains with the sparsity schedule
    controlled = TrainConfig(rate_control=RateControlConfig(target_kbps=1.0))
    with pytest.raises(ConfigError, match="derive it from snn_codec.bottlenecks.SpikingBottleneck"):
        CodecModule(to_dict(Config(model=model, train=controlled)))
