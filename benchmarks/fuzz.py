"""The fuzz suite at scale: the same properties as in CI, with many more generated cases.

    python benchmarks/fuzz.py [--scale 25]

Every mutated real file, random byte string and absurd header must end in FormatError (or another
CodecError when decoding with a model), within 5 s and 64 MiB. Writes benchmarks/results/fuzz.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import write_results  # noqa: E402

ROOT = Path(__file__).parent.parent
CASES_PER_SCALE = 600 + 150 + 800  # the three generated tests of tests/bitstream/test_fuzz.py


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=25)
    args = parser.parse_args()
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/bitstream/test_fuzz.py", "tests/bitstream/test_stream.py",
         "-p", "no:warnings", "--hypothesis-seed=0"],
        cwd=ROOT, env={**os.environ, "SNN_FUZZ_SCALE": str(args.scale)}, capture_output=True, text=True,
    )
    seconds = time.perf_counter() - start
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-500:]
    status = "passed" if result.returncode == 0 else "FAILED"
    markdown = (f"# Fuzz suite at scale (`python benchmarks/fuzz.py --scale {args.scale}`)\n\n"
                f"{args.scale * CASES_PER_SCALE} generated cases plus the exhaustive truncation and bit-flip "
                f"tests: {status} ({summary}) in {seconds:.0f} s.\n")
    print(markdown)
    write_results("fuzz", {"scale": args.scale, "cases": args.scale * CASES_PER_SCALE, "status": status,
                           "summary": summary, "seconds": seconds}, markdown)
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
