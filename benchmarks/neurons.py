"""Neuron models side by side: rate, quality, speed and neuromorphic cost of each trained model.

    python benchmarks/neurons.py [--models piano-v1 runs/leaky/model.safetensors ...] [--data data/piano]
                                 [--pieces 8] [--visqol-files 2]

For every model, on the same validation pieces of a synthetic corpus (music no model trained on): actual
kbps from the .snnc bytes, events per second, firing rate, SI-SDR, log-mel distance, ViSQOL (first
pieces), encode and decode speed on one thread (x real time, best of 3 on 30 s), and SynOps per second
into the decoder against the MACs of a dense input layer (snn_codec/eval/cost.py).
Writes benchmarks/results/neurons.{json,md,png}.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, best_time, machine, markdown_table, write_results  # noqa: E402
from speed_quality import evaluate_file, summarize  # noqa: E402

import snn_codec  # noqa: E402
from snn_codec.audio import load_audio, to_mono  # noqa: E402
from snn_codec.data.datasets import dataset_files  # noqa: E402
from snn_codec.eval.cost import input_layer_cost  # noqa: E402
from snn_codec.eval.plots import pyplot, save_png  # noqa: E402

SPEED_SECONDS = 30.0
COLUMNS = ["model", "neuron", "kbps", "events_per_s", "firing_rate", "si_sdr_db", "log_mel_db", "visqol",
           "encode_x_realtime", "decode_x_realtime", "synops_per_s", "dense_macs_per_s"]


def measure(name: str, files: list[Path], visqol_files: int) -> dict[str, object]:
    codec = snn_codec.load_model(name)
    rows = [evaluate_file(codec, f, i < visqol_files) for i, f in enumerate(tqdm(files, desc=name, unit="piece"))]
    row = {"model": codec.config.name if not name.endswith(".safetensors") else Path(name).stem,
           "neuron": codec.config.bottleneck["kind"], **summarize(rows)}
    rate = codec.config.sample_rate
    clip = np.concatenate([to_mono(load_audio(f).samples)[0] for f in files])[: int(SPEED_SECONDS * rate)]
    torch.set_num_threads(1)
    data = snn_codec.compress(clip, rate, model=codec)
    row["encode_x_realtime"] = len(clip) / rate / best_time(lambda: snn_codec.compress(clip, rate, model=codec))
    row["decode_x_realtime"] = len(clip) / rate / best_time(lambda: snn_codec.decompress(data, model=codec))
    cost = input_layer_cost(codec.decoder, codec.units, codec.config.frame_rate, row["events_per_s"])
    row.update(synops_per_s=cost.synops_per_s, dense_macs_per_s=cost.dense_macs_per_s,
               event_energy_uj_per_s=cost.event_energy_uj_per_s, dense_energy_uj_per_s=cost.dense_energy_uj_per_s)
    return row


def plot(rows: list[dict[str, object]]) -> Path:
    plt = pyplot()
    panels = [("kbps", "actual kbps"), ("log_mel_db", "log-mel distance (dB)"), ("firing_rate", "firing rate"),
              ("encode_x_realtime", "encode x real time (1 thread)"), ("synops_per_s", "SynOps / s")]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.4), constrained_layout=True)
    labels = [f"{r['model']}\n({r['neuron']})" for r in rows]
    for ax, (key, title) in zip(axes, panels):
        ax.bar(range(len(rows)), [r[key] for r in rows], color=[f"C{i}" for i in range(len(rows))])
        ax.set_xticks(range(len(rows)), labels, rotation=30, ha="right", fontsize=7)
        ax.set_title(title, fontsize=9)
    RESULTS.mkdir(parents=True, exist_ok=True)
    return save_png(fig, RESULTS / "neurons.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["piano-v1"])
    parser.add_argument("--data", default="data/piano", help="synthetic piano corpus (validation split)")
    parser.add_argument("--pieces", type=int, default=8)
    parser.add_argument("--visqol-files", type=int, default=2)
    args = parser.parse_args()

    files = dataset_files(f"synth:{args.data}", "validation")[: args.pieces]
    rows = [measure(name, files, args.visqol_files) for name in args.models]
    markdown = "\n\n".join([
        f"# Neuron models (`python benchmarks/neurons.py {' '.join(sys.argv[1:])}`)",
        f"{len(files)} validation pieces of `{args.data}`, whole pieces; ViSQOL on the first "
        f"{args.visqol_files}; speed on {SPEED_SECONDS:.0f} s, one thread, best of 3.",
        markdown_table(rows, COLUMNS),
    ]) + "\n"
    print(markdown)
    write_results("neurons", {"machine": machine(), "args": vars(args), "models": rows}, markdown)
    print(f"written: {plot(rows)}")


if __name__ == "__main__":
    main()
