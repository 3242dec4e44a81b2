"""Integer spiking part: what integer weights and fixed-point inputs cost in rate and quality.

    python benchmarks/quantized.py [--model piano-v3] [--precisions 8:8 4:8 4:4] [--qat MODEL ...]
                                   [--corpus data/piano-multi] [--holdout csound_gm] [--crops 32]
                                   [--clips 6] [--seconds 20] [--out DIR]

Systems: the float model; post-training quantisation (PTQ) of it at each `weight_bits:input_bits` of
`--precisions` (the inputs' step calibrated on the rate probe: the one that changes the fewest events,
snn_codec/quantization.py); and the
quantisation-aware fine-tuned models of `--qat` (trained with `snn-codec train`, e.g.
configs/piano-v3-w4i4.yaml). Every quantised model is first put at the float model's rate the way a
deployed model would be (`snn-codec retarget`: one threshold offset, so that the in-domain validation
crops of `--corpus` code at the float model's rate on them).

Evaluation: `--clips` generated piano pieces rendered with MuseScore General (benchmarks/eval_set.py, a
soundfont no model trained or was tuned on), first `--seconds` s of each. kbps from the bytes written;
log-mel distance in dB; `delta_db`: the mean over clips of (quantised - float), with its 95 % interval.
`delta_equal_bytes_db` compresses each clip with `--kbps` at the float model's rate on that clip (the
thresholds moved for that file), so that both spend the same bytes. `integer_exact`: the integer
emulation (snn_codec.bottlenecks.integer) gave the model's own events on every clip.
Writes benchmarks/results/quantized.{md,json}.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, markdown_table, publish  # noqa: E402

import snn_codec  # noqa: E402
from snn_codec.audio import fit_length, resample, to_mono  # noqa: E402
from snn_codec.codec import Codec  # noqa: E402
from snn_codec.errors import CodecError  # noqa: E402
from snn_codec.eval.metrics import bitrate_kbps, log_mel_distance  # noqa: E402
from snn_codec.eval.stats import confidence_interval  # noqa: E402
from snn_codec.model_io import load_model  # noqa: E402
from snn_codec.quantization import (  # noqa: E402
    calibrate_input_frac_bits, integer_events, integer_layer, quantized_codec,
)
from snn_codec.rate import probe_kbps, trim_rate, validation_probe  # noqa: E402

FIRST_SEED = 101  # eval_set.py's piano seeds start here


@dataclass
class System:
    """A model in the comparison and how it got to the float model's rate."""

    name: str
    method: str  # "float", "PTQ" or "QAT"
    codec: Codec
    probe_kbps_before: float
    trim_offset: float = 0.0
    events_changed: float | None = None  # on the probe against the float model, before the trim (PTQ)


def parse_precision(text: str) -> tuple[int, int]:
    """"8:8" -> (weight_bits, input_bits); "8" -> (8, 0), weights alone."""
    try:
        parts = [int(p) for p in text.split(":")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 2):
        raise argparse.ArgumentTypeError(f"precision {text!r}: expected WEIGHT_BITS[:INPUT_BITS], e.g. 8:8")
    return parts[0], parts[1] if len(parts) == 2 else 0


def build_systems(float_codec: Codec, precisions: list[tuple[int, int]], qat: list[Codec],
                  probe: list[torch.Tensor]) -> list[System]:
    """The float model, its PTQ versions and the QAT models, each quantised one trimmed on `probe` to the
    float model's rate there."""
    target = probe_kbps(float_codec, probe)
    systems = [System(float_codec.config.name, "float", float_codec, target)]
    candidates = []
    for weight_bits, input_bits in precisions:
        calibration = calibrate_input_frac_bits(float_codec, probe, weight_bits, input_bits) if input_bits else None
        frac_bits = calibration.input_frac_bits if calibration else 0
        codec = quantized_codec(float_codec, weight_bits, input_bits, frac_bits)
        candidates.append((codec, "PTQ", calibration.events_changed if calibration else None))
    candidates += [(codec, "QAT", None) for codec in qat]
    for codec, method, changed in candidates:
        codec = copy.deepcopy(codec).eval()
        trim = trim_rate(codec, probe, target)
        name = codec.config.name
        if any(system.name == name for system in systems):  # a QAT run named like a PTQ model
            name = f"{name} ({method})"
        systems.append(System(name, method, codec, trim.kbps_before, trim.offset, changed))
    return systems


def measure(codec: Codec, clip: np.ndarray, rate: int, target_kbps: float | None = None) -> dict:
    """kbps from the bytes and log-mel distance of `clip` through `codec` (at `target_kbps` with --kbps)."""
    try:
        data = snn_codec.compress(clip, rate, model=codec, target_kbps=target_kbps)
    except CodecError as err:  # a rate the thresholds cannot reach for this clip
        return {"error": str(err)}
    decoded = fit_length(to_mono(snn_codec.decompress(data, model=codec).samples), len(clip))[0]
    return {"kbps": bitrate_kbps(len(data), len(clip) / rate), "log_mel_db": log_mel_distance(clip, decoded, rate)}


def is_integer_exact(codec: Codec, clip: np.ndarray, rate: int) -> bool | None:
    """Whether the integer emulation gives the model's own events on `clip` (None: no integer path)."""
    if not getattr(codec.bottleneck, "quantization", None) or not codec.bottleneck.quantization.is_integer:
        return None
    samples = resample(clip[None], rate, codec.config.sample_rate)[0]
    return bool(np.array_equal(integer_events(codec, samples), codec.encode(torch.from_numpy(samples)).numpy()))


def evaluate(systems: list[System], clips: list[tuple[str, np.ndarray]], rate: int) -> list[dict]:
    """One row per system and clip: own rate, and the float model's bytes on that clip (--kbps)."""
    rows = []
    for clip_name, clip in tqdm(clips, desc="clips", unit="clip"):
        reference = measure(systems[0].codec, clip, rate)
        rows.append({"system": systems[0].name, "clip": clip_name, **reference})
        for system in systems[1:]:
            own = measure(system.codec, clip, rate)
            equal = measure(system.codec, clip, rate, reference["kbps"])
            rows.append({"system": system.name, "clip": clip_name, **own,
                         "equal_bytes_kbps": equal.get("kbps"), "equal_bytes_log_mel_db": equal.get("log_mel_db"),
                         "integer_exact": is_integer_exact(system.codec, clip, rate)})
    return rows


def summarize(systems: list[System], rows: list[dict]) -> list[dict]:
    """One line per system: precision, mean kbps and log-mel, and paired deltas against the float model."""
    reference = {r["clip"]: r for r in rows if r["system"] == systems[0].name}
    summary = []
    for system in systems:
        mine = [r for r in rows if r["system"] == system.name and "kbps" in r]
        line = {"system": system.name, "method": system.method,
                "precision": system.codec.bottleneck.quantization.describe()
                if hasattr(system.codec.bottleneck, "quantization") else "float32",
                "probe_kbps_before_trim": system.probe_kbps_before, "trim_offset": system.trim_offset,
                "kbps": float(np.mean([r["kbps"] for r in mine])),
                "log_mel_db": float(np.mean([r["log_mel_db"] for r in mine]))}
        if system.events_changed is not None:
            line["events_changed_pct"] = 100 * system.events_changed
        if system.method != "float":
            delta = confidence_interval([r["log_mel_db"] - reference[r["clip"]]["log_mel_db"] for r in mine])
            equal = [r["equal_bytes_log_mel_db"] - reference[r["clip"]]["log_mel_db"] for r in mine
                     if r.get("equal_bytes_log_mel_db") is not None]
            equal_delta = confidence_interval(equal)
            exact = [r["integer_exact"] for r in mine if r["integer_exact"] is not None]
            line |= {"delta_db": delta.mean, "delta_ci": f"[{delta.low:+.3f}, {delta.high:+.3f}]",
                     "delta_equal_bytes_db": equal_delta.mean,
                     "delta_equal_bytes_ci": f"[{equal_delta.low:+.3f}, {equal_delta.high:+.3f}]",
                     "equal_bytes_clips": f"{len(equal)}/{len(mine)}",
                     "integer_exact": (f"{sum(exact)}/{len(exact)}" if exact else "n/a")}
            if system.codec.bottleneck.quantization.is_integer:
                layer = integer_layer(system.codec)
                line |= {"accumulator_bits": layer.accumulator_bits,
                         "weight_kib": layer.weights.size * layer.weight_bits / 8 / 1024}
        summary.append(line)
    return summary


def piano_clips(count: int, seconds: float, sample_rate: int) -> list[tuple[str, np.ndarray]]:
    """`count` MuseScore General piano clips from benchmarks/eval_set.py (needs benchmarks/setup.sh)."""
    from eval_set import piano_clip

    with tempfile.TemporaryDirectory(prefix="snn_quantized_") as tmp:
        clips = [piano_clip(Path(tmp), FIRST_SEED + i, seconds, sample_rate) for i in range(count)]
    return [(clip.name, clip.samples) for clip in clips]


COLUMNS = ["system", "method", "precision", "events_changed_pct", "kbps", "log_mel_db", "delta_db", "delta_ci",
           "delta_equal_bytes_db", "delta_equal_bytes_ci", "integer_exact", "accumulator_bits", "weight_kib"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="piano-v3")
    parser.add_argument("--precisions", nargs="*", type=parse_precision, default=[(8, 8), (4, 8), (4, 4)])
    parser.add_argument("--qat", nargs="*", default=[], help="quantised models fine-tuned with snn-codec train")
    parser.add_argument("--corpus", default="data/piano-multi", help="its in-domain validation crops set the rate")
    parser.add_argument("--holdout", default="csound_gm", help="the soundfont the probe leaves out")
    parser.add_argument("--crops", type=int, default=32)
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--sample-rate", type=int, default=44100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not (1 <= args.clips <= 100 and 0 < args.seconds <= 600 and 1 <= args.crops <= 1000):
        raise SystemExit("--clips must be in 1..100, --seconds in (0, 600] and --crops in 1..1000")
    torch.set_num_threads(args.threads)
    float_codec = load_model(args.model)
    probe = validation_probe(f"synth:{args.corpus}", float_codec.config.sample_rate, float_codec.config.hop_length,
                             crops=args.crops, exclude_soundfont=args.holdout)
    systems = build_systems(float_codec, args.precisions, [load_model(m) for m in args.qat], probe)
    rows = evaluate(systems, piano_clips(args.clips, args.seconds, args.sample_rate), args.sample_rate)
    summary = summarize(systems, rows)
    publish(
        "quantized", "Integer spiking part: rate and quality of each precision",
        f"Float model {args.model}. PTQ: quantised after training; QAT: fine-tuned with the quantisation in "
        f"the loop. Each quantised model trimmed to the float model's rate ({systems[0].probe_kbps_before:.3f} "
        f"kbps) on {args.crops} in-domain validation crops (4 s) of {args.corpus}, without {args.holdout}. "
        f"Evaluated on {args.clips} MuseScore General piano pieces (unseen timbre), first {args.seconds:g} s "
        "each: kbps from the bytes, log-mel distance in dB (lower is better), `delta_db` = quantised - float per "
        "clip, mean and 95 % interval; `delta_equal_bytes_db`: the same with each clip compressed by the "
        "quantised model at the float model's bytes on that clip (`--kbps`). `integer_exact`: clips on which "
        "the integer emulation gave the model's own events bit for bit; `events_changed_pct`: events of the "
        "probe that PTQ changed before the trim (the input step minimises it); `accumulator_bits`: the signed width "
        "that holds every accumulator value and threshold; `weight_kib`: the integer weights' memory.",
        markdown_table(summary, COLUMNS),
        {"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}, "summary": summary,
         "clips": rows},
        out=args.out,
    )


if __name__ == "__main__":
    main()
