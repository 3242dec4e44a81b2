"""The neuromorphic encoder: a fixed, frequency-selective filterbank, spikes only inside, exact streaming."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

import snn_codec
from snn_codec.codec import Codec
from snn_codec.config import Config, ModelConfig, load_config
from snn_codec.errors import CodecError, ConfigError
from snn_codec.models.neuromorphic import FilterbankEncoder, band_centres_hz


def filterbank_config(tiny_config: ModelConfig, **options) -> ModelConfig:
    """The tiny test model with a small filterbank encoder: 6 bands at 8 kHz, 1 ms steps, 12 LIF neurons."""
    settings = dict(kind="filterbank", bands=6, low_hz=100.0, high_hz=3000.0, step_ms=1.0, hidden=(12,))
    return replace(tiny_config, encoder=replace(tiny_config.encoder, **(settings | options)))


def filterbank_codec(tiny_config: ModelConfig, **options) -> Codec:
    torch.manual_seed(0)
    return Codec(filterbank_config(tiny_config, **options)).eval()


def test_shapes_and_steps(tiny_config):
    codec = filterbank_codec(tiny_config)
    encoder = codec.encoder
    assert isinstance(encoder, FilterbankEncoder) and encoder.step_samples == 8 and encoder.steps == 20
    audio = torch.randn(2, 1, 7 * codec.hop_length) * 0.1
    assert encoder(audio).shape == (2, tiny_config.latent_dim, 7)
    out = codec(audio)
    assert out.audio.shape == audio.shape and out.bottleneck.events.shape == (2, codec.units, 7)


def test_the_filterbank_is_fixed_and_rebuilt_from_the_config(tiny_config):
    codec = filterbank_codec(tiny_config)
    filterbank = codec.encoder.filterbank
    assert not list(filterbank.parameters())  # nothing to train: not in any optimiser
    assert not any(key.startswith("encoder.filterbank") for key in codec.state_dict())  # never stored
    parameters = {id(p) for p in codec.parameters()}
    assert all(id(b) not in parameters for b in filterbank.buffers())
    twin = filterbank_codec(tiny_config)
    assert torch.equal(twin.encoder.filterbank.impulse, filterbank.impulse)


@pytest.mark.parametrize("sample_rate,bands,low_hz,high_hz", [(8000, 6, 100.0, 3000.0), (24000, 16, 50.0, 10000.0)])
def test_a_sine_at_a_band_centre_excites_that_band_most(tiny_config, sample_rate, bands, low_hz, high_hz):
    config = filterbank_config(replace(tiny_config, sample_rate=sample_rate), bands=bands, low_hz=low_hz,
                               high_hz=high_hz)
    filterbank = Codec(config).encoder.filterbank
    centres = band_centres_hz(bands, low_hz, high_hz)
    t = torch.arange(sample_rate, dtype=torch.float64) / sample_rate
    sines = torch.sin(2 * torch.pi * centres[:, None] * t).float().unsqueeze(1)  # (bands, 1, S): one per band
    settled = filterbank(sines)[..., sample_rate // 2:]  # (bands, bands, S / 2): past the filters' attack
    level = settled.square().mean(dim=-1)  # (sine, band)
    assert level.argmax(dim=1).tolist() == list(range(bands))
    assert torch.allclose(level.diagonal(), torch.full((bands,), 0.5, dtype=torch.float64), rtol=0.02)  # 0 dB peak
    neighbours = torch.cat([level.diagonal(1), level.diagonal(-1)])
    assert (neighbours < 0.5 * level.diagonal()[0]).all()  # a neighbour is below -3 dB


def test_a_few_wide_bands_have_real_poles_and_still_decay(tiny_config):
    filterbank = Codec(filterbank_config(tiny_config, bands=2, low_hz=20.0, high_hz=3900.0)).encoder.filterbank
    assert torch.isfinite(filterbank.impulse).all() and filterbank.impulse[:, -1].abs().max() < 1e-3


def test_every_spike_is_binary_and_louder_bands_spike_more(tiny_config):
    encoder = filterbank_codec(tiny_config).encoder
    t = torch.arange(8000) / 8000
    audio = (0.3 * torch.sin(2 * torch.pi * 1000 * t) + 0.003 * torch.sin(2 * torch.pi * 200 * t)).view(1, 1, -1)
    spikes = encoder.spikes(audio)
    for tensor in (spikes.inputs, *spikes.hidden):
        assert tensor.shape[:3] == (1, 50, 20) and set(tensor.unique().tolist()) <= {0.0, 1.0}
    per_band = spikes.inputs.sum(dim=(0, 1, 2))
    loud, quiet = (int((band_centres_hz(6, 100.0, 3000.0) - f).abs().argmin()) for f in (1000, 200))
    assert per_band[loud] > per_band[quiet] > 0
    assert spikes.hidden[0].shape[-1] == 12 and spikes.hidden[0].any()


def test_gradients_reach_every_spiking_layer(tiny_config):
    codec = filterbank_codec(tiny_config, hidden=(12, 10)).train()
    audio = torch.from_numpy(np.random.default_rng(0).normal(0, 0.2, (2, 1, 10 * codec.hop_length)).astype("f4"))
    out = codec(audio)
    (out.audio.square().mean() + out.bottleneck.aux_loss).backward()
    for layer in codec.encoder.layers:
        assert layer.input.weight.grad.abs().sum() > 0 and layer.recurrent.weight.grad.abs().sum() > 0
    assert codec.encoder.readout.weight.grad.abs().sum() > 0


def test_windowed_inference_equals_a_single_pass(tiny_config, make_audio):
    """The state restarts every frame and the filters' memory is within `context_frames`: cutting the file
    anywhere gives the same events."""
    codec = filterbank_codec(tiny_config)
    audio = torch.from_numpy(make_audio(0.9, 8000)[0])
    whole = codec.encode(audio)
    assert whole.any() and torch.equal(whole, codec(audio.view(1, 1, -1)).bottleneck.events[0])
    assert codec.encoder.context_frames >= codec.encoder.filterbank.length / codec.hop_length
    codec.window_frames = 5
    assert torch.equal(codec.encode(audio), whole)


def test_compress_and_decompress_through_the_public_api(tiny_config, make_audio, tmp_path):
    import soundfile as sf

    codec = filterbank_codec(tiny_config)
    audio = make_audio(2.0, 16000)
    data = snn_codec.compress(audio, 16000, model=codec)
    sf.write(tmp_path / "in.wav", audio[0], 16000, subtype="FLOAT")
    snn_codec.compress_file(tmp_path / "in.wav", tmp_path / "out.snnc", model=codec)
    assert (tmp_path / "out.snnc").read_bytes() == data
    decoded = snn_codec.decompress(data, model=codec)
    assert decoded.sample_rate == 16000 and decoded.samples.shape[-1] == audio.shape[-1]


@pytest.mark.parametrize("change,message", [
    ({"bands": 1}, "bands"), ({"low_hz": 4000.0}, "low_hz"), ({"high_hz": 5000.0}, "sample_rate / 2"),
    ({"step_ms": 0.7}, "step_ms"), ({"step_ms": 3.0}, "divides the frame"), ({"hidden": ()}, "hidden"),
    ({"tau_mem_ms": 0.0}, "tau_mem_ms"),
])
def test_bad_filterbank_settings_are_refused(tiny_config, change, message):
    with pytest.raises(ConfigError, match=message):
        Codec(filterbank_config(tiny_config, **change))


def test_the_shipped_config_loads():
    config = load_config("configs/piano-nm.yaml")
    encoder = Codec(config.model).encoder
    assert isinstance(encoder, FilterbankEncoder) and encoder.steps == 20 and encoder.step_samples == 24
    assert config.model.encoder.bands == 16 and config.model.bottleneck == {"kind": "threshold", "units": 64}


def test_init_from_another_encoder_kind_copies_the_bottleneck_and_decoder(tiny_config, tiny_model_file):
    from snn_codec.model_io import load_model
    from snn_codec.train.module import CodecModule
    from snn_codec.train.run import _initialise_from

    torch.manual_seed(0)
    module = CodecModule.from_config(Config(model=filterbank_config(tiny_config)))
    fresh = {k: v.clone() for k, v in module.codec.encoder.state_dict().items()}
    _initialise_from(module, str(tiny_model_file))
    source, state = load_model(tiny_model_file).state_dict(), module.codec.state_dict()
    running = ("running_mean", "running_var", "num_batches_tracked")  # statistics of the old encoder's latents
    shared = [k for k in source if not k.startswith("encoder.") and not k.endswith(running)]
    assert shared and all(torch.equal(state[k], source[k]) for k in shared)
    norm = module.codec.bottleneck.norm
    assert torch.equal(norm.running_mean, torch.zeros_like(norm.running_mean)) and int(norm.num_batches_tracked) == 0
    assert all(torch.equal(v, fresh[k]) for k, v in module.codec.encoder.state_dict().items())
    other = replace(filterbank_config(tiny_config), latent_dim=2 * tiny_config.latent_dim)  # the bottleneck differs
    with pytest.raises(CodecError, match="architecture differs"):
        _initialise_from(CodecModule.from_config(Config(model=other)), str(tiny_model_file))
