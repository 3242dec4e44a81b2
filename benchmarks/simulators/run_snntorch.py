"""Runs a bottleneck NIR graph in snnTorch: `snntorch.import_nir.import_from_nir(graph)` (whose step is
fixed at 1e-4 s, so the graph must be exported with dt = 1e-4), fed frame by frame. Runs in the main
environment; no adapters."""

from __future__ import annotations

import sys
from importlib.metadata import version

import numpy as np

from run_norse import step_through
from runner_io import node_types, run


def simulate(args, latent: np.ndarray, report: dict) -> np.ndarray:
    import nir
    from snntorch.import_nir import import_from_nir

    report.update(simulator="snntorch", version=version("snntorch"), nir_version=version("nir"))
    graph = nir.read(args.graph)
    report["node_types"] = node_types(graph)
    module = import_from_nir(graph)
    report["modules"] = [type(m).__name__ for m in module.children()]
    return step_through(module, latent)


if __name__ == "__main__":
    sys.exit(run(__doc__, simulate))
