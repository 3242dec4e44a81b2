"""What every simulator runner shares: its command line and the report it writes.

A runner runs in its simulator's own environment (scripts/simulators.sh), with numpy and nir but without
snn_codec:

    python run_NAME.py GRAPH.nir INPUT.npy OUTPUT.npy REPORT.json [--dt DT] [--adapt]

INPUT is (T, C) float32, the graph's input (one latent frame per step); OUTPUT is (T, N) float64, what the
simulator's output node gave, untouched; REPORT says which simulator and version ran, which NIR node types
it read, which modules it built, which adapters it applied and whether the output was binary, or the error
that stopped it.
"""

from __future__ import annotations

import argparse
import json
import traceback
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import numpy as np


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("graph", type=Path)
    parser.add_argument("input", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("report", type=Path)
    parser.add_argument("--dt", type=float, default=0.02, help="step in seconds, for importers that take one")
    parser.add_argument("--adapt", action="store_true", help="apply this runner's documented adapters")
    return parser.parse_args()


def run(description: str, simulate: Callable[[argparse.Namespace, np.ndarray, dict], np.ndarray]) -> int:
    """Parses the arguments, calls `simulate(args, latent, report) -> (T, N) output`, writes both files.

    `simulate` fills `report` ("simulator", "version", "node_types", "modules", "adapters"); an exception
    becomes the report's "error" and exit status 1, so the caller gets a row, not a crash.
    """
    args = parse_args(description)
    report: dict = {"adapters": [], "node_types": [], "modules": []}
    status = 0
    try:
        latent = np.load(args.input).astype(np.float32)
        output = np.asarray(simulate(args, latent, report), dtype=np.float64)
        report["shape"] = list(output.shape)
        report["binary"] = bool(np.isin(output, (0.0, 1.0)).all())
        np.save(args.output, output)
    except Exception as err:  # any failure of a foreign importer is a result to report
        report["error"] = f"{type(err).__name__}: {err}"
        report["traceback"] = traceback.format_exc(limit=6)
        status = 1
    args.report.write_text(json.dumps(report, indent=2))
    return status


def node_types(graph) -> list[str]:
    """The NIR node types of a graph, input to output."""
    return [type(node).__name__ for node in graph.nodes.values()]


def read_graph(args: argparse.Namespace, report: dict, simulator: str, read: Callable | None = None):
    """Records the simulator's and nir's versions, reads the graph (`read(path, report)`, default
    `nir.read`) and records its node types."""
    import nir

    report.update(simulator=simulator, version=version(simulator), nir_version=version("nir"))
    graph = read(args.graph, report) if read else nir.read(args.graph)
    report["node_types"] = node_types(graph)
    return graph


def module_names(model) -> list[str]:
    """The class names of a torch model's direct children: what the importer built."""
    return [type(m).__name__ for m in model.children()]
