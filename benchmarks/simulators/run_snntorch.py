"""Runs a bottleneck NIR graph in snnTorch: `snntorch.import_nir.import_from_nir(graph)` (whose step is
fixed at 1e-4 s, so the graph must be exported with dt = 1e-4), fed frame by frame. Runs in the main
environment; no adapters."""

from __future__ import annotations

import sys

import numpy as np

from run_norse import step_through
from runner_io import module_names, read_graph, run


def simulate(args, latent: np.ndarray, report: dict) -> np.ndarray:
    from snntorch.import_nir import import_from_nir

    graph = read_graph(args, report, "snntorch")
    module = import_from_nir(graph)
    report["modules"] = module_names(module)
    return step_through(module, latent)


if __name__ == "__main__":
    sys.exit(run(__doc__, simulate))
