"""The fuzz suite at scale: the same properties as in CI, with many more generated cases.

    python benchmarks/fuzz.py [--scale 25]

Every mutated real file, random byte string, absurd header and chunk-level edit (swapped, duplicated,
dropped or spliced chunks, trailing data) must end in FormatError (or another CodecError when decoding
with a model), within 30 s and 64 MiB; every output-side failure (a full disk, a read-only folder, a
closed pipe) must end the command line in one error line and exit 1 (a closed pipe: quietly). Each case
is logged with its outcome; the report counts them per category. Writes benchmarks/results/fuzz.{md,json}.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import markdown_table, publish  # noqa: E402

ROOT = Path(__file__).parent.parent
TESTS = ["tests/bitstream/test_fuzz.py", "tests/bitstream/test_stream.py", "tests/bitstream/test_chunk_binding.py"]
CLEAN = ("refused", "one line", "wrote all")  # a damaged file refused; an output failure in one line or none


def count_cases(log: Path) -> list[dict[str, object]]:
    """Per category: cases, and how many were refused cleanly, accepted silently, tracebacks, hangs."""
    outcomes: dict[str, Counter] = {}
    for line in log.read_text().splitlines() if log.exists() else []:
        category, outcome = line.split("\t")
        outcomes.setdefault(category, Counter())[outcome] += 1
    rows = []
    for category, counts in sorted(outcomes.items()):
        rows.append({
            "category": category,
            "cases": sum(counts.values()),
            "clean": sum(counts[o] for o in CLEAN),
            "accepted silently": counts["accepted"],
            "tracebacks": counts["traceback"] + counts["unclean"],
            "hangs": counts["hang"],
            "over 64 MiB": counts["memory"],
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "cases.tsv"
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", *TESTS, "-p", "no:warnings", "-p", "no:cacheprovider",
             "--hypothesis-seed=0"],
            cwd=ROOT, env={**os.environ, "SNN_FUZZ_SCALE": str(args.scale), "SNN_FUZZ_LOG": str(log)},
            capture_output=True, text=True,
        )
        seconds = time.perf_counter() - start
        rows = count_cases(log)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-500:]
    status = "passed" if result.returncode == 0 else "FAILED"
    total = {key: sum(row[key] for row in rows) for key in
             ["cases", "clean", "accepted silently", "tracebacks", "hangs", "over 64 MiB"]}
    columns = ["category", "cases", "clean", "accepted silently", "tracebacks", "hangs", "over 64 MiB"]
    table = markdown_table(rows + [{"category": "**all**", **total}], columns)
    intro = (f"{total['cases']} logged cases at scale {args.scale}, plus the exhaustive truncation and bit-flip "
             f"tests of tests/bitstream/test_stream.py: {status} ({summary}) in {seconds:.0f} s. "
             "*clean* is a damaged file refused with FormatError/CodecError, or an output-side failure ended "
             "in one `snn-codec: error:` line and exit 1 (a closed pipe: exit 1, nothing on stderr; a budget "
             "large enough to hold the whole output: the file written). Chunk-level edits move, repeat, drop or "
             "splice whole intact chunks (from a file with the same header or another one) and append 1 byte, "
             "100 random bytes, a second copy or 1 MiB; 'decoded' rows decode with the model.")
    publish("fuzz", f"Fuzz suite at scale {args.scale}", intro, table,
            {"scale": args.scale, "status": status, "summary": summary, "seconds": round(seconds, 1),
             "categories": rows, "total": total})
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
