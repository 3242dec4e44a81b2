"""Compressing to a bitrate: `snn-codec compress --kbps R` against the model's own rate.

    python benchmarks/target_bitrate.py [--model piano-v3] [--targets 0.5 0.75 1 1.25 1.5 2]
                                        [--corpus data/piano-multi] [--pieces 4] [--seconds 20]

Each clip is compressed once at the model's own rate and once per target (the thresholds moved for that
clip, no training), then decoded with the model. Clips: the bundled example, and `--pieces` validation
pieces of the multi-timbre corpus on the training soundfonts and on MuseScore General (when the corpus is
there). Reports kbps from the bytes, its error against the target, and log-mel distance (dB, lower is
better). Writes benchmarks/results/target_bitrate.{json,md,png}.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, markdown_table, publish  # noqa: E402
from unseen_timbre import timbre_sets  # noqa: E402

import snn_codec  # noqa: E402
from snn_codec.audio import fit_length, load_audio, to_mono  # noqa: E402
from snn_codec.demo import EXAMPLE  # noqa: E402
from snn_codec.errors import CodecError  # noqa: E402
from snn_codec.eval.metrics import bitrate_kbps, log_mel_distance  # noqa: E402
from snn_codec.eval.plots import pyplot, save_png  # noqa: E402
from snn_codec.model_io import load_model  # noqa: E402

SETS = ("training soundfonts", "MuseScore General")


def clips(corpus: Path, pieces: int) -> list[tuple[str, Path]]:
    """(set, path): the bundled example, then validation pieces per set when the corpus exists."""
    out = [("bundled example", EXAMPLE)]
    if (corpus / "manifest.json").is_file() and pieces:
        sets = timbre_sets(corpus, "csound_gm", pieces)
        out += [("training soundfonts", path) for path in sets["in-domain"]]
        out += [("MuseScore General", path) for path in sets["MuseScore General (reserved)"]]
    return out


def measure(model, clip: np.ndarray, rate: int, target: float | None) -> dict:
    """kbps from the bytes and log-mel distance of `clip` compressed at `target` (None: the model's own)."""
    try:
        data = snn_codec.compress(clip, rate, model=model, target_kbps=target)
    except CodecError as err:  # out of reach for this model and clip
        return {"target_kbps": target, "error": str(err)}
    decoded = fit_length(to_mono(snn_codec.decompress(data, model=model).samples), len(clip))[0]
    kbps = bitrate_kbps(len(data), len(clip) / rate)
    row = {"target_kbps": target, "kbps": kbps, "log_mel_db": float(log_mel_distance(clip, decoded, rate))}
    if target:
        row["rate_error_pct"] = 100 * (kbps / target - 1)
    return row


def summarize(rows: list[dict], targets: list[float]) -> list[dict]:
    """Per set and target (None first: the model's own rate): means over the clips it reached."""
    out = []
    for name in dict.fromkeys(r["set"] for r in rows):
        for target in [None, *targets]:
            group = [r for r in rows if r["set"] == name and r["target_kbps"] == target]
            reached = [r for r in group if "kbps" in r]
            row = {"set": name, "target": "model's own" if target is None else target,
                   "clips": f"{len(reached)}/{len(group)}"}
            if reached:
                row["kbps"] = float(np.mean([r["kbps"] for r in reached]))
                row["log_mel_db"] = float(np.mean([r["log_mel_db"] for r in reached]))
            if target and reached:
                row["worst_error_pct"] = max((r["rate_error_pct"] for r in reached), key=abs)
            out.append(row)
    return out


def plot(rows: list[dict], model: str) -> Path:
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for name in dict.fromkeys(r["set"] for r in rows):
        reached = [r for r in rows if r["set"] == name and "kbps" in r]
        targeted = [r for r in reached if r["target_kbps"]]
        line, = left.plot([r["target_kbps"] for r in targeted], [r["kbps"] for r in targeted], "o", label=name,
                          alpha=0.7)
        right.plot([r["kbps"] for r in targeted], [r["log_mel_db"] for r in targeted], "o", alpha=0.5,
                   color=line.get_color(), label=f"{name}, --kbps")
        own = [r for r in reached if not r["target_kbps"]]
        right.plot([r["kbps"] for r in own], [r["log_mel_db"] for r in own], "*", ms=12, color=line.get_color(),
                   label=f"{name}, model's own rate")
    span = np.array(left.get_xlim())
    left.plot(span, span, "k-", lw=0.8)
    left.fill_between(span, 0.95 * span, 1.05 * span, color="grey", alpha=0.25, label="±5 %")
    left.set(xlabel="asked for (kbps, --kbps)", ylabel="file bitrate (kbps, from the bytes)",
             title="Asked vs got, per clip")
    right.set(xlabel="file bitrate (kbps)", ylabel="log-mel distance (dB, lower is better)",
              title=f"Quality against bitrate ({model})")
    left.legend(fontsize=8)
    right.legend(fontsize=7)
    return save_png(fig, RESULTS / "target_bitrate.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="piano-v3")
    parser.add_argument("--targets", nargs="+", type=float, default=[0.5, 0.75, 1.0, 1.25, 1.5, 2.0])
    parser.add_argument("--corpus", default="data/piano-multi")
    parser.add_argument("--pieces", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    if any(not 0 < t < 100 for t in args.targets) or not 0 <= args.pieces <= 100 or not 0 < args.seconds <= 600:
        raise SystemExit("--targets must be in (0, 100) kbps, --pieces in 0..100 and --seconds in (0, 600]")
    model = load_model(args.model)
    rows = []
    for name, path in tqdm(clips(Path(args.corpus), args.pieces), desc="clips", unit="clip"):
        audio = load_audio(path)
        clip = to_mono(audio.samples)[0, : int(args.seconds * audio.sample_rate)]
        for target in [None, *args.targets]:
            rows.append({"set": name, "clip": path.name, **measure(model, clip, audio.sample_rate, target)})
    summary = summarize(rows, args.targets)
    publish(
        "target_bitrate", "Compressing to a bitrate",
        f"Model {args.model}; each clip (first {args.seconds:g} s) compressed at the model's own rate and at "
        "each target with `--kbps` (thresholds moved for that clip, no training), then decoded. kbps from the "
        "bytes; `worst_error_pct`: the largest rate error of a clip against its target; log-mel distance in dB "
        "(lower is better). `clips`: how many clips the target was reached for.",
        markdown_table(summary, ["set", "target", "clips", "kbps", "worst_error_pct", "log_mel_db"]),
        {"args": vars(args), "summary": summary, "clips": rows},
    )
    print(f"plot: {plot(rows, args.model)}")


if __name__ == "__main__":
    main()
