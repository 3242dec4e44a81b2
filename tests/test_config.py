"""Configs: YAML in, frozen dataclasses out, unknown keys and bad values rejected."""

from __future__ import annotations

from pathlib import Path

import pytest

from snn_codec.codec import Codec
from snn_codec.config import Config, load_config, save_config, to_dict
from snn_codec.errors import ConfigError

CONFIGS = sorted((Path(__file__).parent.parent / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_load_and_build(path):
    config = load_config(path)
    codec = Codec(config.model)
    assert codec.hop_length * config.model.frame_rate == config.model.sample_rate


def test_save_then_load_is_identity(tmp_path):
    config = load_config(CONFIGS[0])
    save_config(config, tmp_path / "c.yaml")
    assert load_config(tmp_path / "c.yaml") == config


@pytest.mark.parametrize(
    "text,message",
    [
        ("model: {sample_rte: 8000}", "unknown keys \\['sample_rte'\\]"),
        ("train: {steps: many}", "expected int"),
        ("model: {sample_rate: 24000, frame_rate: 7}", "multiple of frame_rate"),
        ("model: {decoder: {kind: wavenet}}", "unknown 'wavenet'"),
        ("model: {bottleneck: {units: 4}}", "needs a `kind`"),
        ("- a list", "expected a mapping"),
        ("model: [unclosed", "invalid YAML"),
    ],
)
def test_bad_configs_are_config_errors(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_defaults_round_trip_through_dicts():
    assert to_dict(Config())["model"]["encoder"]["channels"] == [16, 32, 64, 128]
