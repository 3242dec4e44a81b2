"""Runs a bottleneck NIR graph in Norse: `norse.torch.from_nir(graph, dt=dt)`, fed frame by frame with its
state carried. Runs in the main environment (Norse is installed there); no adapters."""

from __future__ import annotations

import sys
from importlib.metadata import version

import numpy as np

from runner_io import node_types, run


def simulate(args, latent: np.ndarray, report: dict) -> np.ndarray:
    import nir
    import norse.torch
    import torch

    report.update(simulator="norse", version=version("norse"), nir_version=version("nir"))
    graph = nir.read(args.graph)
    report["node_types"] = node_types(graph)
    module = norse.torch.from_nir(graph, dt=args.dt)
    report["modules"] = [type(m).__name__ for m in module.children()]
    return step_through(module, latent)


def step_through(module, latent: np.ndarray) -> np.ndarray:
    """Feeds (T, C) frames one at a time to a stateful torch module `(x, state) -> (out, state)`."""
    import torch

    state, outputs = None, []
    with torch.no_grad():
        for frame in torch.from_numpy(latent)[:, None, :]:
            out, state = module(frame, state)
            outputs.append(out[0].double().numpy())
    return np.stack(outputs)


if __name__ == "__main__":
    sys.exit(run(__doc__, simulate))
