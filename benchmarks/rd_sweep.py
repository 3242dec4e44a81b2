"""Rate-distortion sweep: spiking models trained to several bitrates, the VQ-VAE baselines, Opus.

    python benchmarks/rd_sweep.py [--neurons threshold snntorch_leaky] [--rates 0.5 0.75 1 1.5 2]
                                  [--vq piano-vq-0.5k piano-rvq-1.5k piano-rvq-3k] [--models piano-v3 ...]
                                  [--classical opus-6 mp3-8 codec2-3200 ...] [--steps 300] [--jobs 2]
                                  [--runs runs/rd] [--corpus data/piano-multi] [--pieces 8] [--seconds 10]

Training (skipped for runs that have finished, resumed for runs that have not):
- each spiking point is piano-v2 fine-tuned with the rate controller to one target (`--target-kbps`), with
  the neuron model of `configs/piano-<neuron>.yaml` (threshold: piano-v3.yaml) and piano-v3.yaml's data
  and settings; a LIF neuron's own parameters start fresh
- each VQ-VAE baseline (`configs/<name>.yaml`) starts from the same encoder and decoder (piano-v2's) and
  trains as many steps on the same data
`--jobs N` trains N runs at once, each on cores / N threads (on a 2-core machine two one-thread runs do
about 1.6 times the work of one two-thread run).

Evaluation, on the validation pieces of the multi-timbre corpus (music no model trained on): the
controller's own measure (the coded rate of the last validation, `val/payload_kbps`) against its target,
and, on the training soundfonts and on MuseScore General (reserved for evaluation), kbps from the bytes of
each .snnc or Ogg file, log-mel distance and SI-SDR (and ViSQOL with --visqol).
Writes benchmarks/results/rd_sweep.{json,md,png}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, markdown_table, publish  # noqa: E402
from unseen_timbre import RESERVED, round_trip, timbre_sets  # noqa: E402

from snn_codec.audio import load_audio, to_mono  # noqa: E402
from snn_codec.config import load_config, save_config  # noqa: E402
from snn_codec.eval.classical import CLASSICAL_CODECS  # noqa: E402
from snn_codec.eval.metrics import quality_report  # noqa: E402
from snn_codec.eval.plots import pyplot, save_png  # noqa: E402
from snn_codec.model_io import load_model  # noqa: E402

BASE = Path("configs/piano-v3.yaml")
INIT_FROM = "piano-v2"
FAMILIES = {"threshold": "threshold", "snntorch_leaky": "LIF (snnTorch)", "norse_lif": "LIF (Norse)",
            "norse_lsnn": "LSNN (Norse)"}
CLASSICAL_FAMILIES = {"opus": "Opus", "mp3": "MP3", "codec2": "codec2"}
SETS = {"in-domain": "training soundfonts", "MuseScore General (reserved)": "MuseScore General"}


def neuron_config(neuron: str):
    """The bottleneck of configs/piano-<neuron>.yaml (threshold: the base config's)."""
    if neuron == "threshold":
        return load_config(BASE).model.bottleneck
    path = Path(f"configs/piano-{neuron.replace('_', '-')}.yaml")
    if not path.is_file():
        raise SystemExit(f"no config for neuron {neuron!r} (expected {path})")
    return load_config(path).model.bottleneck


def spiking_run(neuron: str, rate: float, steps: int, runs: Path) -> tuple[str, Path, dict]:
    """(name, run folder, point description) of one spiking point; writes its config into the run folder."""
    name = f"rd-{neuron.replace('_', '-')}-{rate:g}k"
    base = load_config(BASE)
    control = replace(base.train.rate_control, target_kbps=rate, initial_weight=1.0)
    train = replace(base.train, steps=steps, init_from=INIT_FROM, rate_control=control)
    config = replace(base, model=replace(base.model, name=name, bottleneck=neuron_config(neuron)), train=train)
    return name, _write_config(config, runs / name), {"family": FAMILIES.get(neuron, neuron), "target_kbps": rate}


def vq_run(name: str, steps: int, runs: Path) -> tuple[str, Path, dict]:
    config = load_config(f"configs/{name}.yaml")
    config = replace(config, train=replace(config.train, steps=steps, init_from=INIT_FROM))
    return name, _write_config(config, runs / name), {"family": "VQ-VAE", "target_kbps": None}


def _write_config(config, run_dir: Path) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    save_config(config, run_dir / "sweep.yaml")
    return run_dir


def train(run_dir: Path, threads: int) -> Path:
    """Trains (or resumes) one run in a child process; returns its model file."""
    model = run_dir / "model.safetensors"
    if model.is_file():
        return model
    command = [sys.executable, "-m", "snn_codec", "train", "--config", str(run_dir / "sweep.yaml"),
               "--run-dir", str(run_dir), "--threads", str(threads)]
    with open(run_dir / "train.log", "w") as log:
        result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode != 0 or not model.is_file():
        raise SystemExit(f"training {run_dir} failed (exit {result.returncode}); see {run_dir / 'train.log'}")
    return model


def evaluate(systems: dict[str, str], corpus: Path, pieces: int, seconds: float, visqol: bool) -> list[dict]:
    """Per-clip rows for every system (a model file or name, or a classical codec) on both timbre sets."""
    codecs = {name: load_model(path) for name, path in systems.items() if path}
    sets = timbre_sets(corpus, load_config(BASE).train.data.holdout_soundfont, pieces)
    rows = []
    for timbre in SETS:
        for path in tqdm(sets[timbre], desc=SETS[timbre], unit="clip"):
            audio = load_audio(path)
            clip = to_mono(audio.samples)[0, : int(seconds * audio.sample_rate)]
            for system in systems:
                decoded, kbps = round_trip(system, clip, audio.sample_rate, codecs)
                scores = quality_report(clip, decoded, audio.sample_rate, with_visqol=visqol)
                rows.append({"set": SETS[timbre], "clip": path.name, "system": system, "kbps": kbps, **scores})
    return rows


def summarize(rows: list[dict], points: dict[str, dict]) -> list[dict]:
    """One row per system: the point's description, then the mean of each metric per timbre set."""
    out = []
    for system, point in points.items():
        row = {"system": system, **point}
        for name in SETS.values():
            group = [r for r in rows if r["system"] == system and r["set"] == name]
            for key in ("kbps", "log_mel_db", "si_sdr_db", "visqol"):
                values = [r[key] for r in group if key in r]
                if values:
                    row[f"{key} ({name})"] = float(np.mean(values))
        out.append(row)
    return out


def controller_accuracy(run_dir: Path, target: float | None) -> dict:
    """From the run's metrics: the last validation's coded rate and its error against the target, the rate
    before the trim that ends training, and the held-out soundfont's rate (not controlled)."""
    metrics = json.loads((run_dir / "metrics.json").read_text())
    out = {"val_kbps": metrics.get("val/payload_kbps"), "before_trim_kbps": metrics.get("trim/kbps_before"),
           "val_unseen_kbps": metrics.get("val_unseen/payload_kbps")}
    if target and out["val_kbps"]:
        out["rate_error_pct"] = 100 * (out["val_kbps"] / target - 1)
    return out


def plot(summary: list[dict]) -> Path:
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5), constrained_layout=True)
    families = list(dict.fromkeys(r["family"] for r in summary))
    for ax, name in zip(axes[:2], SETS.values()):
        for family in families:
            rows = sorted((r for r in summary if r["family"] == family), key=lambda r: r[f"kbps ({name})"])
            style = "s" if family == "shipped" else "o-"
            ax.plot([r[f"kbps ({name})"] for r in rows], [r[f"log_mel_db ({name})"] for r in rows], style,
                    label=family)
            if family == "shipped":
                for r in rows:
                    ax.annotate(r["system"], (r[f"kbps ({name})"], r[f"log_mel_db ({name})"]), fontsize=7)
        ax.set_xscale("log")
        ax.set_xlabel("actual bitrate (kbps, from the bytes)")
        ax.set_ylabel("log-mel distance (dB, lower is better)")
        ax.set_title(name)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    ax = axes[2]
    controlled = [r for r in summary if r.get("target_kbps") and r.get("val_kbps")]
    for family in dict.fromkeys(r["family"] for r in controlled):
        rows = [r for r in controlled if r["family"] == family]
        line, = ax.plot([r["target_kbps"] for r in rows], [r["val_kbps"] for r in rows], "o", label=family)
        trimmed = [r for r in rows if r.get("before_trim_kbps")]
        ax.plot([r["target_kbps"] for r in trimmed], [r["before_trim_kbps"] for r in trimmed], "x",
                color=line.get_color(), label=f"{family}, before the last trim")
    if controlled:
        span = np.linspace(0.8 * min(r["target_kbps"] for r in controlled),
                           1.1 * max(r["target_kbps"] for r in controlled), 2)
        ax.plot(span, span, "k-", lw=0.8)
        ax.fill_between(span, 0.95 * span, 1.05 * span, color="grey", alpha=0.25, label="±5 %")
    ax.set_xlabel("asked for (kbps, --target-kbps)")
    ax.set_ylabel("coded rate at the last validation (kbps)")
    ax.set_title("Rate controller: asked vs got")
    ax.legend(fontsize=8)
    path = RESULTS / "rd_sweep.png"
    save_png(fig, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--neurons", nargs="*", default=["threshold", "snntorch_leaky"], choices=list(FAMILIES))
    parser.add_argument("--rates", nargs="*", type=float, default=[0.5, 0.75, 1.0, 1.5, 2.0])
    parser.add_argument("--vq", nargs="*", default=["piano-vq-0.5k", "piano-rvq-1.5k", "piano-rvq-3k"])
    parser.add_argument("--models", nargs="*", default=["piano-v3", "piano-v3-3k"],
                        help="trained models shown beside the sweep (names or .safetensors)")
    parser.add_argument("--classical", nargs="*", default=list(CLASSICAL_CODECS), choices=list(CLASSICAL_CODECS))
    parser.add_argument("--steps", type=int, default=300, help="training steps of each point")
    parser.add_argument("--jobs", type=int, default=2, help="runs trained at once")
    parser.add_argument("--runs", default="runs/rd")
    parser.add_argument("--corpus", default="data/piano-multi")
    parser.add_argument("--pieces", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--visqol", action="store_true", help="also ViSQOL (about a minute per clip and system)")
    parser.add_argument("--train-only", action="store_true")
    args = parser.parse_args()
    if not 0 < args.steps <= 100_000 or not 1 <= args.jobs <= 64 or any(not 0 < r < 100 for r in args.rates):
        raise SystemExit("--steps must be in 1..100000, --jobs in 1..64 and every rate in (0, 100) kbps")
    if not (Path(args.corpus) / "manifest.json").is_file():
        raise SystemExit(f"{args.corpus}: no corpus; build it with "
                         f"snn-codec data synth-piano --out {args.corpus} --pieces 300")

    runs = Path(args.runs)
    planned = [spiking_run(n, r, args.steps, runs) for n in args.neurons for r in args.rates]
    planned += [vq_run(name, args.steps, runs) for name in args.vq]
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    with ThreadPoolExecutor(args.jobs) as pool:
        models = list(tqdm(pool.map(lambda p: train(p[1], threads), planned), total=len(planned),
                           desc="training", unit="run"))
    if args.train_only:
        return

    points = {name: {**point, **controller_accuracy(run_dir, point["target_kbps"])}
              for name, run_dir, point in planned}
    shipped = {(Path(m).stem if m.endswith(".safetensors") else m): m for m in args.models}
    points.update({name: {"family": "shipped"} for name in shipped})
    points.update({c: {"family": CLASSICAL_FAMILIES[CLASSICAL_CODECS[c].family]} for c in args.classical})
    systems = {**{name: str(model) for (name, _, _), model in zip(planned, models)}, **shipped,
               **{c: "" for c in args.classical}}
    rows = evaluate(systems, Path(args.corpus), args.pieces, args.seconds, args.visqol)
    summary = summarize(rows, points)
    columns = ["system", "family", "target_kbps", "val_kbps", "rate_error_pct", "before_trim_kbps", "val_unseen_kbps"]
    for name in SETS.values():
        columns += [f"kbps ({name})", f"log_mel_db ({name})", f"si_sdr_db ({name})"]
    publish(
        "rd_sweep", "Rate-distortion sweep",
        f"Spiking points: {INIT_FROM} fine-tuned {args.steps} steps to each target with the rate controller; "
        f"VQ-VAE baselines: the same encoder and decoder, {args.steps} steps. `val_kbps` is the coded rate of "
        "the last validation (training soundfonts), which the controller steers; `before_trim_kbps` is that "
        "rate before the threshold trim that ends training, `val_unseen_kbps` the held-out soundfont's "
        "(not controlled). Then, on "
        f"{args.pieces} validation pieces × {args.seconds:g} s per set (training soundfonts; {RESERVED}, never "
        "trained or tuned on): kbps from the bytes written, log-mel distance in dB (lower is better), "
        "SI-SDR in dB.",
        markdown_table(summary, columns),
        {"args": vars(args), "summary": summary, "clips": rows},
    )
    print(f"plot: {plot(summary)}")


if __name__ == "__main__":
    main()
