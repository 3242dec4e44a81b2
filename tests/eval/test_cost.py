"""Neuromorphic cost: SynOps scale with events, dense MACs with width."""

from __future__ import annotations

import pytest
import torch

from snn_codec.codec import Codec
from snn_codec.eval.cost import AC_PJ, MAC_PJ, fan_out, input_layer_cost


def test_fan_out_and_costs(tiny_config):
    torch.manual_seed(0)
    codec = Codec(tiny_config)
    reach = fan_out(codec.decoder)
    assert reach == tiny_config.decoder.dim * 7  # the iSTFT decoder starts with a kernel-7 conv
    cost = input_layer_cost(codec.decoder, units=8, frame_rate=50, events_per_s=100)
    assert cost.synops_per_s == 100 * reach
    assert cost.dense_macs_per_s == 8 * 50 * reach
    assert cost.event_energy_uj_per_s == pytest.approx(cost.synops_per_s * AC_PJ * 1e-6)
    assert cost.dense_energy_uj_per_s / cost.event_energy_uj_per_s == pytest.approx(4 * MAC_PJ / AC_PJ)
