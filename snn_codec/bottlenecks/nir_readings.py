"""How other simulators' NIR importers read a bottleneck graph, written out in numpy.

Each reading follows the importer's source (Rockpool 3.1.0, Sinabs 3.1.3, Spyx 1.0.0) for the node types
our graphs use, so that the targets of nir_targets.py are checked here, without the simulators, and the
measured disagreements (benchmarks/simulators.py, docs/nir.md) have a stated cause:

- Spyx: beta = 1 - dt / tau, alpha = 1 - dt / tau_syn; `r`, `w_in` ignored. LIF and CubaLIF compute the
  spike from the membrane *before* this step's input, S[t] = H(V[t-1] - theta), and reset by subtraction,
  V[t] = beta V[t-1] + x[t] - theta S[t]. LI followed by Threshold is a reset-free PSU_LIF,
  V = beta V + x, S = H(V - theta). A lone Threshold is dropped: the float input comes out.
- Sinabs: LIF only; beta = exp(-1 / tau) (tau in steps), `r` ignored, V = beta V + x, then
  S = trunc(V / theta) where V > 0 (several spikes per step) and V -= theta S. Threshold and CubaLIF are
  dropped.
- Rockpool: CubaLIF only; dt = min(tau_mem / (1 + r)), a = exp(-dt / tau_syn), b = exp(-dt / tau_mem);
  i = a (i + x), V = b V + i + v_leak, S = floor(V / theta) where V >= theta (at most 2^16), V -= theta S.

`adapted=True` applies what the runners in benchmarks/simulators/ change after import: at most one spike
per step (Rockpool's max_spikes_per_dt, Sinabs's SingleSpike), Sinabs's reset to v_reset
(MembraneReset), and Spyx's output taken one step later.
"""

from __future__ import annotations

import numpy as np

READINGS = ("rockpool", "sinabs", "spyx")


def read_graph(graph, latent: np.ndarray, reading: str, dt: float, adapted: bool = False) -> np.ndarray:
    """Runs an input -> affine -> neurons -> output graph the way `reading`'s importer would.

    Args:
        graph: nir.NIRGraph (from `bottleneck_to_nir`).
        latent: (T, C) float, the graph's input, one latent frame per step.
        reading: "rockpool", "sinabs" or "spyx".
        dt: the step the importer is given (Spyx's `dt`; Rockpool derives its own, Sinabs uses 1).
        adapted: apply the runners' adapters (see the module docstring).

    Returns:
        (T, N) float64: what comes out (spike counts, or a float current where a node was dropped).
    """
    if reading not in READINGS:
        raise ValueError(f"unknown reading {reading!r}; choose from {READINGS}")
    order = _chain(graph)
    affine = graph.nodes[order[0]]
    x = latent.astype(np.float64) @ np.asarray(affine.weight, np.float64).T + np.asarray(affine.bias, np.float64)
    rest = [graph.nodes[name] for name in order[1:]]
    kinds = [type(node).__name__ for node in rest]
    if reading == "spyx":
        if adapted and kinds in (["LIF"], ["CubaLIF"]):
            x = np.concatenate([x, np.zeros_like(x[:1])])  # one more step: the last frame's spikes
            return _spyx(rest, x, dt)[1:]
        return _spyx(rest, x, dt)
    if reading == "sinabs":
        return _sinabs(rest, x, adapted)
    return _rockpool(rest, x, adapted)


def _chain(graph) -> list[str]:
    """The node names from input to output, without them; our graphs are a single chain."""
    following = dict(graph.edges)
    names, name = [], following["input"]
    while name != "output":
        names.append(name)
        name = following[name]
    return names


def _per_neuron(value, units: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, np.float64), (units,))


def _spyx(nodes: list, x: np.ndarray, dt: float) -> np.ndarray:
    units = x.shape[1]
    kinds = [type(node).__name__ for node in nodes]
    if kinds == ["LI", "Threshold"]:
        beta = 1.0 - dt / _per_neuron(nodes[0].tau, units)
        theta = _per_neuron(nodes[1].threshold, units)
        v, out = np.zeros(units), np.zeros_like(x)
        for t in range(len(x)):
            v = beta * v + x[t]
            out[t] = v > theta
        return out
    if kinds == ["Threshold"]:
        return x  # dropped
    node = nodes[0]
    theta = _per_neuron(node.v_threshold, units)
    cuba = kinds == ["CubaLIF"]
    beta = 1.0 - dt / _per_neuron(node.tau_mem if cuba else node.tau, units)
    alpha = 1.0 - dt / _per_neuron(node.tau_syn, units) if cuba else None
    v, i, out = np.zeros(units), np.zeros(units), np.zeros_like(x)
    for t in range(len(x)):
        spikes = (v - theta > 0).astype(np.float64)
        if cuba:
            i = alpha * i + x[t]
            v = beta * (v - spikes * theta) + i
        else:
            v = beta * v + x[t] - spikes * theta
        out[t] = spikes
    return out


def _sinabs(nodes: list, x: np.ndarray, adapted: bool) -> np.ndarray:
    units = x.shape[1]
    lifs = [node for node in nodes if type(node).__name__ == "LIF"]
    if not lifs:
        return x  # Threshold and CubaLIF are dropped
    node = lifs[0]
    with np.errstate(divide="ignore", over="ignore"):
        beta = np.exp(-1.0 / _per_neuron(node.tau, units))
    theta = _per_neuron(node.v_threshold, units)
    v_reset = _per_neuron(getattr(node, "v_reset", 0.0), units)
    v, out = np.zeros(units), np.zeros_like(x)
    for t in range(len(x)):
        v = beta * v + x[t]
        if adapted:
            spikes = (v - theta >= 0).astype(np.float64)
            v = np.where(spikes > 0, v_reset, v)
        else:
            spikes = (v > 0) * np.trunc(v / theta)
            v = v - spikes * theta
        out[t] = spikes
    return out


def _rockpool(nodes: list, x: np.ndarray, adapted: bool) -> np.ndarray:
    units = x.shape[1]
    kinds = [type(node).__name__ for node in nodes]
    if kinds != ["CubaLIF"]:
        raise NotImplementedError(f"Rockpool's importer builds no module for {kinds}")
    node = nodes[0]
    tau_mem, tau_syn = _per_neuron(node.tau_mem, units), _per_neuron(node.tau_syn, units)
    step = np.min(tau_mem / (1.0 + _per_neuron(node.r, units)))
    syn_decay, mem_decay = np.exp(-step / tau_syn), np.exp(-step / tau_mem)
    theta, v_leak = _per_neuron(node.v_threshold, units), _per_neuron(node.v_leak, units)
    most = 1.0 if adapted else 2.0**16
    v, i, out = np.zeros(units), np.zeros(units), np.zeros_like(x)
    for t in range(len(x)):
        i = syn_decay * (i + x[t])
        v = mem_decay * v + i + v_leak
        spikes = np.minimum((v >= theta) * np.floor(v / theta), most)
        v = v - spikes * theta
        out[t] = spikes
    return out
