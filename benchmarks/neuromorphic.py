"""The neuromorphic encoder (piano-nm) next to the shipped models and Opus, on piano in a timbre no model heard.

    python benchmarks/neuromorphic.py [--model runs/piano-nm/model.safetensors] [--reference piano-v5 ...]
                                      [--classical opus-6 opus-8] [--clips 6] [--seconds 10] [--visqol-seconds 5]

Clips: generated piano pieces rendered with the MuseScore General soundfont (benchmarks/eval_set.py, seeds
101, 102, ...), 44.1 kHz. Every system goes through its real bytes (kbps from them); quality is the log-mel
distance and ViSQOL of snn_codec.eval.metrics (benchmarks/ceiling.py's `evaluate`). Activity
(snn_codec.eval.deploy.measure_activity): events/s of the bottleneck, SynOps/s of those events into the
decoder's input layer, and for a neuromorphic encoder its front-end and hidden spikes/s and their SynOps/s.
Writes benchmarks/results/neuromorphic.{json,md,png}.
Needs `bash benchmarks/setup.sh` (the MuseScore General soundfont, Opus tools).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from ceiling import CLIP_RATE, add_clip_arguments, evaluate  # noqa: E402
from common import RESULTS, markdown_table, publish  # noqa: E402
from eval_set import Clip, piano_clip  # noqa: E402

from snn_codec.audio import Audio  # noqa: E402
from snn_codec.codec import Codec  # noqa: E402
from snn_codec.eval.deploy import measure_activity  # noqa: E402
from snn_codec.eval.plots import pyplot, save_png  # noqa: E402
from snn_codec.model_io import load_model  # noqa: E402

ACTIVITY = ("events_per_s", "synops_per_s", "encoder_input_events_per_s", "encoder_hidden_events_per_s",
            "encoder_synops_per_s")


REFERENCES = ("piano-v5", "piano-v3", "piano-v4-3k")  # an STFT encoder, the model piano-nm starts from, ~3 kbps

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="runs/piano-nm/model.safetensors", help="the neuromorphic model")
    parser.add_argument("--reference", action="append", default=None,
                        help=f"models to compare with (repeatable; default {' '.join(REFERENCES)})")
    parser.add_argument("--classical", nargs="*", default=["opus-6", "opus-8"])
    add_clip_arguments(parser)
    parser.add_argument("--out", type=Path, default=None, help="results folder (default benchmarks/results)")
    return parser.parse_args(argv)


def activity(codec: Codec, clips: list[Clip]) -> dict[str, float]:
    """Means over clips of the model's spikes/s and SynOps/s (the encoder's are 0 unless it is neuromorphic)."""
    measured = [measure_activity(codec, Audio(clip.samples[None], clip.sample_rate), clip.name) for clip in clips]
    return {key: float(np.mean([getattr(m, key) for m in measured])) for key in ACTIVITY}


def summarize(rows: list[dict], systems: list[str], activities: dict[str, dict]) -> list[dict]:
    """Means over clips per system, with its activity where it is a model."""
    summary = []
    for name in systems:
        mine = [r for r in rows if r["system"] == name]
        keys = [k for k in mine[0] if k not in ("system", "clip") and mine[0][k] is not None]
        summary.append({"system": name, **{k: float(np.mean([r[k] for r in mine])) for k in keys},
                        **activities.get(name, {})})
    return summary


def plot(summary: list[dict], model: str, path: Path) -> Path:
    """Rate-distortion: log-mel distance and ViSQOL against kbps, one labelled point per system."""
    plt = pyplot()
    metrics = [m for m in ("log_mel_db", "visqol") if m in summary[0]]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 4), squeeze=False)
    labels = {"log_mel_db": "log-mel distance (dB, lower is better)", "visqol": "ViSQOL MOS-LQO (higher is better)"}
    for ax, metric in zip(axes[0], metrics):
        for entry in summary:
            colour = "tab:red" if entry["system"] == model else "tab:blue" if "opus" not in entry["system"] \
                else "tab:gray"
            ax.scatter(entry["kbps"], entry[metric], color=colour, s=40)
            ax.annotate(entry["system"], (entry["kbps"], entry[metric]), textcoords="offset points", xytext=(5, 4))
        ax.set_xlabel("kbps (from the bytes)")
        ax.set_ylabel(labels[metric])
        ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
    fig.suptitle("Piano in an unseen timbre (MuseScore General): neuromorphic encoder vs shipped models and Opus")
    fig.tight_layout()
    return save_png(fig, path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(1)
    models = {}
    for spec in [args.model, *(args.reference or REFERENCES)]:
        codec = load_model(spec)
        models[codec.config.name] = codec
    model = next(iter(models))
    with tempfile.TemporaryDirectory(prefix="snn_neuromorphic_") as tmp:
        clips = [piano_clip(Path(tmp), 101 + i, args.seconds, CLIP_RATE) for i in range(args.clips)]
    systems: dict[str, Codec | str] = {**models, **{name: name for name in args.classical}}
    rows, _ = evaluate(clips, systems, args.visqol_seconds)
    activities = {name: activity(codec, clips) for name, codec in models.items()}
    summary = summarize(rows, list(systems), activities)
    columns = ["system", "kbps", "log_mel_db", *(["visqol"] if args.visqol_seconds else []), *ACTIVITY]
    intro = (f"{len(clips)} clips of {args.seconds:g} s of piano rendered with MuseScore General (a timbre no "
             "model was trained on), 44.1 kHz, means over clips; kbps from the bytes of each coded file. "
             f"{model} encodes with a fixed 16-band filterbank, spike encoders and LIF neurons only "
             "(docs/neuromorphic.md). `events_per_s`: the bottleneck's events (what the file stores); "
             "`synops_per_s`: those events into the decoder's input layer; `encoder_*`: the neuromorphic "
             "encoder's front-end spikes, hidden LIF spikes and their synaptic operations (into the LIF layers "
             "and the bottleneck's neurons), 0 for the conv encoder, whose work is dense. ViSQOL on the first "
             f"{args.visqol_seconds:g} s of each clip.")
    out = args.out or RESULTS
    publish("neuromorphic", "Neuromorphic encoder: quality per bit and activity", intro,
            markdown_table(summary, columns) + "\n\n![rate-distortion](neuromorphic.png)",
            {"summary": summary, "rows": rows, "clips": [c.name for c in clips]}, out)
    plot(summary, model, out / "neuromorphic.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
