"""Runs a bottleneck NIR graph in Norse: `norse.torch.from_nir(graph, dt=dt)`, fed frame by frame with its
state carried. Runs in the main environment (Norse is installed there); no adapters."""

from __future__ import annotations

import sys

import numpy as np

from runner_io import module_names, read_graph, run


def simulate(args, latent: np.ndarray, report: dict) -> np.ndarray:
    import norse.torch
    import torch

    graph = read_graph(args, report, "norse")
    module = norse.torch.from_nir(graph, dt=args.dt)
    report["modules"] = module_names(module)
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
