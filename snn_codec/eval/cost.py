"""Neuromorphic cost of the decoder's input layer: event-driven synaptic operations against dense MACs.

An event of unit n at frame t reaches every output of the decoder's first layer that reads it: its
fan-out is the layer's output channels x kernel taps. Event-driven hardware does one accumulate (AC) per
synaptic operation (SynOp); a dense implementation does one multiply-accumulate (MAC) per unit, frame and
fan-out, whether the unit fired or not.

Energy per operation, 32-bit float in 45 nm CMOS (M. Horowitz, "Computing's energy problem (and what we
can do about it)", ISSCC 2014): add 0.9 pJ, multiply 3.7 pJ, so AC = 0.9 pJ and MAC = 4.6 pJ. These are
order-of-magnitude figures for comparison, not a hardware measurement.

NeuroBench's metrics (Yik et al., "The neurobench framework for benchmarking neuromorphic computing
algorithms and systems", Nature Communications 2025), computed here as the `neurobench` package defines
them; the package itself cannot be installed beside our CPU torch (it requires torchaudio):
- footprint: bytes of all parameters and buffers (`footprint_bytes`);
- connection sparsity: zero weights / all weights of the Linear, Conv and recurrent layers
  (`connection_sparsity`); neuron layers hold no connections;
- activation sparsity: zero outputs / all outputs of the neuron layers over the evaluated frames
  (`activation_sparsity`); here the neuron layer is the bottleneck (spikes: 1 - firing rate; a quantizer's
  z is dense and scores near 0);
- synaptic operations: per input value that is not zero, one operation per non-zero weight it meets in
  the next layer; accumulates (Effective_ACs) when the inputs are binary spikes, multiply-accumulates
  (Effective_MACs) otherwise; Dense counts every input and weight (`synaptic_operations`). NeuroBench
  sums them over all layers; we count the decoder's input layer, where events and dense latents differ
  (the encoder and the rest of the decoder are the same network for every bottleneck).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

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


@dataclass(frozen=True)
class SynapticOperations:
    """NeuroBench's synaptic operations per second into one layer (one of the effective counts is 0)."""

    effective_macs_per_s: float
    effective_acs_per_s: float
    dense_per_s: float

    @property
    def effective_per_s(self) -> float:
        return self.effective_macs_per_s + self.effective_acs_per_s


CONNECTION_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d)
RECURRENT_LAYERS = (nn.RNNBase, nn.RNNCellBase)


def footprint_bytes(module: nn.Module) -> int:
    """Memory of a model's parameters and buffers in bytes (NeuroBench's footprint)."""
    tensors = [*module.parameters(), *module.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors)


def connection_sparsity(module: nn.Module) -> float:
    """Zero weights / all weights of the connection layers (Linear, Conv, recurrent) of `module`."""
    zeros = total = 0
    for layer in module.modules():
        if isinstance(layer, CONNECTION_LAYERS):
            weights = [layer.weight]
        elif isinstance(layer, RECURRENT_LAYERS):
            weights = [p for name, p in layer.named_parameters(recurse=False) if name.startswith(("weight", "bias"))]
        else:
            continue
        zeros += sum(int((w == 0).sum()) for w in weights)
        total += sum(w.numel() for w in weights)
    return zeros / total if total else 0.0


def activation_sparsity(outputs: Tensor) -> float:
    """Zero values / all values of a neuron layer's outputs, e.g. the (B, N, T) events or z of a bottleneck."""
    return 1.0 - int(torch.count_nonzero(outputs)) / outputs.numel() if outputs.numel() else 0.0


def input_fan_out(decoder: nn.Module) -> Tensor:
    """Non-zero weights that each input channel of the decoder's first convolution meets (C_in,)."""
    first = next(m for m in decoder.modules() if isinstance(m, nn.Conv1d))
    weight = first.weight.detach()  # (C_out, C_in / groups, k)
    per_group_out, per_group_in = first.out_channels // first.groups, first.in_channels // first.groups
    nonzero = (weight != 0).unflatten(0, (first.groups, per_group_out)).sum(dim=(1, 3))  # (groups, C_in / groups)
    return nonzero.reshape(first.groups * per_group_in)


def synaptic_operations(decoder: nn.Module, z: Tensor, frame_rate: float) -> SynapticOperations:
    """Synaptic operations per second of the decoder's first layer on its input z (B, C, T) at `frame_rate`.

    Binary z (spikes) counts accumulates, anything else multiply-accumulates; frames at the edges count as
    if the layer had no padding (every input meets all its weights).
    """
    reach = input_fan_out(decoder).to(torch.float64)  # (C,)
    seconds = z.shape[0] * z.shape[-1] / frame_rate
    active = (z.detach() != 0).to(torch.float64).sum(dim=(0, 2))  # (C,): non-zero inputs per channel
    effective = float(active @ reach) / seconds
    dense = z.shape[1] * z.shape[-1] * z.shape[0] * fan_out(decoder) / seconds
    is_binary = bool(((z == 0) | (z == 1)).all())
    return SynapticOperations(effective_macs_per_s=0.0 if is_binary else effective,
                              effective_acs_per_s=effective if is_binary else 0.0, dense_per_s=dense)
