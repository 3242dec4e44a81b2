"""The speed benchmark: snn_codec against Opus, codec2 and EnCodec on the same audio, and the start-up cost.

    python benchmarks/speed.py [--model NAME_OR_PATH ...] [--seconds 10] [--repeats 3] [--out DIR]

Systems: the default model (or each `--model`) through `snn_codec.compress` and `snn_codec.decompress`,
decoded with precision "float32" and "auto"; Opus at 6 kbps and codec2 at 1200 bps through their programs;
EnCodec's 24 kHz architecture with random weights (speed only). Each runs with 1 torch thread and with
all, and is reported as x real time (audio seconds / wall seconds, best of `--repeats`) of encode, decode
and the round trip (encode + decode); "vs opus-6" divides a row's round trip by Opus 6's at the same
thread count, measured in the same run so that a busy machine slows both. A codec whose program or
package is missing is left out, with the reason.

Audio: the comparison's first evaluation clip (benchmarks/eval_set.py: MuseScore General piano, 44.1 kHz)
when the soundfont is installed (bash benchmarks/setup.sh), else the bundled example (snn_codec.EXAMPLE);
mono, cut to `--seconds`.

Start-up: `python -c pass`, `python -c "import snn_codec"` and `snn-codec --help` in fresh processes, and
`snn-codec compress` then `snn-codec decompress` of the clip's first STARTUP_CLIP_S seconds.

Writes benchmarks/results/speed.{md,json,png} (or into `--out`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import (RESULTS, best_time, classical_speed_row, command_line, load_peers, machine,  # noqa: E402
                    model_speed_rows, peer_speed_row, write_results)
from eval_set import Clip, build_eval_set  # noqa: E402
from report import markdown_table  # noqa: E402

import snn_codec  # noqa: E402
from snn_codec.audio import load_audio, save_audio, to_mono  # noqa: E402
from snn_codec.codec import Codec, native_bfloat16  # noqa: E402
from snn_codec.errors import CodecError  # noqa: E402
from snn_codec.eval.plots import pyplot, save_png  # noqa: E402
from snn_codec.model_io import DEFAULT_MODEL  # noqa: E402

CLASSICAL = ("opus-6", "codec2-1200")
PEERS = ("encodec-24khz",)
REFERENCE = "opus-6"  # the round trips are also given as a ratio to this one's
PRECISIONS = ("float32", "auto")
STARTUP_CLIP_S = 3.0
HEADERS = {"encode_x_realtime": "encode", "decode_x_realtime": "decode", "round_trip_x_realtime": "round trip",
           "round_trip_vs_reference": f"round trip vs {REFERENCE}"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", default=None, metavar="NAME_OR_PATH",
                        help=f"an snn_codec model, repeatable (default {DEFAULT_MODEL})")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the audio (default 10)")
    parser.add_argument("--repeats", type=int, default=3, help="every time is the best of this many runs")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder (default benchmarks/results)")
    args = parser.parse_args(argv)
    args.model = args.model or [DEFAULT_MODEL]
    if args.seconds <= 0 or args.repeats < 1:
        parser.error("--seconds must be positive and --repeats at least 1")
    return args


def load_clip(seconds: float) -> Clip:
    """The first piano clip of the evaluation set, else the bundled example (its `source` says why)."""
    try:
        return build_eval_set(seconds, quick=True, domains=("piano",))[0]
    except CodecError as err:
        audio = load_audio(snn_codec.EXAMPLE)
        samples = to_mono(audio.samples)[0][: int(seconds * audio.sample_rate)]
        return Clip("piano_example", "piano", samples, audio.sample_rate,
                    f"the bundled example (snn_codec.EXAMPLE), as the evaluation clip is not available: {err}")


def auto_precision() -> str:
    """What precision="auto" decodes in on this machine."""
    return "bfloat16" if native_bfloat16() else "float32"


def decoder_label(row: dict) -> str:
    """"float32", "auto: bfloat16" (what auto decoded in here) or "" for the other codecs."""
    if "decode_precision" not in row:
        return ""
    return row["decode_precision"] + (f": {row['decoded_in']}" if "decoded_in" in row else "")


def system_rows(clip: Clip, models: dict[str, Codec], threads: list[int],
                repeats: int) -> tuple[list[dict], dict[str, str]]:
    """Every system's speed rows at each torch thread count, and the reason for each system left out."""
    peers, unavailable = load_peers(list(PEERS))
    rows, restore = [], torch.get_num_threads()
    for count in threads:
        torch.set_num_threads(count)
        print(f"{count} thread(s) ...", flush=True)
        block = [row for name, codec in models.items()
                 for row in model_speed_rows(name, codec, clip.samples, clip.sample_rate, PRECISIONS, repeats)]
        for name in CLASSICAL:
            if name in unavailable:
                continue
            try:
                block.append(classical_speed_row(name, clip.samples, clip.sample_rate, repeats))
            except CodecError as err:  # a missing program names its package
                unavailable[name] = str(err)
                print(f"  {name}: unavailable: {err}", file=sys.stderr)
        block += [peer_speed_row(peer, clip.samples, clip.sample_rate, repeats=repeats) for peer in peers]
        reference = next((r["round_trip_x_realtime"] for r in block if r["system"] == REFERENCE), None)
        for row in block:
            row.update(threads=count, round_trip_vs_reference=None if reference is None
                       else row["round_trip_x_realtime"] / reference)
            if row.get("decode_precision") == "auto":
                row["decoded_in"] = auto_precision()
        rows += block
    torch.set_num_threads(restore)
    return rows, unavailable


def startup_rows(model: str, clip: Clip, repeats: int) -> list[dict]:
    """Wall seconds of fresh processes (best of `repeats`): the interpreter alone, `import snn_codec`,
    `snn-codec --help`, and a whole compress then decompress of the clip's first STARTUP_CLIP_S seconds."""
    cli = Path(sys.executable).with_name("snn-codec")
    snn_codec_cli = [str(cli)] if cli.exists() else [sys.executable, "-m", "snn_codec"]
    seconds = min(STARTUP_CLIP_S, clip.duration_s)
    with tempfile.TemporaryDirectory(prefix="snn_speed_") as tmp:
        wav, snnc, decoded = Path(tmp) / "clip.wav", Path(tmp) / "clip.snnc", Path(tmp) / "clip.decoded.wav"
        save_audio(wav, clip.samples[: int(seconds * clip.sample_rate)], clip.sample_rate)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            'python -c "import snn_codec"': [sys.executable, "-c", "import snn_codec"],
            "snn-codec --help": [*snn_codec_cli, "--help"],
            f"snn-codec compress ({seconds:g} s clip)": [*snn_codec_cli, "compress", str(wav), str(snnc),
                                                         "--model", model, "--force"],
            f"snn-codec decompress ({seconds:g} s clip)": [*snn_codec_cli, "decompress", str(snnc), str(decoded),
                                                           "--model", model, "--force"],
        }
        rows = [{"command": label, "wall_s": best_time(lambda: _run(label, command), repeats)}
                for label, command in commands.items()]
    rows.append({"command": "compress + decompress", "wall_s": rows[-2]["wall_s"] + rows[-1]["wall_s"]})
    return rows


def _run(label: str, command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise CodecError(f"{label} failed (exit {result.returncode}): {result.stderr.strip()[-500:]}")


def load_average() -> float | None:
    """The machine's load over the minute before the run (None where the system does not tell)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def describe_load(load: float | None) -> str:
    """A sentence on the load: other processes make every time slower and noisier."""
    if load is None:
        return ""
    cpus = os.cpu_count() or 1
    busy = (": other processes were using the CPU, so the times are slower and noisier than on an idle machine; "
            "the ratios to Opus, measured alongside, are the steadier numbers") if load >= 0.5 * cpus else ""
    return f" Load average {load:.1f} over the minute before the run, on {cpus} CPU threads{busy}."


def to_markdown(command: str, info: dict, load: float | None, clip: Clip, rows: list[dict], unavailable: dict[str, str],
                startup: list[dict], repeats: int) -> str:
    auto = auto_precision()
    display = [r | {"decoder": decoder_label(r)} for r in rows]
    missing = [f"- {name}: not measured: {reason}" for name, reason in unavailable.items()]
    return "\n".join([
        "# Speed: snn_codec against Opus, codec2 and EnCodec", "", command, "",
        f"Machine: {info['cpu']}, {info['threads_available']} torch threads available, torch {info['torch']}, "
        f"Python {info['python']}.{describe_load(load)}", "",
        f"Audio: {clip.name}, {clip.duration_s:g} s, mono, {clip.sample_rate} Hz ({clip.source}).", "",
        "## Encode, decode, round trip", "",
        f"x real time = audio seconds / wall seconds, best of {repeats}; higher is faster. Round trip = encode + "
        f"decode; \"round trip vs {REFERENCE}\" = the row's round trip / {REFERENCE}'s at the same thread count "
        "(above 1: faster than Opus). snn_codec rows go through snn_codec.compress and snn_codec.decompress "
        "(resampling to and from the model's rate included); their rate comes from the bytes of the .snnc. "
        f"Decoder \"auto\" decodes in {auto} on this machine (bfloat16 where the CPU multiplies it natively: "
        f"snn_codec.codec.native_bfloat16() is {native_bfloat16()}). Opus and codec2 are their command-line "
        "programs timed as whole processes (start-up and file I/O included), one thread whatever the count. "
        "EnCodec is its 24 kHz architecture with random weights, for speed only (nominal rate); its input is "
        "resampled to 24 kHz before the clock starts.", "",
        markdown_table(display, ["threads", "system", "decoder", "kbps", "encode_x_realtime", "decode_x_realtime",
                                 "round_trip_x_realtime", "round_trip_vs_reference"], HEADERS), "",
        *([*missing, ""] if missing else []),
        "## Start-up", "",
        f"Wall seconds of fresh processes, best of {repeats}: what a user waits before anything is coded, "
        "then a whole command on a short clip (model loading included).", "",
        markdown_table(startup, ["command", "wall_s"], {"wall_s": "wall seconds"}), "",
    ])


def plot(path: Path, rows: list[dict], threads: list[int]) -> Path:
    """Encode, decode and round trip x real time of every row, one panel per thread count (log scale)."""
    plt = pyplot()
    count = max(sum(r["threads"] == t for r in rows) for t in threads)
    fig, axes = plt.subplots(1, len(threads), figsize=(5.5 * len(threads), 0.55 * count + 1.6), sharex=True,
                             squeeze=False, constrained_layout=True)
    for ax, threads_used in zip(axes[0], threads):
        block = [r for r in rows if r["threads"] == threads_used]
        y = np.arange(len(block))
        for offset, key, label in ((-0.27, "encode_x_realtime", "encode"), (0.0, "decode_x_realtime", "decode"),
                                   (0.27, "round_trip_x_realtime", "round trip")):
            ax.barh(y + offset, [r[key] for r in block], height=0.27, label=label)
        ax.set_yticks(y, [r["system"] + (f" ({decoder_label(r)})" if decoder_label(r) else "") for r in block])
        ax.invert_yaxis()  # the table's order, top down
        ax.set_xscale("log")
        ax.axvline(1.0, color="black", lw=0.8)
        ax.set_title(f"{threads_used} torch thread{'s' if threads_used > 1 else ''}")
        ax.set_xlabel("x real time (higher is faster)")
    axes[0][0].legend(fontsize=8)
    return save_png(fig, path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started, load, info = time.perf_counter(), load_average(), machine()
    threads = sorted({1, os.cpu_count() or 1})
    try:
        models = {}
        for name in args.model:
            codec = snn_codec.load_model(name)
            models[codec.config.name] = codec
        clip = load_clip(args.seconds)
    except CodecError as err:
        print(f"speed.py: error: {err}", file=sys.stderr)
        return 1
    print(f"audio: {clip.name}, {clip.duration_s:g} s at {clip.sample_rate} Hz", flush=True)
    rows, unavailable = system_rows(clip, models, threads, args.repeats)
    print("start-up ...", flush=True)
    startup = startup_rows(args.model[0], clip, args.repeats)
    command = command_line("speed.py", sys.argv[1:] if argv is None else argv)
    markdown = to_markdown(command, info, load, clip, rows, unavailable, startup, args.repeats)
    payload = {"command": command.strip("`"), "machine": info, "load_average_1min": load,
               "elapsed_s": time.perf_counter() - started, "audio": {"name": clip.name, "source": clip.source, "duration_s": clip.duration_s,
                         "sample_rate": clip.sample_rate},
               "threads": threads, "auto_precision": auto_precision(), "repeats": args.repeats, "speed": rows,
               "unavailable": unavailable, "startup": startup}
    print(markdown)
    paths = [write_results("speed", payload, markdown, args.out), plot(args.out / "speed.png", rows, threads)]
    print("written: " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
