"""The fuzz benchmark's report (benchmarks/fuzz.py): every logged case lands in its category's counts."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))

import fuzz  # noqa: E402


def test_cases_are_counted_per_category(tmp_path):
    log = tmp_path / "cases.tsv"
    log.write_text("chunk-level edits\trefused\n" * 3 + "chunk-level edits\taccepted\n"
                   "output side: closed pipe\tone line\noutput side: full disk\twrote all\n"
                   "output side: full disk\tunclean\nrandom bytes\thang\n")
    rows = {row["category"]: row for row in fuzz.count_cases(log)}
    assert rows["chunk-level edits"] | {} == {"category": "chunk-level edits", "cases": 4, "clean": 3,
                                             "accepted silently": 1, "tracebacks": 0, "hangs": 0, "over 64 MiB": 0}
    assert rows["output side: full disk"]["clean"] == 1 and rows["output side: full disk"]["tracebacks"] == 1
    assert rows["random bytes"]["hangs"] == 1 and rows["output side: closed pipe"]["clean"] == 1
    assert fuzz.count_cases(tmp_path / "missing.tsv") == []
