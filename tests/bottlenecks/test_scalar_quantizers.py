"""FSQ and LFQ: implicit grids from vector-quantize-pytorch, stored as indices through the index coders."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

import snn_codec
from snn_codec.bottlenecks import build_bottleneck
from snn_codec.codec import Codec
from snn_codec.errors import ConfigError


def fresh(kind: str, **options):
    torch.manual_seed(0)
    defaults = {"fsq": {"levels": [8, 4, 3]}, "lfq": {"codebook_size": 16}}[kind]
    return build_bottleneck(kind, latent_dim=8, **{**defaults, **options})


@pytest.mark.parametrize("kind", ["fsq", "lfq"])
def test_z_is_what_decode_computes_even_in_training(kind):
    bottleneck = fresh(kind, num_codebooks=2).train()
    latent = torch.randn(2, 8, 20, requires_grad=True)
    out = bottleneck(latent)
    assert torch.equal(bottleneck.decode(out.events), out.z)
    (out.z * torch.randn_like(out.z)).sum().backward()
    assert latent.grad.abs().sum() > 0  # straight through


def test_fsq_alphabet_and_grid():
    bottleneck = fresh("fsq", levels=[3, 5], num_codebooks=2)
    assert bottleneck.alphabet_size == 15 and bottleneck.units == 2
    out = bottleneck(torch.randn(4, 8, 50))
    assert out.events.dtype == torch.int64 and 0 <= int(out.events.min()) and int(out.events.max()) < 15
    assert len(out.events.unique()) > 3
    codes = bottleneck._codes(out.events.transpose(1, 2)).unflatten(-1, (2, 2))  # (B, T, Q, D)
    assert set(codes[..., 0].unique().tolist()) <= {-1.0, 0.0, 1.0}
    assert set(codes[..., 1].unique().tolist()) <= {-1.0, -0.5, 0.0, 0.5, 1.0}
    assert float(out.aux_loss) == 0.0 and float(out.stats["bits_per_frame"]) == pytest.approx(2 * math.log2(15))


def test_lfq_bits_are_the_signs_of_the_projection():
    bottleneck = fresh("lfq", codebook_size=16, num_codebooks=2, input_norm=False).eval()
    latent = torch.randn(2, 8, 30)
    out = bottleneck(latent)
    projected = bottleneck.quantizer.project_in(latent.transpose(1, 2)).unflatten(-1, (2, 4))  # (B, T, Q, D)
    weights = torch.tensor([8, 4, 2, 1])
    assert torch.equal(((projected > 0).long() * weights).sum(-1), out.events.transpose(1, 2))


def test_lfq_entropy_penalty_trains_the_encoder_and_is_off_in_eval():
    bottleneck = fresh("lfq", entropy_weight=1.0, commitment_weight=0.0).train()
    latent = torch.randn(4, 8, 50, requires_grad=True)
    out = bottleneck(latent)
    assert float(out.aux_loss) != 0.0
    out.aux_loss.backward()
    assert latent.grad.abs().sum() > 0
    assert float(bottleneck.eval()(latent.detach()).aux_loss) == 0.0


@pytest.mark.parametrize(
    "kind,options,message",
    [
        ("fsq", {"levels": [2, 4]}, "levels"),
        ("fsq", {"levels": [2.5, 4]}, "levels"),
        ("fsq", {"levels": [64, 64, 32]}, "product of levels"),
        ("fsq", {"num_codebooks": 0}, "num_codebooks"),
        ("lfq", {"codebook_size": 12}, "power of two"),
        ("lfq", {"codebook_size": 2**17}, "power of two"),
        ("lfq", {"entropy_weight": -1.0}, "entropy_weight"),
    ],
)
def test_invalid_options_are_config_errors(kind, options, message):
    with pytest.raises(ConfigError, match=message):
        fresh(kind, **options)


@pytest.mark.parametrize("bottleneck", [{"kind": "fsq", "levels": [4, 4], "num_codebooks": 2},
                                        {"kind": "lfq", "codebook_size": 16, "num_codebooks": 2}])
def test_compress_and_decompress_through_the_index_coders(tiny_config, make_audio, bottleneck):
    torch.manual_seed(0)
    codec = Codec(dataclasses.replace(tiny_config, name="tiny-grid", bottleneck=bottleneck))
    audio = make_audio(1.0, 8000)
    codec.bottleneck.input_norm.momentum = None  # one pass sets the BatchNorm statistics: many codes in use
    with torch.no_grad():
        codec.train()(torch.from_numpy(audio)[None])
    codec.eval()
    data = snn_codec.compress(audio, 8000, model=codec)
    indices = codec.encode(torch.from_numpy(audio[0]))
    assert indices.shape[0] == 2 and len(indices.unique()) > 1
    assert np.array_equal(snn_codec.decompress(data, model=codec).samples[0], codec.decode(indices).numpy())
