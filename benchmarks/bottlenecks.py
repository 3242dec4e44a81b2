"""The fair bottleneck benchmark: every bottleneck trained from scratch with the same budget, several seeds,
95 % confidence intervals and paired tests.

    python benchmarks/bottlenecks.py [--kinds threshold ... my_package.neurons:MyNeuron] [--rates 0.75 1.5 3]
                                     [--seeds 0 1 2] [--scale bench|large] [--steps N] [--jobs 2]
                                     [--runs runs/bottlenecks] [--corpus data/piano-multi] [--holdout csound_gm]
                                     [--pieces 8] [--seconds 10] [--visqol-pieces 2] [--stop-after HOURS]
                                     [--records DIR] [--smoke]

Each (bottleneck, rate, seed) is one run of `snn-codec train` from scratch (bottleneck_plan.py says how
rates are matched), evaluated as soon as it has trained; the unquantized reference (`continuous`) is the
ceiling row. Each evaluated run leaves a record (benchmarks/results/bottlenecks-runs/NAME.json: its config,
the evaluation settings, its training metrics and per-clip rows), and a run whose record matches its config
and settings is not trained again, so the command picks up where it stopped, on this machine or, with the
records committed, on a fresh clone; runs that stopped mid-way resume from their checkpoint in the runs
folder. `--stop-after` starts no new run after that many hours and writes the tables of the runs that have
records (the others are listed as missing). Evaluation: the validation pieces of the corpus (music no run
trained on), on the training soundfonts (in-domain) and on MuseScore General (an unseen timbre, reserved
for evaluation); kbps from the bytes of each .snnc file, log-mel distance, SI-SDR, ViSQOL on the first
pieces, events/s, firing rate, bits per event, and NeuroBench's costs (snn_codec/eval/cost.py). `--smoke`
trains tiny models for 2 steps on the bundled clip (about a minute per run) to prove the pipeline; its
results go to the runs folder, never to benchmarks/results. Writes benchmarks/results/bottlenecks.{json,md,png}.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).parent))
from bottleneck_plan import (CEILING, DEFAULT_KINDS, SCALES, Run, bench_data, check_kinds, plan,  # noqa: E402
                             run_dir)
from bottleneck_report import comparisons, markdown_tables, plot, summarize  # noqa: E402
from common import RESULTS, command_line, forward_pass, machine, model_input  # noqa: E402

import snn_codec  # noqa: E402
from snn_codec.api import inspect  # noqa: E402
from snn_codec.audio import fit_length, load_audio, save_audio, to_mono  # noqa: E402
from snn_codec.codec import Codec  # noqa: E402
from snn_codec.config import Config, from_dict, save_config, to_dict  # noqa: E402
from snn_codec.demo import EXAMPLE  # noqa: E402
from snn_codec.errors import ConfigError  # noqa: E402
from snn_codec.eval.cost import (activation_sparsity, connection_sparsity, footprint_bytes,  # noqa: E402
                                 synaptic_operations)
from snn_codec.eval.metrics import bitrate_kbps, quality_report, visqol_moslqo  # noqa: E402
from snn_codec.model_io import load_model  # noqa: E402

UNSEEN = "MuseScore General (unseen timbre)"
RECORDS = RESULTS / "bottlenecks-runs"


def train(run: Run, root: Path, threads: int, accelerator: str) -> Path:
    """Trains (or resumes) one run in a child process; returns its model file."""
    folder = run_dir(root, run)
    model = folder / "model.safetensors"
    if model.is_file():
        return model
    folder.mkdir(parents=True, exist_ok=True)
    save_config(run.config, folder / "bench.yaml")
    command = [sys.executable, "-m", "snn_codec", "train", "--config", str(folder / "bench.yaml"), "--run-dir",
               str(folder), "--threads", str(threads), "--accelerator", accelerator]
    with open(folder / "train.log", "a") as log:
        result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode != 0 or not model.is_file():
        raise SystemExit(f"training {folder} failed (exit {result.returncode}); see {folder / 'train.log'}")
    return model


@torch.inference_mode()
def bottleneck_output(codec: Codec, clip: np.ndarray, rate: int) -> torch.Tensor:
    """z (1, C, T), the decoder's input, of a mono clip: what its first layer's synaptic operations act on."""
    return codec.bottleneck(codec.encoder(model_input(codec, clip, rate)[0])).z


@torch.inference_mode()
def decoded_and_events(codec: Codec, clip: np.ndarray, rate: int) -> tuple[np.ndarray, dict[str, float]]:
    """The clip through the codec (its .snnc bytes; the forward pass for the ceiling), and event statistics."""
    duration = len(clip) / rate
    if not codec.bottleneck.has_bitstream:
        return forward_pass(codec, clip, rate), {}
    data = snn_codec.compress(clip, rate, model=codec)
    decoded = fit_length(to_mono(snn_codec.decompress(data, model=codec).samples), len(clip))[0]
    info = inspect(data)
    stats = {"kbps": bitrate_kbps(len(data), duration)}
    if info.stores_indices:
        stats |= {"events_per_s": info.header.num_units * info.header.num_frames / duration,
                  "bits_per_event": info.bits_per_index}
    else:
        stats |= {"events_per_s": info.events_per_s, "firing_rate": info.firing_rate,
                  "bits_per_event": info.bits_per_event}
    return decoded, stats


def plain(value):
    """`value` as JSON gives it back (tuples as lists), so that saved and planned configs compare equal."""
    return json.loads(json.dumps(value))


def same_config(saved: dict | None, config: Config) -> bool:
    """Whether a record's saved config is `config`. An option added to the config since the record was made
    reads as its default there (new options default to the old behaviour), so a new option does not make
    every record stale unless a run sets it; an option the record names that no longer exists does."""
    try:
        return from_dict(Config, saved) == config
    except ConfigError:
        return False


def load_record(records: Path, run: Run, settings: dict) -> list[dict] | None:
    """The per-clip rows of `run`'s record, if it was made with the same config and evaluation settings."""
    path = records / f"{run.name}.json"
    if not path.is_file():
        return None
    saved = json.loads(path.read_text())
    if not same_config(saved.get("config"), run.config) or saved.get("settings") != plain(settings):
        return None
    return saved["rows"]


def eval_settings(sets: dict[str, list[Path]], seconds: float, visqol_pieces: int, visqol_seconds: float) -> dict:
    return {"sets": {k: [str(p) for p in v] for k, v in sets.items()}, "seconds": seconds,
            "visqol_pieces": visqol_pieces, "visqol_seconds": visqol_seconds}


def load_clip(path: str | Path, seconds: float) -> tuple[np.ndarray, int]:
    """A clip as the benchmark measures it: mono, its first `seconds`; and its sample rate."""
    audio = load_audio(path)
    return to_mono(audio.samples)[0, : int(seconds * audio.sample_rate)], audio.sample_rate


def evaluate(run: Run, root: Path, records: Path, sets: dict[str, list[Path]], seconds: float, visqol_pieces: int,
             visqol_seconds: float, train_seconds: float | None = None) -> list[dict]:
    """Per-clip rows of one trained run, written to its record (`process` reuses a matching one).
    `train_seconds`: the wall time of its training, when this process trained all of it."""
    folder = run_dir(root, run)
    settings = eval_settings(sets, seconds, visqol_pieces, visqol_seconds)
    started = time.monotonic()
    codec = load_model(folder / "model.safetensors")
    static = {"footprint_kib": footprint_bytes(codec) / 1024, "connection_sparsity": connection_sparsity(codec)}
    rows = []
    for name, paths in sets.items():
        for i, path in enumerate(paths):
            clip, rate = load_clip(path, seconds)
            decoded, stats = decoded_and_events(codec, clip, rate)
            scores = quality_report(clip, decoded, rate, with_visqol=False)
            if i < visqol_pieces:
                part = int(visqol_seconds * rate)
                scores["visqol"] = visqol_moslqo(clip[:part], decoded[:part], rate)
            z = bottleneck_output(codec, clip, rate)
            cost = {"synops_per_s": synaptic_operations(codec.decoder, z, codec.config.frame_rate).effective_per_s,
                    "activation_sparsity": activation_sparsity(z)}
            rows.append({"kind": run.kind, "family": run.family, "rate_kbps": run.rate_kbps, "seed": run.seed,
                         "set": name, "clip": path.name, **stats, **scores, **cost, **static})
    metrics = folder / "metrics.json"
    record = {"run": run.name, "config": to_dict(run.config), "settings": settings,
              "training": json.loads(metrics.read_text()) if metrics.is_file() else {}, "machine": machine(),
              "seconds": {"train": train_seconds, "evaluate": time.monotonic() - started}, "rows": rows}
    records.mkdir(parents=True, exist_ok=True)
    partial = records / f".{run.name}.json.part"  # written whole, then renamed: never a half record
    partial.write_text(json.dumps(record, indent=1))
    partial.replace(records / f"{run.name}.json")
    return rows


def process(run: Run, root: Path, records: Path, sets: dict[str, list[Path]], args: argparse.Namespace,
            threads: int, deadline: float) -> list[dict] | None:
    """One run start to end: its record's rows if it has one; else trained (or resumed) and evaluated, unless
    the deadline has passed (None: not run)."""
    settings = (sets, args.seconds, args.visqol_pieces, args.visqol_seconds)
    saved = load_record(records, run, eval_settings(*settings))
    if saved is not None:
        return saved
    if time.monotonic() > deadline:
        return None
    fresh = not run_dir(root, run).exists()
    started = time.monotonic()
    train(run, root, threads, args.accelerator)
    train_seconds = time.monotonic() - started if fresh else None  # a resumed or earlier run's time is unknown
    return None if args.train_only else evaluate(run, root, records, *settings, train_seconds)


def smoke_sets(root: Path) -> tuple[str, dict[str, list[Path]]]:
    """A folder of 2 s pieces of the bundled clip (training and validation data of the smoke runs), and the
    evaluation sets: the first pieces, and the others standing in for the unseen timbre."""
    folder = root / "smoke-audio"
    if not folder.is_dir():
        audio = load_audio(EXAMPLE)
        mono, rate = to_mono(audio.samples)[0], audio.sample_rate
        folder.mkdir(parents=True)
        for i in range(4):
            save_audio(folder / f"piece{i}.wav", mono[None, i * 2 * rate : (i + 1) * 2 * rate], rate)
    clips = sorted(folder.glob("*.wav"))
    return f"folder:{folder}", {"in-domain": clips[:2], "unseen (smoke: the same piano)": clips[2:]}


def corpus_sets(corpus: Path, holdout: str, pieces: int) -> dict[str, list[Path]]:
    from unseen_timbre import timbre_sets

    sets = timbre_sets(corpus, holdout, pieces)
    return {"in-domain": sets["in-domain"], UNSEEN: sets["MuseScore General (reserved)"]}


def write_results(folder: Path, rows: list[dict], runs: list[Run], missing: list[Run], impossible: list,
                  args: argparse.Namespace) -> Path:
    summary = summarize(rows)
    tests = comparisons(rows)
    scale = SCALES[args.scale]
    intro = (f"Every bottleneck trained from scratch: scale `{args.scale}` ({args.steps or scale.steps} steps, batch "
             f"{scale.batch_size}, latent {scale.latent_dim}, {scale.units} units or decoder inputs), the same "
             f"data, augmentation, optimiser and seeds {args.seeds}; spiking kinds trained to each target rate by "
             f"the rate controller, quantizers sized to it (bits per frame). {len(runs)} runs. Clips: "
             f"{args.pieces} validation pieces x {args.seconds:g} s per set; ViSQOL on the first "
             f"{args.visqol_pieces} ({args.visqol_seconds:g} s).")
    if missing:
        intro += (f"\n\n**{len(runs) - len(missing)} of {len(runs)} runs have results so far**; not yet run (rerun the "
                  f"command to continue): {', '.join(run.name for run in missing)}.")
    markdown = "\n".join(["# Bottlenecks trained from scratch, same budget", "", command_line(), "", intro, "",
                          markdown_tables(summary, tests, impossible), ""])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bottlenecks.md").write_text(markdown)
    payload = {"machine": machine(), "args": vars(args), "summary": summary, "comparisons": tests, "clips": rows,
               "not_run": [list(pair) for pair in impossible], "missing": [run.name for run in missing]}
    (folder / "bottlenecks.json").write_text(json.dumps(payload, indent=1))
    plot(summary, folder / "bottlenecks.png")
    print(markdown)
    return folder / "bottlenecks.md"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kinds", nargs="+", default=[*DEFAULT_KINDS, CEILING],
                        help="registered kinds or plug-ins (package.module:Class, importable)")
    parser.add_argument("--rates", nargs="+", type=float, default=[0.75, 1.5, 3.0], help="target kbps")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--scale", choices=sorted(SCALES), default="bench")
    parser.add_argument("--steps", type=int, default=None, help="override the scale's training steps")
    parser.add_argument("--jobs", type=int, default=2, help="runs trained at once")
    parser.add_argument("--accelerator", default="cpu", help="cpu, gpu or auto (--scale large on a GPU: gpu)")
    parser.add_argument("--runs", default="runs/bottlenecks")
    parser.add_argument("--corpus", default="data/piano-multi")
    parser.add_argument("--holdout", default="csound_gm", help="soundfont left out of training")
    parser.add_argument("--pieces", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--visqol-pieces", type=int, default=2)
    parser.add_argument("--visqol-seconds", type=float, default=5.0)
    parser.add_argument("--results", default=None, help="folder of the results (default benchmarks/results)")
    parser.add_argument("--records", default=None,
                        help="folder of the per-run records (default benchmarks/results/bottlenecks-runs)")
    parser.add_argument("--stop-after", type=float, default=None, metavar="HOURS",
                        help="start no new run after this many hours; the tables cover the runs with records")
    parser.add_argument("--train-only", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="tiny models, 2 steps, the bundled clip: the pipeline")
    args = parser.parse_args(argv)
    if args.smoke:
        args.scale, args.pieces, args.seconds, args.visqol_pieces = "smoke", 2, 2.0, 1
        args.runs = args.runs if args.runs != "runs/bottlenecks" else "runs/bottlenecks-smoke"
    if not 1 <= args.jobs <= 64 or (args.steps is not None and not 1 <= args.steps <= 1_000_000):
        parser.error("--jobs must be in 1..64 and --steps in 1..1000000")
    if args.stop_after is not None and not 0 <= args.stop_after <= 10_000:
        parser.error("--stop-after must be in 0..10000 hours")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    root = Path(args.runs)
    check_kinds(args.kinds)
    if args.smoke:
        data_spec, sets = smoke_sets(root)
        holdout = ""
    else:
        if not (Path(args.corpus) / "manifest.json").is_file():
            raise SystemExit(f"{args.corpus}: no corpus; build it with "
                             f"snn-codec data synth-piano --out {args.corpus} --pieces 300")
        data_spec, holdout = f"synth:{args.corpus}", args.holdout
        sets = corpus_sets(Path(args.corpus), holdout, args.pieces)
    scale = SCALES[args.scale]
    data = bench_data(data_spec, holdout, scale)
    runs, impossible = plan(args.kinds, args.rates, args.seeds, scale, data, args.steps)
    records = Path(args.records) if args.records else (root / "records" if args.smoke else RECORDS)
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    torch.set_num_threads(threads)  # the evaluations run in this process, `jobs` at once
    deadline = time.monotonic() + (math.inf if args.stop_after is None else args.stop_after * 3600)
    with ThreadPoolExecutor(args.jobs) as pool:
        done = list(tqdm(pool.map(lambda run: process(run, root, records, sets, args, threads, deadline), runs),
                         total=len(runs), desc="runs", unit="run"))
    if args.train_only:
        return
    rows = [row for result in done if result is not None for row in result]
    missing = [run for run, result in zip(runs, done) if result is None]
    if not rows:
        raise SystemExit("no run has results yet; nothing to tabulate")
    results = Path(args.results) if args.results else (root / "results" if args.smoke else RESULTS)
    print(f"results: {write_results(results, rows, runs, missing, impossible, args)}")


if __name__ == "__main__":
    main()
