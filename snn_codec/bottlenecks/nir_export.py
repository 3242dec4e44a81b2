"""Export a spiking bottleneck to NIR (the Neuromorphic Intermediate Representation).

The graph is input -> Affine -> neuron -> output, for the bottleneck in eval mode:

- Affine: the 1x1 projection with the BatchNorm folded in. With s = gamma / sqrt(running_var + eps),
  W' = s * W and b' = s * (b - running_mean) + beta_bn; for LIF neurons the input gain of the
  discrete model (below) is folded in as well, so every neuron node has r = 1 (or w_in = r = ...).
- Neuron: nir.Threshold for the reference; nir.LIF for SnnTorchLeaky and NorseLIF; nir.CubaLIF for
  SnnTorchSynaptic.

NIR neurons are continuous-time: tau dv/dt = (v_leak - v) + r * I. A simulator that takes forward-Euler
steps of dt (what Norse's and snnTorch's importers do) gets v[t] = (1 - dt/tau) v[t-1] + (dt/tau) r I[t],
so a per-frame decay beta is exported as tau = dt / (1 - beta) and the gain 1 / (1 - beta) goes into the
Affine; the exact-exponential reading, beta = exp(-dt / tau), would give a different tau. Hence the
graph is exact for the `dt` passed to `bottleneck_to_nir` only:

- Norse: `norse.torch.from_nir(graph, dt=dt)` with the same dt (default 0.02 s = one frame at 50 Hz).
  Norse's LIF importer ignores `r`, which is why the gain lives in the Affine and r = 1.
- snnTorch: `import_from_nir` hard-codes dt = 1e-4, so export with `dt=1e-4` for it. It also folds
  the LIF's dt / tau into the threshold (threshold / (1 - beta)), which needs one beta and one
  threshold for all neurons, and it has no Threshold node (the reference does not import there).

What cannot be exported exactly, and raises ConfigError: "subtract" and "none" resets (NIR neurons
reset to v_reset; our "zero" reset is v_reset = 0), and the adaptive threshold of `norse_lsnn` (NIR has
no neuron whose threshold moves with its own spikes). Equal spikes are exact in real arithmetic; in
float32 the folded BatchNorm and the rearranged update round differently by a few ulps, so a spike can
flip only when a membrane lies within about 1e-6 of its threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from snn_codec.bottlenecks.base import Bottleneck
from snn_codec.errors import ConfigError

FRAME_PERIOD_S = 0.02  # 1 / 50 Hz


def folded_affine(bottleneck: Bottleneck) -> tuple[np.ndarray, np.ndarray]:
    """The projection and eval-mode BatchNorm as one affine map: W' (N, C), b' (N,)."""
    conv, norm = bottleneck.project, bottleneck.norm
    with torch.no_grad():
        weight = conv.weight[..., 0].double()  # (N, C)
        bias = conv.bias.double() if conv.bias is not None else torch.zeros(weight.shape[0], dtype=torch.float64)
        scale = norm.weight.double() / torch.sqrt(norm.running_var.double() + norm.eps)
        folded_w = scale[:, None] * weight
        folded_b = scale * (bias - norm.running_mean.double()) + norm.bias.double()
    return folded_w.numpy(), folded_b.numpy()


def _per_neuron(value: torch.Tensor, units: int) -> np.ndarray:
    return value.detach().double().expand(units).numpy().copy()


@dataclass(frozen=True)
class SpikingLayer:
    """A bottleneck's eval-mode computation in our discrete terms, one step per latent frame.

    I[t] = weight @ latent[t] + bias; then, per neuron kind (theta = threshold, strict `>`):
    "threshold": S = H(I - theta);
    "lif":  U[t] = beta U'[t-1] + I[t], S = H(U - theta), U' = (1 - S) U;
    "cuba": syn[t] = alpha syn[t-1] + I[t], U[t] = beta U'[t-1] + syn[t], then as "lif".
    Arrays are float64, per neuron (N,); weight is (N, C).
    """

    kind: str
    weight: np.ndarray
    bias: np.ndarray
    threshold: np.ndarray
    beta: np.ndarray
    alpha: np.ndarray


def spiking_layer(bottleneck: Bottleneck) -> SpikingLayer:
    """The exportable computation of a bottleneck (threshold, snntorch_leaky, snntorch_synaptic, norse_lif).

    Raises:
        ConfigError: for resets other than "zero", adaptive thresholds and kinds without an exporter.
    """
    from snn_codec.bottlenecks.norse_neurons import NorseLIF, NorseLSNN
    from snn_codec.bottlenecks.snntorch_neurons import SnnTorchLeaky, SnnTorchSynaptic
    from snn_codec.bottlenecks.threshold import ThresholdBottleneck

    units = bottleneck.units
    weight, bias = folded_affine(bottleneck)
    if getattr(bottleneck, "reset", "zero") != "zero":
        raise ConfigError(
            f"NIR neurons reset to a value: only reset='zero' exports exactly, not {bottleneck.reset!r}"
        )
    if isinstance(bottleneck, NorseLSNN):
        raise ConfigError("NIR has no neuron with an adaptive threshold: norse_lsnn cannot be exported")
    zeros = np.zeros(units)
    if isinstance(bottleneck, ThresholdBottleneck):
        return SpikingLayer("threshold", weight, bias, zeros, zeros, zeros)
    if isinstance(bottleneck, SnnTorchLeaky):
        beta = _per_neuron(bottleneck.neuron.beta.clamp(0, 1), units)
        return SpikingLayer("lif", weight, bias, _per_neuron(bottleneck.neuron.threshold, units), beta, zeros)
    if isinstance(bottleneck, NorseLIF):
        beta = _per_neuron(bottleneck.beta, units)
        return SpikingLayer("lif", weight, bias, _per_neuron(bottleneck.neuron.p.v_th, units), beta, zeros)
    if isinstance(bottleneck, SnnTorchSynaptic):
        neuron = bottleneck.neuron
        return SpikingLayer("cuba", weight, bias, _per_neuron(neuron.threshold, units),
                            _per_neuron(neuron.beta.clamp(0, 1), units), _per_neuron(neuron.alpha.clamp(0, 1), units))
    raise ConfigError(f"no NIR export for {type(bottleneck).__name__}")


def generic_neuron(layer: SpikingLayer, dt: float):
    """The neuron node read by forward-Euler steps of dt (Norse, snnTorch), and the input gain to fold
    into the affine (see the module docstring)."""
    import nir

    zeros = np.zeros_like(layer.threshold)
    if layer.kind == "threshold":
        return nir.Threshold(threshold=layer.threshold), np.ones_like(zeros)
    if layer.kind == "lif":
        gain = 1.0 / (1.0 - layer.beta)
        neuron = nir.LIF(tau=dt * gain, r=np.ones_like(zeros), v_leak=zeros, v_threshold=layer.threshold,
                         v_reset=zeros)
        return neuron, gain
    # i += dt/tau_syn (w_in x - i) and v += dt/tau_mem (r i - v) equal syn = alpha syn + x and
    # U = beta U + syn when w_in = tau_syn / dt and r = tau_mem / dt
    neuron = nir.CubaLIF(
        tau_syn=dt / (1.0 - layer.alpha),
        tau_mem=dt / (1.0 - layer.beta),
        r=1.0 / (1.0 - layer.beta),
        v_leak=zeros,
        v_threshold=layer.threshold,
        v_reset=zeros,
        w_in=1.0 / (1.0 - layer.alpha),
    )
    return neuron, np.ones_like(zeros)


def layer_graph(layer: SpikingLayer, neurons: list[tuple[str, object]], gain: np.ndarray):
    """input -> affine (gain folded in) -> the neuron nodes, in order -> output, as a nir.NIRGraph."""
    import nir

    weight, bias = gain[:, None] * layer.weight, gain * layer.bias
    units = weight.shape[0]
    nodes = {
        "input": nir.Input(input_type={"input": np.array([weight.shape[1]])}),
        "affine": nir.Affine(weight=weight.astype(np.float32), bias=bias.astype(np.float32)),
        **dict(neurons),
        "output": nir.Output(output_type={"output": np.array([units])}),
    }
    chain = ["input", "affine", *[name for name, _ in neurons], "output"]
    return nir.NIRGraph(nodes=nodes, edges=list(zip(chain[:-1], chain[1:])))


def bottleneck_to_nir(bottleneck: Bottleneck, dt: float = FRAME_PERIOD_S, target: str = "generic"):
    """Exports a bottleneck (threshold, snntorch_leaky, snntorch_synaptic, norse_lif) as a nir.NIRGraph.

    Args:
        bottleneck: the bottleneck; its eval-mode computation is exported (BatchNorm running stats).
        dt: the step, in seconds, of the simulator that will run the graph (see the module docstring).
        target: "generic" (the default: forward-Euler readers, Norse and snnTorch), or "norse",
            "rockpool", "sinabs", "spyx": a graph that this simulator's NIR importer reads as our
            neurons (snn_codec/bottlenecks/nir_targets.py).

    Returns:
        nir.NIRGraph with nodes "input", "affine", "neuron", "output" (plus "li" before "neuron" for
        the threshold model of the "spyx" target); write it with `nir.write`.
    """
    from snn_codec.bottlenecks.nir_targets import TARGETS, target_neurons

    if target not in TARGETS:
        raise ConfigError(f"unknown NIR target {target!r}; choose from {list(TARGETS)}")
    layer = spiking_layer(bottleneck)
    if target == "generic":
        neuron, gain = generic_neuron(layer, dt)
        return layer_graph(layer, [("neuron", neuron)], gain)
    neurons, gain = target_neurons(layer, dt, target)
    return layer_graph(layer, neurons, gain)
