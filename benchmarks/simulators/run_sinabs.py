"""Runs a bottleneck NIR graph in Sinabs: `sinabs.from_nir(graph, batch_size=1)` on the (T, C) input.

Sinabs 3.1.3 pins nir <= 1.0.4, which rejects the `v_reset` field that newer nir writes for LIF and
CubaLIF. Reading therefore always goes through `read_compatible`: the file's nodes, minus the fields this
nir does not know (recorded in the report, with whether any of them was non-zero, where dropping it would
change the meaning). Plain `nir.read`'s error, if any, is in the report too.

Adapters (--adapt), on every imported LIF layer: `spike_fn=SingleSpike` (Sinabs's default MultiSpike
emits trunc(V / threshold) spikes per step) and `reset_fn=MembraneReset(v_reset)` (its default subtracts
the threshold); our neurons spike at most once per step and reset to v_reset = 0.
"""

from __future__ import annotations

import dataclasses
import sys
from importlib.metadata import version

import numpy as np

from runner_io import module_names, read_graph, run

IMPORTED = ("Input", "Output", "Affine", "Linear", "LIF", "IF", "LI", "Conv1d", "Conv2d", "SumPool2d", "Flatten")


def read_compatible(path, report: dict):
    """The graph at `path`, read by this nir after removing node fields it does not define."""
    import h5py
    import nir
    from nir.serialization import hdf2dict

    try:
        return nir.read(path)
    except Exception as err:  # nir 1.0.4 on a newer file: TypeError on an unknown field
        report["plain_read_error"] = f"{type(err).__name__}: {err}"
    with h5py.File(path, "r") as handle:
        data = hdf2dict(handle["node"])
    removed = {}
    for name, node in data.get("nodes", {}).items():
        if node["type"] in ("Input", "Output"):
            continue  # read by their own from_dict, not by their fields
        known = {field.name for field in dataclasses.fields(getattr(nir, node["type"]))}
        for key in [k for k in node if k not in known and k != "type"]:
            value = node.pop(key)
            removed[f"{name}.{key}"] = bool(np.any(np.asarray(value) != 0))
    report["adapters"].append(f"read with nir {version('nir')} minus the fields it lacks: {sorted(removed)}")
    report["removed_fields_nonzero"] = [key for key, nonzero in removed.items() if nonzero]
    return nir.dict2NIRNode(data)


def simulate(args, latent: np.ndarray, report: dict) -> np.ndarray:
    import torch
    from sinabs.activation import MembraneReset, SingleSpike
    from sinabs.layers import LIF
    from sinabs.nir import from_nir

    graph = read_graph(args, report, "sinabs", read_compatible)
    report["dropped"] = [kind for kind in report["node_types"] if kind not in IMPORTED]
    model = from_nir(graph, batch_size=1)
    layers = [module for module in model.modules() if isinstance(module, LIF)]
    report["modules"] = module_names(model)
    if args.adapt and layers:
        for layer in layers:
            layer.spike_fn = SingleSpike
            layer.reset_fn = MembraneReset(reset_value=0.0)
        report["adapters"].append("SingleSpike and MembraneReset(0) on every LIF")
    with torch.no_grad():
        out = model(torch.from_numpy(latent))  # (T, N): batch 1 times T steps, squeezed
    if isinstance(out, tuple):
        out = out[0]
    return out.double().numpy()


if __name__ == "__main__":
    sys.exit(run(__doc__, simulate))
