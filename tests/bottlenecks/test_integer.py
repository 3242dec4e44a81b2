"""The integer emulation of a quantised threshold bottleneck: bit for bit the model's own events, on tiny
models and on real audio through the shipped model; its file round-trips."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snn_codec.audio import load_audio, resample, to_mono
from snn_codec.bottlenecks import build_bottleneck
from snn_codec.bottlenecks.integer import integer_threshold, load_integer, save_integer
from snn_codec.demo import EXAMPLE
from snn_codec.errors import CodecError
from snn_codec.model_io import load_model
from snn_codec.quantization import (
    calibration_audio, input_frac_bits_for, integer_events, integer_layer, latent_peak, quantized_codec,
)


def test_the_hand_made_layer_in_integers(hand_made):
    bottleneck = build_bottleneck("threshold", latent_dim=2, units=2, weight_bits=4, input_bits=4, input_frac_bits=1)
    bottleneck.project, bottleneck.norm = hand_made
    layer = integer_threshold(bottleneck)
    assert layer.weights.dtype == np.int8 and layer.weights.tolist() == [[7, -2], [-7, 2]]
    assert layer.thresholds.tolist() == [1, -8]  # floor(1.5), -8: a spike is A > threshold
    latent = np.array([[1.25, -3.0, 10.0, 1.0], [0.3, 0.76, -0.2, 1.5]], dtype=np.float32)
    assert layer.input_integers(latent).tolist() == [[2, -6, 7, 2], [1, 2, 0, 3]]
    assert layer.accumulators(layer.input_integers(latent)).tolist() == [[12, -46, 49, 8], [-12, 46, -49, -8]]
    assert layer.events(latent).tolist() == [[True, False, True, True], [False, True, False, False]]
    # |A| <= (7 + 2) * 8 = 72 and |threshold| <= 8: 7 bits of magnitude and a sign
    assert layer.accumulator_bits == 8


@pytest.mark.parametrize(("weight_bits", "input_bits"), [(8, 8), (4, 8), (4, 4), (2, 3), (16, 24)])
def test_integers_equal_the_float_path_on_a_tiny_model(tiny_codec, make_audio, weight_bits, input_bits):
    audio = torch.from_numpy(make_audio(3.0, tiny_codec.config.sample_rate)).view(1, 1, -1)
    frac_bits = input_frac_bits_for(latent_peak(tiny_codec, [audio]), input_bits)
    codec = quantized_codec(tiny_codec, weight_bits, input_bits, frac_bits).eval()
    samples = audio[0, 0].numpy()
    events = codec.encode(torch.from_numpy(samples)).numpy()
    assert 0 < events.mean() < 1
    assert np.array_equal(integer_events(codec, samples), events)


@pytest.mark.parametrize(("weight_bits", "input_bits"), [(8, 8), (4, 4)])
def test_integers_equal_the_float_path_on_real_audio_through_the_shipped_model(weight_bits, input_bits):
    float_codec = load_model("piano-v3")
    frac_bits = input_frac_bits_for(latent_peak(float_codec, calibration_audio(float_codec)), input_bits)
    codec = quantized_codec(float_codec, weight_bits, input_bits, frac_bits).eval()
    audio = load_audio(EXAMPLE)
    samples = resample(to_mono(audio.samples), audio.sample_rate, codec.config.sample_rate)[0, : 3 * 24000]
    events = codec.encode(torch.from_numpy(samples)).numpy()  # the path compress() takes
    assert events.shape == (64, 150) and 0.05 < events.mean() < 0.3
    assert np.array_equal(integer_events(codec, samples), events)
    assert (events != float_codec.encode(torch.from_numpy(samples)).numpy()).mean() < 0.03


def test_the_integer_file_round_trips_and_foreign_files_are_refused(tmp_path, tiny_codec):
    codec = quantized_codec(tiny_codec, 8, 8, 2)
    layer = integer_layer(codec)
    path = save_integer(layer, tmp_path / "layer")
    loaded = load_integer(path)
    assert path.suffix == ".safetensors" and loaded.weights.dtype == np.int8
    for name in ("weights", "thresholds", "current_scales"):
        assert np.array_equal(getattr(loaded, name), getattr(layer, name))
    assert (loaded.weight_bits, loaded.input_bits, loaded.input_frac_bits) == (8, 8, 2)
    for foreign in (tmp_path / "missing.safetensors", tmp_path / "garbage.safetensors", EXAMPLE):
        if foreign.name == "garbage.safetensors":
            foreign.write_bytes(b"\x00" * 40)
        with pytest.raises(CodecError, match="integer bottleneck file"):
            load_integer(foreign)
    from snn_codec.model_io import save_model

    with pytest.raises(CodecError, match="not an integer bottleneck file"):
        load_integer(save_model(codec, tmp_path / "model.safetensors"))


def test_integer_emulation_needs_integer_weights_and_inputs(tiny_codec, tiny_vq_codec):
    with pytest.raises(CodecError, match="needs weight_bits and input_bits"):
        integer_layer(tiny_codec)
    with pytest.raises(CodecError, match="needs weight_bits and input_bits"):
        integer_layer(quantized_codec(tiny_codec, 8))
    with pytest.raises(CodecError, match="threshold and snntorch_leaky bottlenecks"):
        integer_layer(tiny_vq_codec)
