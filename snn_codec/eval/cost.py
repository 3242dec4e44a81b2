"""Neuromorphic cost of the decoder's input layer: event-driven synaptic operations against dense MACs.

An event of unit n at frame t reaches every output of the decoder's first layer that reads it: its
fan-out is the layer's output channels x kernel taps. Event-driven hardware does one accumulate (AC) per
synaptic operation (SynOp); a dense implementation does one multiply-accumulate (MAC) per unit, frame and
fan-out, whether the unit fired or not.

Energy per operation, 32-bit float in 45 nm CMOS (M. Horowitz, "Computing's energy problem (and what we
can do about it)", ISSCC 2014): add 0.9 pJ, multiply 3.7 pJ, so AC = 0.9 pJ and MAC = 4.6 pJ. These are
order-of-magnitude figures for comparison, not a hardware measurement.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

AC_PJ = 0.9
MAC_PJ = 4.6


@dataclass(frozen=True)
class InputLayerCost:
    synops_per_s: float
    dense_macs_per_s: float

    @property
    def event_energy_uj_per_s(self) -> float:
        return self.synops_per_s * AC_PJ * 1e-6

    @property
    def dense_energy_uj_per_s(self) -> float:
        return self.dense_macs_per_s * MAC_PJ * 1e-6


def fan_out(decoder: nn.Module) -> int:
    """Outputs of the decoder's first convolution that one input event reaches."""
    first = next(m for m in decoder.modules() if isinstance(m, nn.Conv1d))
    return first.out_channels * first.kernel_size[0] // first.groups


def input_layer_cost(decoder: nn.Module, units: int, frame_rate: float, events_per_s: float) -> InputLayerCost:
    """SynOps/s of the events and MACs/s of a dense input layer of the same width."""
    reach = fan_out(decoder)
    return InputLayerCost(synops_per_s=events_per_s * reach, dense_macs_per_s=units * frame_rate * reach)
