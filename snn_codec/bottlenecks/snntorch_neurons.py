"""snnTorch adapters: leaky integrate-and-fire neurons whose time steps are the latent frames.

Each adapter projects the latent frames to an input current, I = BN(Conv1d_1x1(latent)) (B, N, T), like
the threshold reference, then runs an snnTorch neuron over the T frames. snnTorch conventions are
hidden here: `init_hidden=False`, the membrane comes from and goes back to our `state` dict, and the
process-wide `SpikingNeuron.instances` list does not keep our neurons alive.

snnTorch's default `reset_delay=True` applies the reset of a spike at the *next* step, using the
membrane it returns (which is the pre-reset one); so spikes depend only on that membrane and a
chunked stream equals a single pass.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from snn_codec.bottlenecks.base import (
    SpikingBottleneck,
    BottleneckOutput,
    State,
    check_decay,
    check_neuron_options,
    spiking_output,
)
from snn_codec.bottlenecks.fixed_point import Precision, QuantizedInput
from snn_codec.bottlenecks.fixed_point_lif import check_state_precision, fixed_point_leaky, fixed_point_parameters
from snn_codec.bottlenecks.surrogate import SurrogateSpike
from snn_codec.errors import ConfigError

def _detach_from_instances(neuron: nn.Module) -> None:
    """snnTorch appends every neuron to a class-level list (for `snntorch.utils.reset`); drop ours."""
    from snntorch._neurons.neurons import SpikingNeuron

    SpikingNeuron.instances[:] = [n for n in SpikingNeuron.instances if n is not neuron]


def _unroll(neuron: nn.Module, current: Tensor, states: list[Tensor], cached: tuple[str, ...]):
    """Steps an snnTorch neuron over the frames: `neuron(I[t], *states) -> (spike, *states)`.

    Returns the spikes (B, N, T) and the final states. snnTorch also caches its last states on the
    module (`cached` attributes); they are cleared so the module holds no stream state and pickles.
    """
    spikes = []
    try:
        for t in range(current.shape[-1]):
            spike, *states = neuron(current[..., t], *states)
            spikes.append(spike)
    finally:
        for name in cached:
            setattr(neuron, name, torch.zeros(0))
    return torch.stack(spikes, dim=-1), states


class SnnTorchLeaky(QuantizedInput, SpikingBottleneck):
    """First-order LIF (`snntorch.Leaky`) over the latent frames.

    With I[t] the projected current, beta the per-frame membrane decay (0 <= beta < 1; beta =
    exp(-dt / tau_mem) for a membrane time constant tau_mem and frame period dt) and theta the threshold:

        U[t] = beta * U'[t-1] + I[t]        S[t] = H(U[t] - theta)

    where U'[t-1] is U[t-1] after the reset of S[t-1]: "zero": U' = (1 - S) * U; "subtract": the
    un-decayed theta is removed, U[t] = beta * U[t-1] + I[t] - theta * S[t-1]; "none": U' = U.
    beta = 0 with reset "zero" or "none" is the memoryless threshold model S[t] = H(I[t] - theta).

    Args:
        latent_dim: channels C of the encoder output.
        units: number of neurons N (bits per frame).
        beta: per-frame membrane decay, 0 <= beta < 1.
        threshold: firing threshold theta (>= 0).
        reset: "zero" (default: the only one NIR's LIF can express), "subtract" or "none".
        learn_beta: learn one beta per neuron.
        learn_threshold: learn one threshold per neuron.
        surrogate: "triangle", "fast_sigmoid" or "arctan" (see surrogate.py).
        weight_bits, input_bits, input_frac_bits: integer weights and a fixed-point latent, as for the
            threshold bottleneck (fixed_point.py); then the membrane is fixed point too (fixed_point_lif.py):
        decay_bits: fractional bits of the integer decay (quantised neurons only).
        state_bits: signed bits of the integer membrane, which saturates (quantised neurons only).
    """

    def __init__(
        self,
        latent_dim: int,
        units: int = 64,
        beta: float = 0.9,
        threshold: float = 1.0,
        reset: str = "zero",
        learn_beta: bool = False,
        learn_threshold: bool = False,
        surrogate: str = "triangle",
        weight_bits: int = 0,
        input_bits: int = 0,
        input_frac_bits: int = 0,
        decay_bits: int = 12,
        state_bits: int = 24,
    ):
        import snntorch

        check_neuron_options(units, threshold, reset)
        super().__init__(latent_dim, units)
        self.reset = reset
        precision = Precision(weight_bits, input_bits, input_frac_bits)
        if precision.is_quantized and not precision.is_integer:
            raise ConfigError("a quantised leaky neuron keeps an integer membrane: set input_bits (and "
                              "input_frac_bits) as well as weight_bits")
        if precision.is_quantized:
            check_state_precision(decay_bits, state_bits)
        elif (decay_bits, state_bits) != (12, 24):
            raise ConfigError("decay_bits and state_bits set a quantised neuron's membrane: set weight_bits and "
                              "input_bits too")
        self.decay_bits, self.state_bits = decay_bits, state_bits
        self.init_quantization(precision, extra=(decay_bits, state_bits))
        # per-neuron tensors: learnable per neuron, and what snnTorch's NIR export expects
        self.neuron = snntorch.Leaky(
            beta=torch.full((units,), check_decay("beta", beta)),
            threshold=torch.full((units,), float(threshold)),
            spike_grad=SurrogateSpike(surrogate),
            init_hidden=False,
            learn_beta=learn_beta,
            learn_threshold=learn_threshold,
            reset_mechanism=reset,
        )
        _detach_from_instances(self.neuron)

    def forward(self, latent: Tensor, state: State | None = None) -> BottleneckOutput:
        """latent (B, C, T) -> spikes (B, N, T); state {"mem": (B, N)} (pre-reset membrane; a quantised
        neuron's in integer accumulator steps, float64)."""
        if self.quantization.is_quantized:
            quantized = self.quantized()
            neuron = fixed_point_parameters(quantized, self.neuron.beta, self.neuron.threshold, self.reset,
                                            self.decay_bits, self.state_bits)
            spikes, mem = fixed_point_leaky(quantized, neuron, latent, state["mem"] if state else None,
                                            self.neuron.spike_grad)
            return spiking_output(spikes, {"mem": mem})
        current = self.input_current(latent)  # (B, N, T)
        mem = state["mem"] if state else current.new_zeros(current.shape[:2])
        spikes, (mem,) = _unroll(self.neuron, current, [mem], cached=("mem",))
        return spiking_output(spikes, {"mem": mem})


class SnnTorchSynaptic(SpikingBottleneck):
    """Current-based LIF (`snntorch.Synaptic`): a decaying synaptic current feeds the membrane.

        syn[t] = alpha * syn'[t-1] + I[t]     U[t] = beta * U'[t-1] + syn[t]     S[t] = H(U[t] - theta)

    alpha and beta are the per-frame decays of the synaptic current and the membrane (alpha =
    exp(-dt / tau_syn)). Built with `reset_delay=False`: a spike resets U at once (U' = 0 for "zero",
    U' = U - theta for "subtract") and leaves syn alone, as NIR's CubaLIF and Norse do; snnTorch's
    delayed "zero" reset would also clear syn and drop the next frame's input. The state holds the
    post-reset membrane.

    Args:
        latent_dim: channels C of the encoder output.
        units: number of neurons N (bits per frame).
        alpha: per-frame synaptic-current decay, 0 <= alpha < 1.
        beta: per-frame membrane decay, 0 <= beta < 1.
        threshold: firing threshold theta (>= 0).
        reset: "zero", "subtract" or "none".
        learn_alpha, learn_beta, learn_threshold: learn one value per neuron.
        surrogate: "triangle", "fast_sigmoid" or "arctan".
    """

    def __init__(
        self,
        latent_dim: int,
        units: int = 64,
        alpha: float = 0.5,
        beta: float = 0.9,
        threshold: float = 1.0,
        reset: str = "zero",
        learn_alpha: bool = False,
        learn_beta: bool = False,
        learn_threshold: bool = False,
        surrogate: str = "triangle",
    ):
        import snntorch

        check_neuron_options(units, threshold, reset)
        super().__init__(latent_dim, units)
        self.reset = reset
        self.neuron = snntorch.Synaptic(
            alpha=torch.full((units,), check_decay("alpha", alpha)),
            beta=torch.full((units,), check_decay("beta", beta)),
            threshold=torch.full((units,), float(threshold)),
            spike_grad=SurrogateSpike(surrogate),
            init_hidden=False,
            learn_alpha=learn_alpha,
            learn_beta=learn_beta,
            learn_threshold=learn_threshold,
            reset_mechanism=reset,
            reset_delay=False,
        )
        _detach_from_instances(self.neuron)

    def forward(self, latent: Tensor, state: State | None = None) -> BottleneckOutput:
        """latent (B, C, T) -> spikes (B, N, T); state {"syn": (B, N), "mem": (B, N)}."""
        current = self.input_current(latent)  # (B, N, T)
        zeros = current.new_zeros(current.shape[:2])
        syn, mem = (state["syn"], state["mem"]) if state else (zeros, zeros)
        spikes, (syn, mem) = _unroll(self.neuron, current, [syn, mem], cached=("syn", "mem"))
        return spiking_output(spikes, {"syn": syn, "mem": mem})


class SnnTorchRLeaky(SpikingBottleneck):
    """Recurrent LIF (`snntorch.RLeaky`): each neuron also receives the previous frame's spikes of all
    neurons through a learned N x N linear layer V (with bias):

        U[t] = beta * U'[t-1] + I[t] + V(S[t-1])        S[t] = H(U[t] - theta)

    with the resets of `SnnTorchLeaky`, so that with V = 0 it spikes exactly like SnnTorchLeaky. For "zero"
    it is built with `reset_delay=False` (the state holds the post-reset membrane): RLeaky's delayed zero
    reset would clear the whole next membrane, frame t+1's input included. The recurrence lets the
    population coordinate its spikes (e.g. inhibit one another); V starts as PyTorch's default linear layer.

    Args:
        latent_dim: channels C of the encoder output.
        units: number of neurons N (bits per frame).
        beta: per-frame membrane decay, 0 <= beta < 1.
        threshold: firing threshold theta (>= 0).
        reset: "zero", "subtract" or "none".
        learn_beta, learn_threshold: learn one value per neuron.
        surrogate: "triangle", "fast_sigmoid" or "arctan".
    """

    def __init__(
        self,
        latent_dim: int,
        units: int = 64,
        beta: float = 0.9,
        threshold: float = 1.0,
        reset: str = "zero",
        learn_beta: bool = False,
        learn_threshold: bool = False,
        surrogate: str = "triangle",
    ):
        import snntorch

        check_neuron_options(units, threshold, reset)
        super().__init__(latent_dim, units)
        self.reset = reset
        self.neuron = snntorch.RLeaky(
            beta=torch.full((units,), check_decay("beta", beta)),
            threshold=torch.full((units,), float(threshold)),
            spike_grad=SurrogateSpike(surrogate),
            init_hidden=False,
            all_to_all=True,
            linear_features=units,
            learn_beta=learn_beta,
            learn_threshold=learn_threshold,
            reset_mechanism=reset,
            reset_delay=reset != "zero",
        )
        _detach_from_instances(self.neuron)

    def forward(self, latent: Tensor, state: State | None = None) -> BottleneckOutput:
        """latent (B, C, T) -> spikes (B, N, T); state {"spk": last spikes, "mem": membrane} (B, N)."""
        current = self.input_current(latent)  # (B, N, T)
        zeros = current.new_zeros(current.shape[:2])
        spk, mem = (state["spk"], state["mem"]) if state else (zeros, zeros)
        # RLeaky takes (input, spk, mem) and returns (spk, mem): the spikes are part of its state
        spikes, spk, mem = _unroll_recurrent(self.neuron, current, spk, mem)
        return spiking_output(spikes, {"spk": spk, "mem": mem})


def _unroll_recurrent(neuron: nn.Module, current: Tensor, spk: Tensor, mem: Tensor):
    """Steps `snntorch.RLeaky` over the frames: `neuron(I[t], spk, mem) -> (spk, mem)`; clears its cache."""
    spikes = []
    try:
        for t in range(current.shape[-1]):
            spk, mem = neuron(current[..., t], spk, mem)
            spikes.append(spk)
    finally:
        for name in ("spk", "mem"):
            setattr(neuron, name, torch.zeros(0))
    return torch.stack(spikes, dim=-1), spk, mem
