"""Helpers shared by the benchmark scripts: timing, speed rows, tables, result files."""

from __future__ import annotations

import json
import platform
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

import snn_codec
from snn_codec.audio import fit_length, resample
from snn_codec.codec import Codec
from snn_codec.eval.classical import run_classical

from peers import Peer, PeerUnavailable, load_peer  # benchmarks/ is on the path of whoever imports this module

RESULTS = Path(__file__).parent / "results"


def best_time(fn: Callable[[], object], repeats: int = 3) -> float:
    """The fastest of `repeats` wall-clock runs in seconds (the least disturbed by a noisy machine)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def model_input(codec: Codec, samples: np.ndarray, rate: int) -> tuple[torch.Tensor, int]:
    """Mono `samples` at `rate` as the model takes them: at its rate, padded to whole frames, (1, 1, S); and
    their length before the padding."""
    audio = resample(samples[None], rate, codec.config.sample_rate)[0]
    padded = fit_length(audio, -(-len(audio) // codec.hop_length) * codec.hop_length)
    return torch.from_numpy(padded).view(1, 1, -1), len(audio)


@torch.inference_mode()
def forward_pass(codec: Codec, samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono `samples` at `rate` through the model's forward pass (no bitstream), back at `rate`."""
    audio, length = model_input(codec, samples, rate)
    decoded = codec(audio).audio[0, 0].numpy()[:length]
    return fit_length(resample(decoded[None], codec.config.sample_rate, rate)[0], len(samples))


def model_kind(codec: Codec) -> str:
    return "vq" if getattr(codec.bottleneck, "stores_indices", False) else "spiking"


def speed_row(system: str, kind: str, sample_rate: int, kbps: float, duration_s: float, encode_s: float,
              decode_s: float) -> dict:
    """A speed row: real-time factors (audio seconds / wall seconds) of encoding, decoding and both."""
    return {"system": system, "kind": kind, "sample_rate": sample_rate, "kbps": kbps,
            "encode_x_realtime": duration_s / encode_s, "decode_x_realtime": duration_s / decode_s,
            "round_trip_x_realtime": duration_s / (encode_s + decode_s)}


def model_speed_rows(name: str, codec: Codec, samples: np.ndarray, sample_rate: int,
                     precisions: tuple[str, ...] = ("auto",), repeats: int = 3) -> list[dict]:
    """An snn_codec model through the public API (`snn_codec.compress` / `decompress`), best of `repeats`.

    Args:
        samples: (S,) mono audio at `sample_rate` Hz; the model resamples it (inside the timed calls).
        precisions: the decoder precisions to time, one row each; they share the encode time.

    Returns:
        One speed row per precision, with `decode_precision`; the rate comes from the bytes of the file.
    """
    data = snn_codec.compress(samples, sample_rate, model=codec)
    encode_s = best_time(lambda: snn_codec.compress(samples, sample_rate, model=codec), repeats)
    kbps, duration_s = snn_codec.inspect(data).bitrate_kbps, len(samples) / sample_rate
    rows = []
    for precision in precisions:
        decode_s = best_time(lambda: snn_codec.decompress(data, model=codec, precision=precision), repeats)
        row = speed_row(name, model_kind(codec), codec.config.sample_rate, kbps, duration_s, encode_s, decode_s)
        rows.append(row | {"decode_precision": precision})
    return rows


def classical_speed_row(name: str, samples: np.ndarray, sample_rate: int, repeats: int = 3) -> dict:
    """A classical codec's encoder and decoder programs, timed as whole processes, best of `repeats`.

    Raises:
        CodecError: its tools are not installed (the message names the package), or one failed.
    """
    runs = [run_classical(name, samples, sample_rate) for _ in range(repeats)]
    return speed_row(name, "classical", sample_rate, runs[0].bitrate_kbps, len(samples) / sample_rate,
                     min(r.encode_s for r in runs), min(r.decode_s for r in runs))


def peer_speed_row(peer: Peer, samples: np.ndarray, sample_rate: int, max_seconds: float | None = None,
                   repeats: int = 3) -> dict:
    """A neural peer on (at most the first `max_seconds` of) `samples`, resampled to its rate beforehand."""
    if max_seconds is not None:
        samples = samples[: int(max_seconds * sample_rate)]
    audio = torch.from_numpy(resample(samples[None], sample_rate, peer.sample_rate))[None]  # (1, 1, S)
    with torch.inference_mode():
        codes = peer.encode(audio)
        encode_s = best_time(lambda: peer.encode(audio), repeats)
        decode_s = best_time(lambda: peer.decode(codes), repeats)
    row = speed_row(peer.name, "peer (random weights)", peer.sample_rate, peer.bitrate_kbps,
                    audio.shape[-1] / peer.sample_rate, encode_s, decode_s)
    return row | {"parameters": peer.parameters, "quoted_quality": peer.quoted_quality}


def load_peers(names: list[str]) -> tuple[list[Peer], dict[str, str]]:
    """The peers that can be built here, and the reason for each one that cannot."""
    peers, unavailable = [], {}
    for name in names:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # their weight_norm calls are deprecated in recent torch
                peers.append(load_peer(name))
        except PeerUnavailable as err:
            unavailable[name] = str(err)
            print(f"  {name}: unavailable: {err}", file=sys.stderr)
    return peers, unavailable


def machine() -> dict[str, object]:
    return {
        "cpu": platform.processor() or platform.machine(),
        "threads_available": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def markdown_table(rows: list[dict[str, object]], columns: list[str]) -> str:
    def cell(value: object) -> str:
        return f"{value:.3g}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def command_line(script: str | None = None, argv: list[str] | None = None) -> str:
    """The command that ran this benchmark, as markdown code: what a results file says regenerates it.
    `script` (a file name in benchmarks/) and `argv` default to the running program's (a test passes its own)."""
    script = script or Path(sys.argv[0]).name
    argv = sys.argv[1:] if argv is None else argv
    return "`" + " ".join(["python", f"benchmarks/{script}", *argv]) + "`"


def write_results(name: str, payload: dict, markdown: str, out: Path | None = None) -> Path:
    """Writes OUT/NAME.json and OUT/NAME.md (OUT: benchmarks/results by default); returns the markdown's path."""
    out = out or RESULTS
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(payload, indent=2))
    path = out / f"{name}.md"
    path.write_text(markdown)
    return path


def publish(name: str, title: str, intro: str, table: str, payload: dict, out: Path | None = None) -> str:
    """Writes OUT/NAME.md (title, the command that ran, `intro`, `table`) and NAME.json (`payload` and
    the machine; OUT: benchmarks/results by default), prints the markdown and returns it."""
    markdown = "\n".join([f"# {title}", "", command_line(), "", intro, "", table, ""])
    print(markdown)
    write_results(name, {"machine": machine(), **payload}, markdown, out)
    return markdown
