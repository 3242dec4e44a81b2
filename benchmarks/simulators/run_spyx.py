"""Runs a bottleneck NIR graph in Spyx (JAX): `spyx.nir.from_nir` on the (T, 1, C) input.

Adapter (--adapt): Spyx's LIF and CuBaLIF compute a step's spike from the membrane before that step's
input, so their spike for frame t comes out at step t + 1; the runner feeds one more (zero) frame and
drops the first output. Spyx's PSU_LIF (from LI + Threshold) spikes on time and needs nothing.
"""

from __future__ import annotations

import sys

import numpy as np

from runner_io import read_graph, run

LATE_NEURONS = ("LIF", "CuBaLIF")


def simulate(args, latent: np.ndarray, report: dict) -> np.ndarray:
    import jax.numpy as jnp
    import spyx.nir

    graph = read_graph(args, report, "spyx")
    model, _ = spyx.nir.from_nir(graph, jnp.zeros((1, 1, latent.shape[1]), jnp.float32), dt=args.dt)
    modules = [type(layer).__name__ for layer in model.layers]
    report["modules"] = modules
    if "Threshold" in report["node_types"] and "PSU_LIF" not in modules:
        report["dropped"] = ["Threshold"]
    late = args.adapt and any(name in LATE_NEURONS for name in modules)
    frames = np.concatenate([latent, np.zeros_like(latent[:1])]) if late else latent
    _, out = spyx.nir.from_nir(graph, jnp.asarray(frames[:, None, :]), dt=args.dt)
    out = np.asarray(out)[:, 0, :]
    if late:
        report["adapters"].append("output one step later (one zero frame appended, first output dropped)")
        out = out[1:]
    return out


if __name__ == "__main__":
    sys.exit(run(__doc__, simulate))
