"""Decoder comparison: frame-rate ConvNeXt + inverse-STFT head against a transposed-conv decoder.

    snn-codec train --config configs/piano.yaml --max-steps 1250 --run-dir runs/piano-v1
    snn-codec export runs/piano-v1 runs/istft-1250.safetensors
    snn-codec train --config configs/piano-conv.yaml --max-steps 1250      # runs/piano-conv
    python benchmarks/decoders.py --istft runs/istft-1250.safetensors --conv runs/piano-conv/model.safetensors

Both models share the encoder, bottleneck, data, seed and schedule and were trained for the same number of
steps; only the decoder differs. Both are measured here, in the same process: quality on the validation
pieces of the synthetic corpus (unseen music), and decoding speed of 60 s of events on one CPU thread
(best of 3). Writes benchmarks/results/decoders.{json,md}.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import best_time, machine, markdown_table, write_results  # noqa: E402

import snn_codec  # noqa: E402
from snn_codec.audio import load_audio, to_mono  # noqa: E402
from snn_codec.data.datasets import dataset_files  # noqa: E402
from snn_codec.eval.metrics import quality_report  # noqa: E402


def decode_speed(codec, seconds: float = 60.0) -> float:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    events = torch.rand(codec.units, int(seconds * codec.config.frame_rate)) < 0.4
    speed = seconds / best_time(lambda: codec.decode(events))
    torch.set_num_threads(threads)
    return speed


def quality(codec, files: list[Path], seconds: float) -> dict[str, float]:
    rows = []
    for path in files:
        audio = load_audio(path)
        mono = to_mono(audio.samples)[0][: int(seconds * audio.sample_rate)]
        data = snn_codec.compress(mono, audio.sample_rate, model=codec)
        decoded = snn_codec.decompress(data, model=codec).samples[0]
        row = quality_report(mono, decoded, audio.sample_rate, with_visqol=False)
        row["kbps"] = len(data) * 8 / (len(mono) / audio.sample_rate) / 1000
        rows.append(row)
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--istft", required=True, help="model file with the iSTFT decoder")
    parser.add_argument("--conv", required=True, help="model file with the transposed-conv decoder")
    parser.add_argument("--data", default="data/piano")
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of each validation piece")
    parser.add_argument("--step", type=int, required=True, help="training steps of both models (reported)")
    args = parser.parse_args()

    files = dataset_files(f"synth:{args.data}", "validation")[: args.files]
    rows = []
    for name, path in (("istft", args.istft), ("conv", args.conv)):
        codec = snn_codec.load_model(path)
        rows.append({
            "decoder": name,
            "decoder_params_M": sum(p.numel() for p in codec.decoder.parameters()) / 1e6,
            "decode_x_realtime_1_thread": decode_speed(codec),
            "step": args.step,
            **quality(codec, files, args.seconds),
        })
    istft, conv = rows
    verdict = (f"After {args.step} steps: log-mel distance {istft['log_mel_db']:.2f} dB (iSTFT) vs "
               f"{conv['log_mel_db']:.2f} dB (transposed conv), lower is better; multi-resolution STFT distance "
               f"{istft['mrstft']:.3f} vs {conv['mrstft']:.3f}; the iSTFT decoder decodes "
               f"{istft['decode_x_realtime_1_thread'] / conv['decode_x_realtime_1_thread']:.1f}x as fast on one "
               f"thread. Quality on {len(files)} validation pieces ({args.seconds:g} s each).")
    markdown = "\n\n".join(["# Decoder comparison (`python benchmarks/decoders.py`)",
                            markdown_table(rows, list(rows[0])), verdict]) + "\n"
    print(markdown)
    print(f"written: {write_results('decoders', {'machine': machine(), 'rows': rows}, markdown)}")


if __name__ == "__main__":
    main()
