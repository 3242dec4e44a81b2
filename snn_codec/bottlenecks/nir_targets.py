"""NIR graphs that a given simulator's importer reads as our neurons (`bottleneck_to_nir(..., target=)`).

The generic graph (nir_export.py) is written for forward-Euler readers (Norse, snnTorch). Other importers
read NIR nodes their own way (snn_codec/bottlenecks/nir_readings.py has each reading in numpy, and
docs/nir.md the measurements); these targets choose parameters that survive that reading:

- "norse" (Norse 1.1.0, and snnTorch 1.0.0, whose importer takes the same forward-Euler LIF): neither
  importer has a Threshold node (Norse's passes the current through, snnTorch's raises), so the
  threshold model is a LIF with tau = dt, whose Euler step v += (dt / tau)(I - v) gives v = I.
  LIF and CubaLIF are the generic nodes.

- "spyx" (Spyx 1.0.0): beta = 1 - dt / tau, `r` and `w_in` ignored. The threshold model becomes
  LI(tau = dt) followed by Threshold, which Spyx joins into a reset-free PSU_LIF with beta = 0, i.e.
  S = H(I - theta); it drops a lone Threshold. A LIF keeps its input gain in `r` (Euler-exact, and
  ignored by Spyx, which adds the input unscaled) instead of the affine. CubaLIF is the generic one.
- "sinabs" (Sinabs 3.1.3): LIF only, tau read in time steps (beta = exp(-1 / tau)), `r` ignored. A LIF
  has tau = -1 / ln(beta) and r = 1 / (1 - beta) (the exact-exponential reading with dt = 1); the
  threshold model is a LIF with tau -> 0 (beta = 0) and a vanishing positive threshold, since Sinabs
  divides by the threshold and drops a Threshold node. No CubaLIF: its importer has none.
- "rockpool" (Rockpool 3.1.0): CubaLIF only (as LIFTorch): dt = min(tau_mem / (1 + r)), decays
  exp(-dt / tau), the synaptic current decayed after the input is added, `w_in` ignored. Every neuron is
  a CubaLIF with r chosen so that dt is one step and exp(-dt / tau_mem) = beta; a neuron without a
  synaptic current gets a synaptic decay of 2^-64 and the gain 2^64 in the affine, so that the current
  it integrates is I[t] to float32 precision. The threshold model (tau_mem -> 0) has v_leak = 1 and
  threshold 1: its membrane is 1 + I, over the threshold exactly when I > 0.

What no export choice can change is left to the simulators' adapters (benchmarks/simulators/): Rockpool
and Sinabs emit several spikes per step when the membrane exceeds a multiple of the threshold, Rockpool,
Sinabs and Spyx reset by subtraction instead of to zero, and Spyx's LIF spikes one step late.
"""

from __future__ import annotations

import numpy as np

from snn_codec.bottlenecks.nir_export import SpikingLayer, generic_neuron
from snn_codec.errors import ConfigError

TARGETS = ("generic", "norse", "rockpool", "sinabs", "spyx")
TINY_THRESHOLD = 2.0**-100  # a positive stand-in for threshold 0 where a simulator divides by it
NO_SYNAPSE_DECAY = 2.0**-64  # synaptic decay that makes a CubaLIF's current I[t] to float32 precision
VANISHING_TAU_STEPS = 1e-3  # exp(-1 / 1e-3) == 0 in float32 and float64: no memory at all


def target_neurons(layer: SpikingLayer, dt: float, target: str) -> tuple[list[tuple[str, object]], np.ndarray]:
    """The neuron nodes for `target` (in graph order) and the per-neuron gain to fold into the affine."""
    build = {"norse": _norse, "spyx": _spyx, "sinabs": _sinabs, "rockpool": _rockpool}[target]
    return build(layer, dt)


def _positive_threshold(layer: SpikingLayer) -> np.ndarray:
    """theta, with 0 replaced by a vanishing positive value (spike iff I >= 2^-100, i.e. I > 0 in practice)."""
    return np.where(layer.threshold > 0, layer.threshold, TINY_THRESHOLD)


def _norse(layer: SpikingLayer, dt: float):
    import nir

    if layer.kind != "threshold":
        neuron, gain = generic_neuron(layer, dt)
        return [("neuron", neuron)], gain
    ones, zeros = np.ones_like(layer.threshold), np.zeros_like(layer.threshold)
    # v += dt / tau (-v + I) with tau = dt is v = I: the Euler step forgets everything
    neuron = nir.LIF(tau=np.full_like(zeros, dt), r=ones, v_leak=zeros, v_threshold=layer.threshold, v_reset=zeros)
    return [("neuron", neuron)], ones


def _spyx(layer: SpikingLayer, dt: float):
    import nir

    ones, zeros = np.ones_like(layer.threshold), np.zeros_like(layer.threshold)
    if layer.kind == "threshold":
        li = nir.LI(tau=np.full_like(zeros, dt), r=ones, v_leak=zeros)
        return [("li", li), ("neuron", nir.Threshold(threshold=layer.threshold))], ones
    if layer.kind == "lif":
        gain = 1.0 / (1.0 - layer.beta)
        neuron = nir.LIF(tau=dt * gain, r=gain, v_leak=zeros, v_threshold=layer.threshold, v_reset=zeros)
        return [("neuron", neuron)], ones
    neuron, gain = generic_neuron(layer, dt)
    return [("neuron", neuron)], gain


def _sinabs(layer: SpikingLayer, dt: float):
    import nir

    ones, zeros = np.ones_like(layer.threshold), np.zeros_like(layer.threshold)
    if layer.kind == "cuba":
        raise ConfigError("Sinabs's NIR importer has no CubaLIF: a synaptic bottleneck cannot target sinabs")
    with np.errstate(divide="ignore"):
        tau_steps = np.where(layer.beta > 0, -1.0 / np.log(layer.beta), VANISHING_TAU_STEPS)
    neuron = nir.LIF(tau=tau_steps, r=1.0 / (1.0 - layer.beta), v_leak=zeros,
                     v_threshold=_positive_threshold(layer), v_reset=zeros)
    return [("neuron", neuron)], ones


def _rockpool(layer: SpikingLayer, dt: float):
    import nir

    zeros = np.zeros_like(layer.threshold)
    with np.errstate(divide="ignore"):
        tau_mem = np.where(layer.beta > 0, -dt / np.log(layer.beta), dt * VANISHING_TAU_STEPS)
    syn_decay = np.maximum(layer.alpha, NO_SYNAPSE_DECAY)
    # A memoryless neuron's membrane is v_leak + I, and v_leak is Rockpool's bias: with v_leak = 1 the
    # threshold moves up by 1 instead of down to a tiny value, whose spike counts I / theta would
    # overflow the float32 arithmetic of Rockpool's max_spikes_per_dt clamp.
    shift = np.where(layer.kind == "threshold", 1.0, 0.0) * np.ones_like(zeros)
    neuron = nir.CubaLIF(
        tau_syn=-dt / np.log(syn_decay),
        tau_mem=tau_mem,
        r=tau_mem / dt - 1.0,  # Rockpool's dt = tau_mem / (1 + r) = dt for every neuron
        v_leak=shift,
        v_threshold=layer.threshold + shift,
        v_reset=zeros,
        w_in=np.ones_like(zeros),
    )
    # Rockpool decays the synaptic current after adding the input: i = a (i + x), so x = I / a
    return [("neuron", neuron)], 1.0 / syn_decay
