"""Helpers shared by the benchmark scripts: timing, tables, result files."""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

RESULTS = Path(__file__).parent / "results"


def best_time(fn: Callable[[], object], repeats: int = 3) -> float:
    """The fastest of `repeats` wall-clock runs in seconds (the least disturbed by a noisy machine)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def machine() -> dict[str, object]:
    return {
        "cpu": platform.processor() or platform.machine(),
        "threads_available": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def markdown_table(rows: list[dict[str, object]], columns: list[str]) -> str:
    def cell(value: object) -> str:
        return f"{value:.3g}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def command_line() -> str:
    """The command that ran this benchmark, as markdown code: what a results file says regenerates it."""
    script = Path(sys.argv[0])
    return "`" + " ".join(["python", f"benchmarks/{script.name}", *sys.argv[1:]]) + "`"


def write_results(name: str, payload: dict, markdown: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2))
    path = RESULTS / f"{name}.md"
    path.write_text(markdown)
    return path


def publish(name: str, title: str, intro: str, table: str, payload: dict) -> str:
    """Writes results/NAME.md (title, the command that ran, `intro`, `table`) and NAME.json (`payload` and
    the machine), prints the markdown and returns it."""
    markdown = "\n".join([f"# {title}", "", command_line(), "", intro, "", table, ""])
    print(markdown)
    write_results(name, {"machine": machine(), **payload}, markdown)
    return markdown
