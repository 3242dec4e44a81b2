"""Peak memory of compress + decompress on a one-minute and a one-hour file (flat memory check).

    python benchmarks/streaming_memory.py [--model piano-v1] [--long-minutes 60]

Each measurement runs in a fresh process (peak resident set size from the kernel), on piano-like audio
written as 24 kHz mono FLAC in blocks. Writes benchmarks/results/streaming_memory.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, markdown_table, write_results  # noqa: E402

RATE = 24000


def write_long_audio(path: Path, minutes: float, seed: int = 0) -> None:
    """Decaying random notes, written block by block so the writer itself stays small."""
    rng = np.random.default_rng(seed)
    block = RATE * 10
    t = np.arange(block) / RATE
    with sf.SoundFile(str(path), "w", RATE, 1, format="FLAC", subtype="PCM_16") as handle:
        for _ in range(int(minutes * 6)):
            audio = np.zeros(block)
            for onset in rng.uniform(0, 10, 20):
                f0 = 110 * 2 ** rng.uniform(0, 3)
                tau = np.clip(t - onset, 0, None)
                audio += (t >= onset) * np.sin(2 * np.pi * f0 * tau) * np.exp(-3 * tau)
            handle.write(0.3 * audio / np.abs(audio).max())


def child(mode: str, model: str, source: str, target: str) -> None:
    import torch

    import snn_codec

    torch.set_num_threads(2)
    start = time.perf_counter()
    if mode == "compress":
        snn_codec.compress_file(source, target, model=model)
    else:
        snn_codec.decompress_file(source, target, model=model)
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mib": peak_mib}))


def measure(mode: str, model: str, source: Path, target: Path) -> dict:
    command = [sys.executable, __file__, "--child", mode, model, str(source), str(target)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:6])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="piano-v1")
    parser.add_argument("--long-minutes", type=float, default=60.0)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in (1.0, args.long_minutes):
            audio = Path(tmp) / f"{minutes:g}min.flac"
            write_long_audio(audio, minutes)
            snnc, decoded = audio.with_suffix(".snnc"), audio.with_suffix(".decoded.flac")
            enc = measure("compress", args.model, audio, snnc)
            dec = measure("decompress", args.model, snnc, decoded)
            rows.append({"minutes": minutes, "snnc_bytes": snnc.stat().st_size,
                         "kbps": snnc.stat().st_size * 8 / (minutes * 60) / 1000,
                         "compress_peak_MiB": enc["peak_mib"], "decompress_peak_MiB": dec["peak_mib"],
                         "compress_x_realtime": minutes * 60 / enc["seconds"],
                         "decompress_x_realtime": minutes * 60 / dec["seconds"]})
            print(rows[-1], flush=True)
    short, long = rows
    verdict = (f"Peak memory grows by {long['compress_peak_MiB'] / short['compress_peak_MiB']:.2f}x (compress) and "
               f"{long['decompress_peak_MiB'] / short['decompress_peak_MiB']:.2f}x (decompress) for "
               f"{long['minutes'] / short['minutes']:.0f}x more audio.")
    markdown = "\n\n".join(["# Streaming memory (`python benchmarks/streaming_memory.py`)",
                            markdown_table(rows, list(rows[0])), verdict]) + "\n"
    print(markdown)
    print(f"written: {write_results('streaming_memory', {'machine': machine(), 'rows': rows}, markdown)}")


if __name__ == "__main__":
    main()
