"""Neuromorphic cost: SynOps scale with events, dense MACs with width."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from snn_codec.codec import Codec
from snn_codec.eval.cost import (AC_PJ, MAC_PJ, activation_sparsity, connection_sparsity, fan_out, footprint_bytes,
                                 input_fan_out, input_layer_cost, synaptic_operations)


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


def test_neurobench_static_metrics_by_hand():
    model = nn.Sequential(nn.Linear(2, 3), nn.Conv1d(3, 2, 2), nn.BatchNorm1d(2))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.0, 1.0], [0.0, 0.0], [2.0, 3.0]]))  # 3 zeros of 6
        model[1].weight.fill_(1.0)  # 0 zeros of 12
    # parameters: 6 + 3 + 12 + 2 + 2 + 2 floats; buffers: running mean, var (2 + 2 floats) and a long counter
    assert footprint_bytes(model) == (27 + 4) * 4 + 8
    assert connection_sparsity(model) == pytest.approx(3 / 18)
    assert connection_sparsity(nn.GRU(2, 3)) == 0.0


def test_activation_sparsity_and_synaptic_operations_by_hand():
    decoder = nn.Sequential(nn.Conv1d(3, 4, 2))
    with torch.no_grad():
        decoder[0].weight.fill_(1.0)
        decoder[0].weight[:, 2] = 0.0  # input channel 2 meets no weight
        decoder[0].weight[0, 1, 0] = 0.0  # channel 1 meets 7 of its 8
    assert input_fan_out(decoder).tolist() == [8, 7, 0]
    spikes = torch.zeros(1, 3, 50)
    spikes[0, 0, :10] = 1.0  # 10 spikes of channel 0, 5 of channel 1, 50 of channel 2 in one second (50 Hz)
    spikes[0, 1, :5] = 1.0
    spikes[0, 2] = 1.0
    assert activation_sparsity(spikes) == pytest.approx(1 - 65 / 150)
    ops = synaptic_operations(decoder, spikes, frame_rate=50)
    assert ops.effective_acs_per_s == 10 * 8 + 5 * 7 and ops.effective_macs_per_s == 0
    assert ops.dense_per_s == 3 * 50 * 8
    dense = synaptic_operations(decoder, 0.5 * spikes, frame_rate=50)
    assert dense.effective_macs_per_s == ops.effective_acs_per_s and dense.effective_acs_per_s == 0


def test_grouped_convolutions_count_each_group_apart():
    decoder = nn.Conv1d(4, 6, 3, groups=2)
    with torch.no_grad():
        decoder.weight.fill_(1.0)
        decoder.weight[3:, 0] = 0.0  # group 2's first input (channel 2) loses its weights
    assert input_fan_out(decoder).tolist() == [9, 9, 0, 9]
