"""Speed, rate and quality of a model on CPU.

    python benchmarks/speed_quality.py [--model piano-v1] [--data data/piano] [--visqol-files 4]

Measures, in one run:
- encode and decode real-time factors (audio seconds / wall seconds, best of 3) with 1 thread and all;
- bitrate from the bytes of each .snnc file, events and firing rate, SI-SDR, log-mel distance and
  multi-resolution STFT distance on every validation piece of the synthetic piano corpus (unseen music);
- a 3-minute 44.1 kHz stereo piano piece through the file path (compress, then decompress), rendered
  with a training soundfont and, when installed (benchmarks/setup.sh), with MuseScore General, a
  soundfont no training corpus uses, with ViSQOL.
Writes benchmarks/results/speed_quality.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).parent))
from common import best_time, machine, markdown_table, write_results  # noqa: E402

import snn_codec  # noqa: E402
from snn_codec.audio import load_audio, to_mono  # noqa: E402
from snn_codec.data.datasets import dataset_files  # noqa: E402
from snn_codec.data.render import find_soundfonts  # noqa: E402
from snn_codec.data.synth_piano import render_example  # noqa: E402
from snn_codec.eval.metrics import quality_report, visqol_moslqo  # noqa: E402

SPEED_SECONDS = 60.0


def speed(codec, clip: np.ndarray, sample_rate: int) -> list[dict[str, object]]:
    duration = clip.shape[-1] / sample_rate
    rows = []
    for threads in sorted({1, os.cpu_count() or 1}):
        torch.set_num_threads(threads)
        data = snn_codec.compress(clip, sample_rate, model=codec)
        encode_s = best_time(lambda: snn_codec.compress(clip, sample_rate, model=codec))
        decode_s = best_time(lambda: snn_codec.decompress(data, model=codec))
        rows.append({"threads": threads, "encode_x_realtime": duration / encode_s,
                     "decode_x_realtime": duration / decode_s,
                     "round_trip_x_realtime": duration / (encode_s + decode_s)})
    torch.set_num_threads(os.cpu_count() or 1)
    return rows


def evaluate_file(codec, path: Path, with_visqol: bool, visqol_seconds: float = 30.0) -> dict[str, object]:
    """Compresses and decompresses one file; metrics on the whole file, ViSQOL on its first seconds."""
    source = load_audio(path)
    data = snn_codec.compress(source, model=codec)
    decoded = snn_codec.decompress(data, model=codec)
    info = snn_codec.inspect(data)
    row = {"file": path.name, "duration_s": info.duration_s, "bytes": info.total_bytes,
           "kbps": info.bitrate_kbps, "events_per_s": info.events_per_s, "firing_rate": info.firing_rate}
    reference, estimate = to_mono(source.samples)[0], to_mono(decoded.samples)[0]
    row.update(quality_report(reference, estimate, source.sample_rate, with_visqol=False))
    if with_visqol:
        excerpt = int(visqol_seconds * source.sample_rate)
        score = visqol_moslqo(reference[:excerpt], estimate[:excerpt], source.sample_rate)
        if score is not None:
            row["visqol"] = score
    return row


def summarize(rows: list[dict[str, object]]) -> dict[str, float]:
    keys = [k for k, v in rows[0].items() if isinstance(v, float)]
    return {k: float(np.mean([r[k] for r in rows if k in r])) for k in keys}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="piano-v1")
    parser.add_argument("--data", default="data/piano", help="synthetic piano corpus (validation split)")
    parser.add_argument("--visqol-files", type=int, default=4, help="validation pieces also scored by ViSQOL")
    args = parser.parse_args()

    codec = snn_codec.load_model(args.model)
    files = dataset_files(f"synth:{args.data}", "validation")
    rate = codec.config.sample_rate

    clip = np.concatenate([to_mono(load_audio(f).samples)[0] for f in files[:3]])[: int(SPEED_SECONDS * rate)]
    speed_rows = speed(codec, clip, rate)

    rows = [evaluate_file(codec, f, i < args.visqol_files) for i, f in enumerate(tqdm(files, desc="validation"))]
    validation = summarize(rows)

    long_rows = []
    with tempfile.TemporaryDirectory() as tmp:
        fonts = ["fluidr3_gm"] + (["musescore_general"] if "musescore_general" in find_soundfonts() else [])
        for font in fonts:
            path = render_example(Path(tmp) / f"three_minutes_{font}.flac", seconds=180.0, sample_rate=44100,
                                  stereo=True, seed=3, soundfont=font)
            row = evaluate_file(codec, path, with_visqol=True)
            row["soundfont"] = font + (" (training timbre, unseen music)" if font != "musescore_general"
                                       else " (unseen timbre)")
            long_rows.append(row)

    payload = {"model": codec.config.name, "machine": machine(), "speed": speed_rows,
               "validation_mean": validation, "validation_files": rows, "three_minute_stereo": long_rows}
    markdown = "\n\n".join([
        f"# Speed and quality of `{codec.config.name}` (`python benchmarks/speed_quality.py`)",
        f"Speed on {SPEED_SECONDS:.0f} s of piano, CPU, best of 3 (x real time; higher is faster):",
        markdown_table(speed_rows, ["threads", "encode_x_realtime", "decode_x_realtime", "round_trip_x_realtime"]),
        f"Validation split of the synthetic corpus ({len(rows)} pieces of unseen music, mean; ViSQOL on the "
        f"first 30 s of {min(args.visqol_files, len(rows))}):",
        markdown_table([validation], list(validation)),
        "A 3-minute 44.1 kHz stereo piano piece, through compress and decompress (ViSQOL on its first 30 s):",
        markdown_table(long_rows, ["soundfont", "duration_s", "bytes", "kbps", "firing_rate", "si_sdr_db",
                                   "log_mel_db", "visqol"]),
    ]) + "\n"
    print(markdown)
    print(f"written: {write_results('speed_quality', payload, markdown)}")


if __name__ == "__main__":
    main()
