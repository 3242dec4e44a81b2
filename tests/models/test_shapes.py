"""Encoder, decoders and the Codec: exact lengths, derived strides, windowed inference."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from snn_codec.codec import Codec
from snn_codec.models.layers import split_hop


@pytest.mark.parametrize("hop,stages", [(480, 4), (160, 2), (441, 3), (7, 2), (1, 3)])
def test_split_hop_multiplies_back_to_the_hop(hop, stages):
    strides = split_hop(hop, stages)
    assert len(strides) == stages and list(strides) == sorted(strides)
    product = 1
    for s in strides:
        product *= s
    assert product == hop


def build(config, decoder: str, encoder: str = "conv") -> Codec:
    torch.manual_seed(0)
    decoder_config = replace(config.decoder, kind=decoder, channels=(8, 4))
    encoder_config = replace(config.encoder, kind=encoder, dim=16, layers=2, stft_frames=2)
    return Codec(replace(config, encoder=encoder_config, decoder=decoder_config)).eval()


# Every encoder with the inverse-STFT decoder, and the waveform encoder with the transposed-conv one.
PAIRS = [("istft", "conv"), ("conv", "conv"), ("istft", "stft")]


@pytest.mark.parametrize("decoder,encoder", PAIRS)
def test_forward_keeps_the_length(tiny_config, decoder, encoder):
    codec = build(tiny_config, decoder, encoder)
    audio = torch.randn(3, 1, 20 * codec.hop_length)
    out = codec(audio)
    assert out.audio.shape == audio.shape
    assert out.bottleneck.events.shape == (3, codec.units, 20)


@pytest.mark.parametrize("decoder,encoder", PAIRS)
@pytest.mark.parametrize("num_samples", [1, 159, 160, 161, 5000])
def test_encode_decode_any_length(tiny_config, decoder, encoder, num_samples):
    codec = build(tiny_config, decoder, encoder)
    events = codec.encode(torch.randn(num_samples))
    frames = -(-num_samples // codec.hop_length)
    assert events.shape == (codec.units, frames) and events.dtype == torch.bool
    assert codec.decode(events).shape == (frames * codec.hop_length,)


@pytest.mark.parametrize("decoder,encoder", PAIRS)
def test_windowed_inference_equals_a_single_pass(tiny_config, decoder, encoder):
    """Windows carry enough context that cutting the file anywhere changes nothing, at either precision."""
    codec = build(tiny_config, decoder, encoder)
    audio = torch.randn(37 * codec.hop_length)
    whole_events = codec.encode(audio, precision="float32")
    whole_audio = codec.decode(whole_events)
    assert torch.equal(whole_events, codec(audio.view(1, 1, -1)).bottleneck.events[0])
    whole_bfloat16 = codec.encode(audio, precision="bfloat16")
    codec.window_frames = 5
    assert torch.equal(codec.encode(audio, precision="float32"), whole_events)
    assert torch.equal(codec.encode(audio, precision="bfloat16"), whole_bfloat16)
    assert torch.allclose(codec.decode(whole_events), whole_audio, atol=1e-5)


def test_istft_decoder_reconstructs_an_exact_spectrum(tiny_config):
    """The inverse STFT head is a true inverse: analysing a signal and synthesising it gives it back."""
    decoder = build(tiny_config, "istft").decoder
    audio = torch.randn(1, 40 * decoder.hop)
    pad = (decoder.n_fft - decoder.hop) // 2
    padded = torch.nn.functional.pad(audio, (pad, pad))
    frames = padded.unfold(-1, decoder.n_fft, decoder.hop)  # (1, U, n_fft)
    spec = torch.fft.rfft(frames * decoder.window, dim=-1)
    restored = decoder.istft(spec)
    assert restored.shape == audio.shape
    middle = slice(decoder.n_fft, -decoder.n_fft)
    assert torch.allclose(restored[:, middle], audio[:, middle], atol=1e-4)


def test_stft_encoder_features_line_up_with_their_frames(tiny_config):
    """A click in latent frame t shows in frame t's features (the window is centred on its frame), and
    a sinusoid peaks at its STFT bin in every stacked sub-frame."""
    encoder = build(tiny_config, "istft", "stft").encoder
    hop, frames = encoder.hop_length, 12
    click = torch.zeros(1, 1, frames * hop)
    click[..., 7 * hop + hop // 2] = 1.0
    energy = encoder.features(click).exp().sum(dim=1)[0]
    assert int(energy.argmax()) == 7
    bin_index = 5
    tone = torch.sin(2 * torch.pi * bin_index / encoder.n_fft * torch.arange(frames * hop)).view(1, 1, -1)
    spectra = encoder.features(tone)[0, :, 6].view(-1, encoder.stft_frames).T  # (sub-frame, bins)
    assert spectra.shape[1] == encoder.n_fft // 2 + 1
    assert spectra.argmax(dim=1).tolist() == [bin_index] * encoder.stft_frames


@pytest.mark.parametrize("change,message", [({"kind": "mel"}, "encoder.kind"), ({"stft_frames": 3}, "stft_frames"),
                                            ({"window_hops": 0}, "window_hops")])
def test_bad_encoder_settings_are_refused(tiny_config, change, message):
    from snn_codec.errors import ConfigError

    encoder = replace(tiny_config.encoder, **({"kind": "stft"} | change))
    with pytest.raises(ConfigError, match=message):
        Codec(replace(tiny_config, encoder=encoder))
