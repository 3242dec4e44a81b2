"""The Bottleneck contract, checked for every registered bottleneck."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from snn_codec.bottlenecks import BOTTLENECKS, build_bottleneck
from snn_codec.bottlenecks.surrogate import TriangleSpike
from snn_codec.errors import ConfigError

KINDS = sorted(BOTTLENECKS)
SPIKING_KINDS = sorted(kind for kind, cls in BOTTLENECKS.items() if not cls.stores_indices)
# Index bottlenecks (VQ, FSQ, LFQ): small codebooks, no k-means, so that a fresh one already uses many codes.
OPTIONS = {
    "vq": {"codebook_size": 16, "codebook_dim": 4, "kmeans_init": False},
    "rvq": {"codebook_size": 16, "num_quantizers": 3, "codebook_dim": 4, "kmeans_init": False},
    "fsq": {"levels": [3, 5], "num_codebooks": 2},
    "lfq": {"codebook_size": 16, "num_codebooks": 2},
}


def fresh(kind: str):
    torch.manual_seed(0)
    return build_bottleneck(kind, latent_dim=8, **OPTIONS.get(kind, {"units": 6}))


@pytest.mark.parametrize("kind", SPIKING_KINDS)
def test_events_are_binary_with_the_right_shape(kind):
    out = fresh(kind)(torch.randn(2, 8, 30))
    assert out.events.dtype == torch.bool and out.events.shape == (2, 6, 30)
    assert set(out.z.unique().tolist()) <= {0.0, 1.0}
    assert 0.0 < float(out.stats["firing_rate"]) < 1.0
    assert out.aux_loss.ndim == 0


@pytest.mark.parametrize("kind", sorted(OPTIONS))
def test_events_are_codebook_indices_with_the_right_shape(kind):
    bottleneck = fresh(kind)
    out = bottleneck(torch.randn(2, 8, 30))
    assert bottleneck.stores_indices and bottleneck.event_dtype == np.int64
    assert out.events.dtype == torch.int64 and out.events.shape == (2, bottleneck.units, 30)
    assert 0 <= int(out.events.min()) and int(out.events.max()) < bottleneck.alphabet_size
    assert out.z.shape == (2, bottleneck.output_channels, 30) == (2, 8, 30)
    assert out.aux_loss.ndim == 0


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_reach_the_input_through_the_surrogate(kind):
    latent = torch.randn(2, 8, 30, requires_grad=True)
    out = fresh(kind)(latent)
    (out.z * torch.randn_like(out.z)).sum().backward()
    assert latent.grad is not None and latent.grad.abs().sum() > 0


@pytest.mark.parametrize("kind", KINDS)
def test_decode_of_events_equals_z_in_eval_mode(kind):
    bottleneck = fresh(kind)
    bottleneck(torch.randn(4, 8, 50))  # move the BatchNorm statistics away from their init
    bottleneck.eval()
    out = bottleneck(torch.randn(2, 8, 30))
    assert torch.equal(bottleneck.decode(out.events), out.z)


@pytest.mark.parametrize("kind", KINDS)
def test_chunked_stream_equals_single_pass(kind):
    bottleneck = fresh(kind).eval()
    latent = torch.randn(2, 8, 40)
    whole = bottleneck(latent)
    head = bottleneck(latent[..., :17])
    tail = bottleneck(latent[..., 17:], head.state)
    assert torch.equal(torch.cat([head.events, tail.events], dim=-1), whole.events)


@pytest.mark.parametrize("kind", KINDS)
def test_pickles(kind):
    bottleneck = fresh(kind).eval()
    clone = pickle.loads(pickle.dumps(bottleneck))
    latent = torch.randn(1, 8, 10)
    assert torch.equal(clone(latent).events, bottleneck(latent).events)


def test_triangle_surrogate_is_max_0_1_minus_abs():
    x = torch.tensor([-2.0, -1.0, -0.5, 0.0, 0.25, 1.0, 3.0], requires_grad=True)
    y = TriangleSpike.apply(x)
    assert y.tolist() == [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0]  # exact Heaviside forward
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.5, 1.0, 0.75, 0.0, 0.0]


def test_unknown_kind_and_options_are_config_errors():
    with pytest.raises(ConfigError, match="unknown bottleneck 'nope'"):
        build_bottleneck("nope", latent_dim=4)
    with pytest.raises(ConfigError, match="unknown options \\['beta'\\]"):
        build_bottleneck("threshold", latent_dim=4, beta=0.9)
