"""The VQ baseline bottlenecks: straight-through gradients, commitment loss, codebook learning, configs."""

from __future__ import annotations

import math

import pytest
import torch

from snn_codec.bottlenecks import build_bottleneck
from snn_codec.codec import Codec
from snn_codec.config import load_config
from snn_codec.errors import ConfigError

SMALL = {"codebook_size": 16, "codebook_dim": 4, "kmeans_init": False}


def fresh(kind: str, **options):
    torch.manual_seed(0)
    return build_bottleneck(kind, latent_dim=8, **{**SMALL, **options})


@pytest.mark.parametrize("kind", ["vq", "rvq"])
def test_the_gradient_is_straight_through(kind):
    """dz/dlatent = W_out W_in: the quantizer counts as the identity on the way back; the projection out
    learns from the codes it is applied to (without the input normalisation, whose batch statistics
    would enter the gradient)."""
    bottleneck = fresh(kind, input_norm=False).train()
    latent = torch.randn(2, 8, 20, requires_grad=True)
    weight = torch.randn(2, 8, 20)
    out = bottleneck(latent)
    (out.z * weight).sum().backward()
    project_in, project_out = bottleneck.quantizer.project_in, bottleneck.quantizer.project_out
    expected = torch.einsum("dc,ed,bet->bct", project_in.weight, project_out.weight, weight)
    assert torch.allclose(latent.grad, expected, atol=1e-5)
    codes = bottleneck._codes(out.events.transpose(1, 2))  # (B, T, codebook_dim)
    assert torch.allclose(project_out.weight.grad, torch.einsum("bet,btd->ed", weight, codes), atol=1e-5)


@pytest.mark.parametrize("kind", ["vq", "rvq"])
def test_aux_loss_is_the_commitment_loss(kind):
    bottleneck = fresh(kind, commitment_weight=0.5).train()
    latent = torch.randn(2, 8, 20, requires_grad=True)
    out = bottleneck(latent)
    assert out.aux_loss > 0
    out.aux_loss.backward()
    assert latent.grad.abs().sum() > 0
    doubled = fresh(kind, commitment_weight=1.0).train()(latent.detach())
    assert torch.allclose(doubled.aux_loss, 2 * out.aux_loss.detach())
    assert float(bottleneck.eval()(latent).aux_loss) == 0.0


@pytest.mark.parametrize("kind", ["vq", "rvq"])
def test_codebooks_learn_in_training_only(kind):
    bottleneck = fresh(kind, kmeans_init=True)

    def codebooks() -> list[torch.Tensor]:
        return [value.clone() for name, value in bottleneck.state_dict().items() if name.endswith("embed")]

    initial, state = codebooks(), {name: value.clone() for name, value in bottleneck.state_dict().items()}
    bottleneck.eval()(torch.randn(2, 8, 20))  # inference neither learns nor initialises by k-means
    assert all(torch.equal(value, state[name]) for name, value in bottleneck.state_dict().items())
    bottleneck.train()(torch.randn(4, 8, 50))  # k-means on this batch, then a moving-average update
    assert initial and all(not torch.equal(a, b) for a, b in zip(codebooks(), initial))
    assert len(bottleneck.eval()(torch.randn(2, 8, 30)).events.unique()) > 1


def test_stats_describe_codebook_use():
    out = fresh("rvq", num_quantizers=3)(torch.randn(4, 8, 50))
    assert float(out.stats["bits_per_frame"]) == 3 * 4
    assert 0 < float(out.stats["codebook_usage"]) <= 1
    assert 1 <= float(out.stats["perplexity"]) <= 16


@pytest.mark.parametrize(
    "kind,options,message",
    [
        ("vq", {"codebook_size": 1}, "codebook_size"),
        ("vq", {"codebook_size": 2**17}, "codebook_size"),
        ("rvq", {"num_quantizers": 0}, "num_quantizers"),
        ("vq", {"decay": 1.0}, "decay"),
        ("vq", {"commitment_weight": -1.0}, "commitment_weight"),
        ("vq", {"num_quantizers": 2}, "unknown options"),
    ],
)
def test_invalid_options_are_config_errors(kind, options, message):
    with pytest.raises(ConfigError, match=message):
        fresh(kind, **options)


@pytest.mark.parametrize("kind", ["vq", "rvq"])
def test_output_channels_reshape_z_the_same_in_forward_and_decode(kind):
    bottleneck = fresh(kind, output_channels=5).eval()
    out = bottleneck(torch.randn(2, 8, 7))
    assert out.z.shape == (2, 5, 7) and bottleneck.output_channels == 5
    torch.testing.assert_close(bottleneck.decode(out.events), out.z)
    assert fresh(kind).output_channels == 8  # 0: the latent's channels
    with pytest.raises(ConfigError, match="output_channels"):
        fresh(kind, output_channels=-1)


def test_input_norm_puts_large_latents_on_the_codebooks_scale():
    torch.manual_seed(1)
    latent = 700 * torch.randn(4, 8, 50)  # a spiking model's encoder may output this scale
    losses = {norm: float(fresh("vq", input_norm=norm, kmeans_init=True).train()(latent).aux_loss)
              for norm in (True, False)}
    assert losses[True] < 1 < 100 < losses[False]


@pytest.mark.parametrize("name,kind,kbps", [("vq-0.5k", "vq", 0.5), ("rvq-1.5k", "rvq", 1.5), ("rvq-3k", "rvq", 3.0)])
def test_baseline_configs(name, kind, kbps):
    """Bitrate before entropy coding: frame_rate x quantizers x log2(codebook_size); piano.yaml's encoder
    and decoder."""
    config = load_config(f"configs/piano-{name}.yaml")
    piano = load_config("configs/piano.yaml")
    assert config.model.bottleneck["kind"] == kind and config.model.name == f"piano-{name}"
    assert (config.model.encoder, config.model.decoder) == (piano.model.encoder, piano.model.decoder)
    bottleneck = Codec(config.model).bottleneck
    assert config.model.frame_rate * bottleneck.units * math.log2(bottleneck.alphabet_size) == kbps * 1000
