"""The fixed-point leaky neuron: integer membrane, decay, threshold and saturation on a hand-computed
example, its float path against its integers, and the quantised snntorch_leaky bottleneck's contract."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest
import torch

from snn_codec.bottlenecks import build_bottleneck
from snn_codec.bottlenecks.fixed_point_lif import integer_leaky
from snn_codec.codec import Codec
from snn_codec.errors import ConfigError
from snn_codec.quantization import integer_events, integer_layer, quantized_codec

# The hand-made projection (conftest.py) at 4-bit weights and inputs, step 2^-1, gives accumulators
# A = [[12, -46, 49, 8], [-12, 46, -49, -8]] for LATENT and real thresholds (1.5, -8) (test_fixed_point.py).
# Here: bias b = round(-(1.5, -8)) = (-2, 8) (half to even), so I = A + b = [[10, -48, 47, 6], [-4, 54, -41, 0]];
# threshold 1.0 in steps d = (0.5, 0.125): theta = (2, 8); beta 0.5 with 2 decay bits: beta_q = 2, so
# decay(u) = floor(2u / 4) = floor(u / 2).
LATENT = [[1.25, -3.0, 10.0, 1.0], [0.3, 0.76, -0.2, 1.5]]
# (reset, state_bits) -> (spikes, last membrane), stepped by hand; U' is the membrane after the delayed reset
EXPECTED = {
    # unit 0: 10 | fired: 0 -> 0 - 48 = -48 | -24 + 47 = 23 | fired: 0 + 6 = 6
    # unit 1: -4 | -2 + 54 = 52 | fired: 0 - 41 = -41 | floor(-20.5) + 0 = -21
    ("zero", 8): ([[True, False, True, True], [False, True, False, False]], [6, -21]),
    # unit 0: 10 | 5 - 48 - 2 = -45 | -23 + 47 = 24 | 12 + 6 - 2 = 16
    # unit 1: -4 | -2 + 54 = 52 | 26 - 41 - 8 = -23 | -12 + 0 = -12
    ("subtract", 8): ([[True, False, True, True], [False, True, False, False]], [16, -12]),
    # 6 bits saturate at [-32, 31]. unit 0: 10 | -45 -> -32 | -16 + 47 = 31 | 15 + 6 - 2 = 19
    # unit 1: -4 | 52 -> 31 | 15 - 41 - 8 = -34 -> -32 | -16 + 0 = -16
    ("subtract", 6): ([[True, False, True, True], [False, True, False, False]], [19, -16]),
}


def hand_made_leaky(hand_made, reset: str, state_bits: int):
    bottleneck = build_bottleneck("snntorch_leaky", latent_dim=2, units=2, beta=0.5, threshold=1.0, reset=reset,
                                  weight_bits=4, input_bits=4, input_frac_bits=1, decay_bits=2,
                                  state_bits=state_bits)
    bottleneck.project, bottleneck.norm = hand_made
    return bottleneck.eval()


@pytest.mark.parametrize(("reset", "state_bits"), sorted(EXPECTED))
def test_the_fixed_point_membrane_by_hand(hand_made, reset, state_bits):
    spikes, mem = EXPECTED[(reset, state_bits)]
    bottleneck = hand_made_leaky(hand_made, reset, state_bits)
    layer = integer_leaky(bottleneck)
    assert (layer.bias.tolist(), layer.threshold.tolist(), layer.beta.tolist()) == ([-2, 8], [2, 8], [2, 2])
    got_spikes, got_mem = layer.events(np.array(LATENT, np.float32))
    assert got_spikes.tolist() == spikes and got_mem.tolist() == mem
    with torch.no_grad():
        out = bottleneck(torch.tensor([LATENT]))
    assert out.events[0].tolist() == spikes and out.state["mem"][0].tolist() == mem


@pytest.fixture
def tiny_leaky_codec(tiny_config):
    torch.manual_seed(0)
    config = dataclasses.replace(tiny_config, bottleneck={"kind": "snntorch_leaky", "units": 8, "beta": 0.7,
                                                          "threshold": 0.5})
    return Codec(config).eval()


@pytest.mark.parametrize("reset", ["zero", "subtract", "none"])
def test_integers_equal_the_float_path_and_chunks_equal_one_pass(tiny_leaky_codec, make_audio, reset):
    options = {**tiny_leaky_codec.config.bottleneck, "reset": reset}
    float_codec = Codec(dataclasses.replace(tiny_leaky_codec.config, bottleneck=options))
    float_codec.load_state_dict(tiny_leaky_codec.state_dict())
    codec = quantized_codec(float_codec.eval(), 6, 8, 4, decay_bits=8, state_bits=12).eval()
    samples = make_audio(3.0, 8000)[0]
    codec.window_frames = 40  # several windows: the membrane carries over in both paths
    events = codec.encode(torch.from_numpy(samples)).numpy()
    assert 0 < events.mean() < 1
    assert np.array_equal(integer_events(codec, samples), events)
    latent = torch.randn(2, 8, 40) * 3
    with torch.no_grad():
        whole = codec.bottleneck(latent)
        head = codec.bottleneck(latent[..., :17])
        tail = codec.bottleneck(latent[..., 17:], head.state)
    assert torch.equal(torch.cat([head.events, tail.events], dim=-1), whole.events)


def test_a_quantised_leaky_bottleneck_trains_and_pickles():
    torch.manual_seed(0)
    bottleneck = build_bottleneck("snntorch_leaky", latent_dim=8, units=6, beta=0.8, learn_beta=True,
                                  learn_threshold=True, weight_bits=8, input_bits=8, input_frac_bits=4)
    latent = torch.randn(2, 8, 30, requires_grad=True)
    out = bottleneck.train()(latent * 3)
    assert out.events.dtype == torch.bool and out.z.dtype == torch.float32
    (out.z * torch.randn_like(out.z)).sum().backward()
    assert latent.grad.abs().sum() > 0
    for parameter in (bottleneck.project.weight, bottleneck.neuron.beta, bottleneck.neuron.threshold):
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0
    assert bottleneck.precision.tolist() == [8, 8, 4, 12, 24]
    clone = pickle.loads(pickle.dumps(bottleneck.eval()))
    assert torch.equal(clone(latent).events, bottleneck(latent).events)


@pytest.mark.parametrize(("options", "message"), [
    ({"weight_bits": 8}, "set input_bits"),
    ({"decay_bits": 8}, "set weight_bits and input_bits too"),
    ({"weight_bits": 8, "input_bits": 8, "decay_bits": 0}, "decay_bits must be"),
    ({"weight_bits": 8, "input_bits": 8, "state_bits": 33}, "state_bits must be"),
    ({"weight_bits": 8, "input_bits": 8, "decay_bits": 24, "state_bits": 32}, "below 53"),
])
def test_impossible_leaky_precisions_are_config_errors(options, message):
    with pytest.raises(ConfigError, match=message):
        build_bottleneck("snntorch_leaky", latent_dim=4, units=3, **options)


def test_the_leaky_layer_is_what_integer_layer_gives(tiny_leaky_codec):
    codec = quantized_codec(tiny_leaky_codec, 8, 8, 3)
    layer = integer_layer(codec)
    assert layer.weights.dtype == np.int8 and (layer.decay_bits, layer.state_bits) == (12, 24)
    assert layer.beta.tolist() == [round(0.7 * 2 ** 12)] * 8
