"""The Spiking Music paper's reference bottleneck: z = H(BN(Linear(latent)))."""

from __future__ import annotations

from torch import Tensor

from snn_codec.bottlenecks.base import BottleneckOutput, SpikingBottleneck, State, spiking_output
from snn_codec.bottlenecks.fixed_point import Precision, QuantizedInput, exact_current, quantized_current
from snn_codec.bottlenecks.surrogate import triangle_spike


class ThresholdBottleneck(QuantizedInput, SpikingBottleneck):
    """Linear projection, BatchNorm, Heaviside step with a triangle surrogate gradient.

    Stateless: each frame is thresholded on its own, so chunked streams equal a single pass.
    The auxiliary loss is the firing rate (mean of the spikes), the paper's sparsity term.

    With `weight_bits` the projection runs as it would on integer hardware (fixed_point.py): BatchNorm
    folded into integer weights and a threshold per unit, and with `input_bits` a fixed-point latent, so
    that a spike is an integer compare (`snn_codec.bottlenecks.integer` computes it in integers). Training
    then quantises with straight-through gradients (quantisation-aware fine-tuning). The precision is also
    stored as a tensor (`precision`), so the weight hash, which names the model in compressed files,
    tells a quantised model from its float original.

    Args:
        latent_dim: channels C of the encoder output.
        units: number of neurons N (bits per frame).
        weight_bits: integer weights of 2..16 bits, symmetric per unit; 0 keeps float32.
        input_bits: the latent as a signed fixed-point number of 2..24 bits; 0 keeps it float.
        input_frac_bits: the latent's fixed-point step is 2^-input_frac_bits.
    """

    def __init__(self, latent_dim: int, units: int = 64, weight_bits: int = 0, input_bits: int = 0,
                 input_frac_bits: int = 0):
        super().__init__(latent_dim, units)
        self.init_quantization(Precision(weight_bits, input_bits, input_frac_bits))

    def input_current(self, latent: Tensor) -> Tensor:
        """latent (B, C, T) -> input current (B, N, T); quantised when the model is."""
        if not self.quantization.is_quantized:
            return super().input_current(latent)
        return quantized_current(self.quantized(), latent)

    def forward(self, latent: Tensor, state: State | None = None) -> BottleneckOutput:
        if self.quantization.is_quantized:  # spikes from the float64 current, whose sign is exact
            return spiking_output(triangle_spike(exact_current(self.quantized(), latent)).to(latent.dtype), state={})
        current = self.input_current(latent)  # (B, N, T)
        return spiking_output(triangle_spike(current), state={})
