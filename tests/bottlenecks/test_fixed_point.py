"""Folding BatchNorm, integer weights, fixed-point inputs: the math on hand-computed examples, and the
quantised threshold bottleneck as a bottleneck (contract, gradients, precision checks)."""

from __future__ import annotations

import pickle

import pytest
import torch

from snn_codec.bottlenecks import build_bottleneck
from snn_codec.bottlenecks.fixed_point import (
    Precision, fold_batchnorm, integer_inputs, quantize_projection, quantized_current, unit_scales,
)
from snn_codec.errors import CodecError, ConfigError
from snn_codec.quantization import input_frac_bits_for


def test_batchnorm_folds_into_the_weights_and_bias_as_computed_by_hand(hand_made):
    project, norm = hand_made
    weight, bias = fold_batchnorm(project, norm)
    # folded by hand in conftest.py's hand_made
    assert weight.tolist() == [[7.0, -2.5], [-1.75, 0.5]] and bias.tolist() == [-0.75, 1.0]
    x = torch.randn(3, 2, 5)
    torch.testing.assert_close(torch.einsum("nc,bct->bnt", weight, x) + bias[:, None], norm(project(x)))


def test_four_bit_weights_inputs_accumulators_and_thresholds_by_hand(hand_made):
    # 4-bit weights: limit 7. Unit scales d_w = max|W'| / 7 = (1, 0.25); Q = round(W' / d_w), half to even:
    #   [[7, round(-2.5) = -2], [-7, 2]]
    # 4-bit inputs in [-8, 7] with step 2^-1: X = clamp(round(2 x)).
    # thresholds theta = -c / (d_w d_x) = (0.75 / 0.5, -1 / 0.125) = (1.5, -8).
    project, norm = hand_made
    quantized = quantize_projection(project, norm, Precision(weight_bits=4, input_bits=4, input_frac_bits=1))
    assert unit_scales(fold_batchnorm(project, norm)[0], 4).tolist() == [1.0, 0.25]
    assert quantized.weights.tolist() == [[7, -2], [-7, 2]]
    assert quantized.current_scales.tolist() == [0.5, 0.125] and quantized.thresholds.tolist() == [1.5, -8.0]
    latent = torch.tensor([[[1.25, -3.0, 10.0, 1.0], [0.3, 0.76, -0.2, 1.5]]])
    # 2x = [[2.5, -6, 20, 2], [0.6, 1.52, -0.4, 3]] -> rounded [[2, -6, 20, 2], [1, 2, 0, 3]] -> 20 saturates at 7
    inputs = integer_inputs(latent, quantized.precision)
    assert inputs.tolist() == [[[2, -6, 7, 2], [1, 2, 0, 3]]]
    # A = Q X: unit 0: (14 - 2, -42 - 4, 49 - 0, 14 - 6); unit 1: (-14 + 2, 42 + 4, -49 + 0, -14 + 6)
    # current = d (A - theta): unit 0: 0.5 (A - 1.5); unit 1: 0.125 (A + 8) -> the last one is exactly 0
    current = quantized_current(quantized, latent)
    assert current.tolist() == [[[5.25, -23.75, 23.75, 3.25], [-0.5, 6.75, -5.125, 0.0]]]
    assert (current > 0).tolist() == [[[True, False, True, True], [False, True, False, False]]]


def test_weights_alone_keep_the_latent_float(hand_made):
    project, norm = hand_made
    quantized = quantize_projection(project, norm, Precision(weight_bits=4))
    latent = torch.tensor([[[0.3], [0.7]]])
    # current = d_w (Q x) + c = (1 * (7 * 0.3 - 2 * 0.7) - 0.75, 0.25 * (-7 * 0.3 + 2 * 0.7) + 1)
    torch.testing.assert_close(quantized_current(quantized, latent), torch.tensor([[[-0.05], [0.825]]]))


def test_an_all_zero_unit_gets_scale_one_and_eight_bit_weights_reach_127():
    weight = torch.tensor([[0.0, 0.0, 0.0], [0.5, -1.0, 0.25]])
    scales = unit_scales(weight, 8)
    assert scales[0] == 1.0 and scales[1] == pytest.approx(1.0 / 127)


@pytest.mark.parametrize(("peak", "bits", "frac_bits"), [(581.0, 8, -3), (100.0, 8, 0), (127.0, 8, 0),
                                                         (127.5, 8, -1), (0.9, 4, 2), (0.0, 8, 0)])
def test_the_input_step_is_the_finest_power_of_two_that_reaches_the_peak(peak, bits, frac_bits):
    assert input_frac_bits_for(peak, bits) == frac_bits
    if peak:
        assert (2 ** (bits - 1) - 1) * 2.0 ** -frac_bits >= peak > (2 ** (bits - 1) - 1) * 2.0 ** -(frac_bits + 1)


@pytest.mark.parametrize(("options", "message"), [
    ({"weight_bits": 1}, "weight_bits must be"),
    ({"weight_bits": 17}, "weight_bits must be"),
    ({"weight_bits": 8, "input_bits": 40}, "input_bits must be"),
    ({"input_bits": 8}, "set weight_bits too"),
    ({"weight_bits": 8, "input_frac_bits": 3}, "set input_bits too"),
    ({"weight_bits": 8.0}, "must be an integer"),
    ({"weight_bits": True}, "must be an integer"),
])
def test_impossible_precisions_are_config_errors(options, message):
    with pytest.raises(ConfigError, match=message):
        build_bottleneck("threshold", latent_dim=4, units=3, **options)


def quantized_bottleneck(**options):
    torch.manual_seed(0)
    bottleneck = build_bottleneck("threshold", latent_dim=8, units=6, **options)
    bottleneck.train()(torch.randn(4, 8, 50) * 3)  # BatchNorm statistics away from their initial values
    return bottleneck


def test_a_quantised_bottleneck_keeps_the_contract_and_trains_through_straight_through_rounding():
    bottleneck = quantized_bottleneck(weight_bits=4, input_bits=6, input_frac_bits=2)
    latent = torch.randn(2, 8, 30, requires_grad=True)
    out = bottleneck.train()(latent)
    assert out.events.dtype == torch.bool and out.events.shape == (2, 6, 30)
    (out.z * torch.randn_like(out.z)).sum().backward()
    assert latent.grad.abs().sum() > 0
    for parameter in (bottleneck.project.weight, bottleneck.norm.weight, bottleneck.norm.bias):
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0
    # BatchNorm runs on its running statistics in training too: train and eval give the same events
    with torch.no_grad():
        assert torch.equal(bottleneck.train()(latent).events, bottleneck.eval()(latent).events)
    assert torch.equal(bottleneck.decode(out.events), out.z.detach())
    clone = pickle.loads(pickle.dumps(bottleneck))
    assert torch.equal(clone(latent).events, bottleneck(latent).events)


def test_eight_bits_change_few_events_and_the_float_bottleneck_is_unchanged():
    torch.manual_seed(1)
    latent = torch.randn(2, 8, 200) * 4
    float_bottleneck = quantized_bottleneck().eval()
    quantized = quantized_bottleneck(weight_bits=8, input_bits=8, input_frac_bits=4).eval()
    assert not hasattr(float_bottleneck, "precision") and quantized.precision.tolist() == [8, 8, 4]
    with torch.no_grad():
        reference = float_bottleneck(latent).events
        assert torch.equal(reference, float_bottleneck.norm(float_bottleneck.project(latent)) > 0)
        flipped = (quantized(latent).events != reference).float().mean()
    assert flipped < 0.02


def test_stored_precision_must_match_the_config():
    quantized = quantized_bottleneck(weight_bits=8)
    other = build_bottleneck("threshold", latent_dim=8, units=6, weight_bits=4)
    with pytest.raises(CodecError, match=r"= \(8, 0, 0\), but the config says 4-bit weights"):
        other.load_state_dict(quantized.state_dict())
    assert other.load_state_dict({**quantized.state_dict(), "precision": other.precision}) is not None
