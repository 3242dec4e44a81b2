"""Runs a bottleneck NIR graph in Rockpool: `rockpool.nn.modules.torch.nir.from_nir(graph)` on the
(1, T, C) input.

Rockpool's importer builds modules for Affine, Linear, LI and CubaLIF (as LIFTorch); its LIF branch reads
an attribute nir.LIF does not have (tau_mem) and it has no Threshold, so graphs with those fail to import.

Adapter (--adapt): `max_spikes_per_dt = 1` on every imported LIFTorch (the importer leaves the default,
2^16 spikes per step, floor(V / threshold)); our neurons spike at most once per step. LIFTorch's
subtractive reset has no switch and stays.
"""

from __future__ import annotations

import sys

import numpy as np

from runner_io import module_names, read_graph, run


def simulate(args, latent: np.ndarray, report: dict) -> np.ndarray:
    import torch
    from rockpool.nn.modules.torch import LIFTorch
    from rockpool.nn.modules.torch.nir import from_nir

    graph = read_graph(args, report, "rockpool")
    model = from_nir(graph)
    report["modules"] = module_names(model)
    lifs = [module for module in model.modules() if isinstance(module, LIFTorch)]
    if args.adapt and lifs:
        for layer in lifs:
            layer.max_spikes_per_dt = torch.tensor(1.0)
        report["adapters"].append("max_spikes_per_dt = 1 on every LIFTorch")
    report["rockpool_dt"] = [float(layer.dt) for layer in lifs]
    with torch.no_grad():
        out = model(torch.from_numpy(latent)[None])
    if isinstance(out, tuple):
        out = out[0]
    return out[0].double().numpy()


if __name__ == "__main__":
    sys.exit(run(__doc__, simulate))
