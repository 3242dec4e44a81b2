"""The codec comparison: every shipped model, classical codecs and neural speed peers on one evaluation set.

    python benchmarks/run.py [--quick] [--no-visqol] [--systems NAME ...] [--model PATH ...] [--audio FILE ...]

Systems: the shipped snn_codec models (and any `--model` files); Opus at 6/8/12 kbps, MP3 at 8/16 kbps
and codec2 at 1.2/3.2 kbps through their command-line tools; the EnCodec and DAC architectures with random
weights, for speed only (their quality is quoted from their papers). `--systems` takes names or the groups
`snn`, `classical` and `peers`.

Evaluation set (benchmarks/eval_set.py, generated here): piano rendered with the MuseScore General
soundfont, which no training corpus uses, orchestral and other General MIDI instruments, and synthetic
speech; `--audio` replaces it with your own files. Quality metrics are those of snn_codec.eval.metrics,
against the clip at its own rate (ViSQOL on the first `--visqol-seconds`, default 5: it is slow); bitrate
comes from the bytes of each system's file. Speed is measured on the first clip with `--threads` torch
threads (default 1), best of 3 (2 for the peers, on at most its first 5 s).

Writes benchmarks/results/comparison.{json,csv,md}, comparison_*.png and summary.md (for the README);
`--quick` (one short clip per domain) writes to benchmarks/results/tmp/ unless `--out` is given.
Needs `bash benchmarks/setup.sh` first (soundfont, speech synthesisers, codec tools, peer packages).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import (RESULTS, classical_speed_row, load_peers, model_kind, model_speed_rows,  # noqa: E402
                    peer_speed_row)
from eval_set import Clip, build_eval_set  # noqa: E402
from peers import PEERS, Peer  # noqa: E402
from report import write_outputs  # noqa: E402

import snn_codec  # noqa: E402
from snn_codec.audio import load_audio, to_mono  # noqa: E402
from snn_codec.codec import Codec  # noqa: E402
from snn_codec.errors import CodecError  # noqa: E402
from snn_codec.eval.classical import CLASSICAL_CODECS, check_tools, run_classical  # noqa: E402
from snn_codec.eval.metrics import quality_report, visqol_moslqo  # noqa: E402
from snn_codec.model_io import shipped_models  # noqa: E402

GROUPS = ("snn", "classical", "peers")
PEER_SECONDS = 5.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one short clip per domain (a smoke run)")
    parser.add_argument("--no-visqol", action="store_true", help="skip ViSQOL (about 1.7 s per second of audio)")
    parser.add_argument("--systems", nargs="+", default=list(GROUPS), help="system names or groups: snn classical peers")
    parser.add_argument("--model", action="append", default=[], type=Path, help="an extra .safetensors model")
    parser.add_argument("--audio", action="append", default=[], type=Path, help="evaluate on this file instead")
    parser.add_argument("--seconds", type=float, help="clip length (default 10, 4 with --quick)")
    parser.add_argument("--visqol-seconds", type=float, default=5.0, help="ViSQOL on this first part of each clip")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for the neural systems")
    parser.add_argument("--out", type=Path, help="results folder (default benchmarks/results)")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (4.0 if args.quick else 10.0)
    args.out = args.out or (RESULTS / "tmp" if args.quick else RESULTS)
    return args


def select_systems(requested: list[str], extra_models: list[Path]) -> tuple[dict[str, Codec], list[str], list[str]]:
    """Resolves `--systems` into loaded snn_codec models, classical codec names and peer names."""
    models = {name: snn_codec.load_model(name) for name in shipped_models()}
    for path in extra_models:
        codec = snn_codec.load_model(path)
        models[codec.config.name] = codec
    known = {*models, *CLASSICAL_CODECS, *PEERS, *GROUPS}
    unknown = [name for name in requested if name not in known]
    if unknown:
        raise CodecError(f"unknown systems {unknown}; choose from {sorted(known)}")
    wanted = lambda name, group: name in requested or group in requested  # noqa: E731
    return ({n: c for n, c in models.items() if wanted(n, "snn")},
            [n for n in CLASSICAL_CODECS if wanted(n, "classical")], [n for n in PEERS if wanted(n, "peers")])


def load_clips(args: argparse.Namespace) -> list[Clip]:
    """The generated evaluation set, or the `--audio` files (mono, cut to `--seconds`)."""
    if not args.audio:
        return build_eval_set(args.seconds, quick=args.quick)
    clips = []
    for path in args.audio:
        audio = load_audio(path)
        samples = to_mono(audio.samples)[0][: int(args.seconds * audio.sample_rate)]
        clips.append(Clip(path.stem, "user", samples, audio.sample_rate, f"user file {path}"))
    return clips


def evaluate_model(name: str, codec: Codec, clip: Clip) -> tuple[dict, np.ndarray]:
    """One clip through an snn_codec model. Returns the row (rate, events) and the decoded audio."""
    data = snn_codec.compress(clip.samples, clip.sample_rate, model=codec)
    decoded = snn_codec.decompress(data, model=codec).samples[0]
    info = snn_codec.inspect(data)
    row = {"system": name, "kind": model_kind(codec), "bytes": info.total_bytes, "kbps": info.bitrate_kbps}
    if row["kind"] == "spiking":
        row.update(events_per_s=info.events_per_s, firing_rate=info.firing_rate)
    return row, decoded


def evaluate_classical(name: str, clip: Clip) -> tuple[dict, np.ndarray]:
    result = run_classical(name, clip.samples, clip.sample_rate)
    return {"system": name, "kind": "classical", "bytes": result.num_bytes, "kbps": result.bitrate_kbps}, result.audio


def quality_rows(clips: list[Clip], models: dict[str, Codec], classical: list[str],
                 visqol_seconds: float | None) -> list[dict]:
    """Every (system, clip) pair: rate from the bytes written, and the metrics of snn_codec.eval.metrics
    (ViSQOL on the first `visqol_seconds` of each clip; None skips it)."""
    rows = []
    for clip in clips:
        runs = [lambda n=n, c=c: evaluate_model(n, c, clip) for n, c in models.items()]
        runs += [lambda n=n: evaluate_classical(n, clip) for n in classical]
        for run in runs:
            row, decoded = run()
            row.update(clip=clip.name, domain=clip.domain, duration_s=clip.duration_s)
            row.update(quality_report(clip.samples, decoded, clip.sample_rate, with_visqol=False))
            if visqol_seconds:
                part = int(visqol_seconds * clip.sample_rate)
                row["visqol"] = visqol_moslqo(clip.samples[:part], decoded[:part], clip.sample_rate)
            rows.append(row)
            print(f"  {clip.name:16s} {row['system']:16s} {row['kbps']:6.2f} kbps  log-mel {row['log_mel_db']:5.2f} dB"
                  + (f"  ViSQOL {row['visqol']:.2f}" if row.get("visqol") is not None else ""), flush=True)
    return rows


def speed_rows(clip: Clip, models: dict[str, Codec], classical: list[str], peers: list[Peer]) -> list[dict]:
    """Real-time factors (audio seconds / wall seconds) of every system on one clip."""
    rows = [row for name, codec in models.items()
            for row in model_speed_rows(name, codec, clip.samples, clip.sample_rate)]
    rows += [classical_speed_row(name, clip.samples, clip.sample_rate) for name in classical]
    # at most PEER_SECONDS, best of 2: DAC runs below real time on one thread
    rows += [peer_speed_row(peer, clip.samples, clip.sample_rate, PEER_SECONDS, repeats=2) for peer in peers]
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    try:
        models, classical, peer_names = select_systems(args.systems, args.model)
        for name in classical:
            check_tools(CLASSICAL_CODECS[name])
        print("building the evaluation set ...", flush=True)
        clips = load_clips(args)
    except CodecError as err:
        print(f"run.py: error: {err}", file=sys.stderr)
        return 1
    peers, unavailable = load_peers(peer_names)
    print(f"quality: {len(clips)} clips x {len(models) + len(classical)} systems", flush=True)
    rows = quality_rows(clips, models, classical, None if args.no_visqol else args.visqol_seconds)
    print("speed ...", flush=True)
    speed = speed_rows(clips[0], models, classical, peers)
    command = "python benchmarks/run.py" + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:]))
    paths = write_outputs(args.out, command, clips, rows, speed, unavailable, time.perf_counter() - started)
    print("written: " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
