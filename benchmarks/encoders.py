"""Encoder candidates: the speed and quality of models that differ in their encoder, on the same clips.

    python benchmarks/encoders.py [--model piano-v3 --model runs/piano-v5/model.safetensors ...]
                                  [--clips 6] [--seconds 10] [--visqol-seconds 5]

For each model, on one thread: the encoder alone (x real time on 20 s of audio, best of 3), then the whole
codec through the public API on the first clip (compress, and decompress with the decoder in float32 and
in "auto" precision), Opus at 6 kbps timed in the same run as the reference; and its quality on piano
rendered with MuseScore General, a timbre no model was trained on (kbps from the bytes, log-mel distance,
ViSQOL, the diagnostics of benchmarks/ceiling.py); and how many events change when the audio is inverted
or delayed by 1 ms (what a magnitude-spectrum encoder cannot imitate when distilled).
Writes benchmarks/results/encoders.{json,md} (with --kbps, encoders-KBPSkbps.{json,md}).
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
from common import best_time, classical_speed_row, markdown_table, model_speed_rows, publish  # noqa: E402
from eval_set import piano_clip  # noqa: E402

from snn_codec.audio import resample  # noqa: E402
from snn_codec.codec import Codec, native_bfloat16  # noqa: E402
from snn_codec.errors import CodecError  # noqa: E402
from snn_codec.model_io import load_model  # noqa: E402

ENCODER_SECONDS = 20.0
REFERENCE = "opus-6"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", default=None,
                        help="a shipped model name or .safetensors path (repeatable; default piano-v3)")
    add_clip_arguments(parser)
    parser.add_argument("--kbps", type=float, default=None,
                        help="code every clip at this rate (spiking models move their thresholds per clip) to "
                             "compare quality at equal bits; results go to encoders-KBPSkbps.{md,json}")
    parser.add_argument("--match-rate", action="store_true",
                        help="code each clip with every other model at the rate the first --model codes it at "
                             "natively (quality at equal bits, clip by clip); results go to encoders-matched.{md,json}")
    parser.add_argument("--out", type=Path, default=None, help="results folder (default benchmarks/results)")
    return parser.parse_args(argv)


def describe_encoder(codec: Codec) -> str:
    encoder = codec.config.encoder
    if encoder.kind == "stft":
        return (f"STFT {codec.encoder.n_fft}/{codec.encoder.hop} x{encoder.stft_frames}, "
                f"{encoder.layers} ConvNeXt x {encoder.dim} at {codec.config.frame_rate} Hz")
    first = f"patch {encoder.patch}, " if encoder.patch > 1 else ""
    return f"waveform conv, {first}channels {list(encoder.channels)}"


@torch.inference_mode()
def event_sensitivity(codec: Codec, samples: np.ndarray) -> dict[str, float]:
    """The fraction of a clip's events that change when its polarity is inverted or it is delayed by 1 ms:
    what an encoder that sees only magnitude spectra cannot imitate (edges of the delay excluded)."""
    audio = resample(samples[None], CLIP_RATE, codec.config.sample_rate)[0]
    audio = torch.from_numpy(audio[: len(audio) // codec.hop_length * codec.hop_length].copy())
    events = codec.encode(audio)
    delay = codec.config.sample_rate // 1000
    delayed = codec.encode(torch.cat([torch.zeros(delay), audio[:-delay]]))
    inner = slice(2, -2)
    return {"flipped_by_polarity": float((codec.encode(-audio) != events).float().mean()),
            "flipped_by_1ms_delay": float((delayed[:, inner] != events[:, inner]).float().mean())}


@torch.inference_mode()
def encoder_x_realtime(codec: Codec) -> float:
    """The encoder alone on 20 s of noise at the model's rate (its cost does not depend on the content)."""
    audio = 0.1 * torch.randn(1, 1, int(ENCODER_SECONDS * codec.config.sample_rate))
    return ENCODER_SECONDS / best_time(lambda: codec.encoder(audio))


def speed(models: dict[str, Codec], samples: np.ndarray) -> tuple[list[dict], str | None]:
    """Encoder alone, and compress / decompress through the API (float32 and auto), against Opus 6; with
    the reason Opus 6 could not run, if it could not (its ratios are then left out)."""
    try:
        reference, missing = classical_speed_row(REFERENCE, samples, CLIP_RATE), None
    except CodecError as err:
        reference, missing = None, str(err)
    rows = []
    for name, codec in models.items():
        timed = model_speed_rows(name, codec, samples, CLIP_RATE, precisions=("float32", "auto"))
        row = {"system": name, "encoder": describe_encoder(codec),
               "encoder_parameters": sum(p.numel() for p in codec.encoder.parameters()),
               "encoder_x_realtime": encoder_x_realtime(codec), **event_sensitivity(codec, samples)}
        for entry in timed:
            suffix = "_f32" if entry["decode_precision"] == "float32" else ""
            row |= {"encode_x_realtime": entry["encode_x_realtime"],
                    f"decode_x_realtime{suffix}": entry["decode_x_realtime"],
                    f"round_trip_x_realtime{suffix}": entry["round_trip_x_realtime"]}
        if reference is not None:
            row["round_trip_vs_opus_6"] = row["round_trip_x_realtime"] / reference["round_trip_x_realtime"]
        rows.append(row)
    if reference is not None:
        rows.append({"system": REFERENCE, **{k: reference[k] for k in
                                             ("encode_x_realtime", "decode_x_realtime", "round_trip_x_realtime")},
                     "round_trip_vs_opus_6": 1.0})
    return rows, missing


def quality_rows(clips: list, models: dict[str, Codec], args: argparse.Namespace) -> tuple[list[dict], list[str]]:
    """The quality rows of every model on every clip: at their own rates, at `--kbps`, or (`--match-rate`)
    at the rate the first model codes each clip at; and why clips were left out.

    A clip that some model cannot code at the rate asked (its thresholds do not reach it) is left out for
    every model, so that the means compare the same clips at the same rates.
    """
    if not (args.match_rate or args.kbps):
        return evaluate(clips, dict(models), args.visqol_seconds)[0], []
    (first, reference), *others = models.items()
    rows, left_out = [], []
    for clip in clips:
        try:
            if args.kbps:
                rows += evaluate([clip], dict(models), args.visqol_seconds, target_kbps=args.kbps)[0]
                continue
            (own,) = evaluate([clip], {first: reference}, args.visqol_seconds)[0]
            rows += [own, *evaluate([clip], dict(others), args.visqol_seconds, target_kbps=own["kbps"])[0]]
        except CodecError as err:
            left_out.append(f"{clip.name} ({err})")
            rows = [row for row in rows if row["clip"] != clip.name]
    return rows, left_out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(1)
    models = {}
    for spec in args.model or ["piano-v3"]:
        codec = load_model(spec)
        if codec.config.name in models:  # rows are named by model: two of one name would hide one
            print(f"encoders.py: error: two models are named {codec.config.name!r} ({spec}); rename one "
                  "(its config's model.name) or leave one out", file=sys.stderr)
            return 2
        models[codec.config.name] = codec
    with tempfile.TemporaryDirectory(prefix="snn_encoders_") as tmp:
        clips = [piano_clip(Path(tmp), 101 + i, args.seconds, CLIP_RATE) for i in range(args.clips)]
    if args.match_rate and args.kbps:
        print("encoders.py: error: --kbps and --match-rate exclude each other", file=sys.stderr)
        return 2
    rows, left_out = quality_rows(clips, models, args)
    if not rows:
        print(f"encoders.py: error: no clip could be coded at the rate asked: {'; '.join(left_out)}", file=sys.stderr)
        return 1
    quality = {name: {k: float(np.mean([r[k] for r in rows if r["system"] == name]))
                      for k in ("kbps", "log_mel_db", *(["visqol"] if args.visqol_seconds else []))}
               for name in models}
    timings, missing = speed(models, clips[0].samples)
    summary = [row | quality.get(row["system"], {}) for row in timings]
    columns = ["system", "encoder", "encoder_parameters", "kbps", "log_mel_db",
               *(["visqol"] if args.visqol_seconds else []), "encoder_x_realtime", "encode_x_realtime",
               "decode_x_realtime_f32", "decode_x_realtime", "round_trip_x_realtime_f32", "round_trip_x_realtime",
               "round_trip_vs_opus_6", "flipped_by_polarity", "flipped_by_1ms_delay"]
    first = next(iter(models))
    at_rate = (f" coded at {args.kbps:g} kbps each (the thresholds moved per clip)" if args.kbps else
               f" coded by every model at the rate {first} codes each clip at (the thresholds moved per clip)"
               if args.match_rate else "")
    intro = (f"Quality: {len(clips)} clips of {args.seconds:g} s of piano rendered with MuseScore General (a "
             f"timbre no model was trained on), 44.1 kHz{at_rate}, means over clips; kbps from the bytes. Speed: one "
             "thread, best of 3, on the first clip (resampling, coding and file bytes included); "
             f"`encoder_x_realtime` is the encoder network alone on {ENCODER_SECONDS:g} s. `_f32` columns decode "
             "in float32; the others in \"auto\" precision, which on this machine is "
             f"{'bfloat16 (the CPU has it natively)' if native_bfloat16() else 'float32 (no native bfloat16)'}. "
             f"{REFERENCE} runs as whole processes (start-up and file I/O included). `flipped_by_polarity` and "
             "`flipped_by_1ms_delay`: the fraction of the first clip's events that change when the audio is "
             "inverted or delayed by 1 ms (what an encoder of magnitude spectra alone cannot reproduce)."
             + (f" {REFERENCE} could not run ({missing}): no ratios." if missing else "")
             + (f" Left out of the means, as a model cannot code them at that rate: {'; '.join(left_out)}."
                if left_out else ""))
    name = f"encoders-{args.kbps:g}kbps" if args.kbps else "encoders-matched" if args.match_rate else "encoders"
    publish(name, "Encoder candidates: speed and quality", intro, markdown_table(summary, columns),
            {"summary": summary, "rows": rows, "clips": [c.name for c in clips], "left_out": left_out}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
