"""Shared fixtures. Each one builds fresh objects from a fixed seed: no state is shared between tests."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from snn_codec.codec import Codec
from snn_codec.config import DecoderConfig, EncoderConfig, ModelConfig
from snn_codec.model_io import save_model

TINY = ModelConfig(
    name="tiny-test",
    sample_rate=8000,
    frame_rate=50,
    latent_dim=8,
    encoder=EncoderConfig(channels=(4, 8), dilations=(1,)),
    bottleneck={"kind": "threshold", "units": 8},
    decoder=DecoderConfig(kind="istft", dim=16, layers=1, upsample=2),
)
# The VQ baseline around the same encoder and decoder: 2 residual codebooks of 32 codes (no k-means, so an
# untrained model already uses many codes).
TINY_VQ = dataclasses.replace(
    TINY,
    name="tiny-vq-test",
    bottleneck={"kind": "rvq", "codebook_size": 32, "num_quantizers": 2, "codebook_dim": 4, "kmeans_init": False},
)


def piano_like(seconds: float, sample_rate: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Decaying harmonic notes at random onsets: (channels, samples) float32 in [-0.5, 0.5]."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sample_rate))
    t = np.arange(n) / sample_rate
    out = np.zeros(n)
    for onset in rng.uniform(0, max(seconds - 0.1, 0.01), size=max(1, int(seconds * 4))):
        f0 = 110 * 2 ** rng.uniform(0, 3)
        active = t >= onset
        tau = t[active] - onset
        out[active] += sum(np.sin(2 * np.pi * f0 * k * tau) / k for k in (1, 2, 3)) * np.exp(-3 * tau)
    out = 0.5 * out / max(np.abs(out).max(), 1e-9)
    stereo = np.stack([out * (1 - 0.1 * c) for c in range(channels)])
    return stereo.astype(np.float32)


@pytest.fixture
def tiny_codec() -> Codec:
    torch.manual_seed(0)
    return Codec(TINY).eval()


@pytest.fixture
def tiny_model_file(tmp_path, tiny_codec):
    return save_model(tiny_codec, tmp_path / "tiny.safetensors")


@pytest.fixture
def tiny_vq_codec() -> Codec:
    torch.manual_seed(0)
    return Codec(TINY_VQ).eval()


@pytest.fixture
def tiny_vq_model_file(tmp_path, tiny_vq_codec):
    return save_model(tiny_vq_codec, tmp_path / "tiny-vq.safetensors")


@pytest.fixture
def tiny_config() -> ModelConfig:
    return TINY


@pytest.fixture
def make_audio():
    """piano_like as a fixture, so test modules need not import conftest."""
    return piano_like
