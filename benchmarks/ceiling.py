"""The auto-encoder's ceiling, and where each model loses quality, on piano in a timbre no model heard.

    python benchmarks/ceiling.py --ceiling runs/piano-ceiling/model.safetensors
                                 [--model piano-v3 --model runs/piano-v4/model.safetensors ...]
                                 [--clips 6] [--seconds 10] [--visqol-seconds 5] [--classical opus-6 opus-8]

The ceiling is a model with the shipped encoder and decoder and an unquantized bottleneck (continuous
latents at the same frame rate and width, `configs/piano-ceiling.yaml`): the gap from a model to it is
what quantising to events costs; the ceiling's own gap to the input is what the encoder, decoder and their
training leave. Clips: generated piano pieces rendered with the MuseScore General soundfont (the
comparison's piano clips, benchmarks/eval_set.py, plus more seeds), 44.1 kHz. Every coded system goes
through its real bytes (kbps from them); the ceiling, which has no bitstream, runs its forward pass.
Metrics: the log-mel distance and ViSQOL of snn_codec.eval.metrics, and the diagnostics of
snn_codec.eval.diagnostics (per-band error, noise fill, weak partials, noise between partials).

Writes benchmarks/results/ceiling.{json,md,png} and ceiling_spectrograms.png.
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
from common import RESULTS, forward_pass, markdown_table, publish  # noqa: E402
from eval_set import Clip, piano_clip  # noqa: E402

import snn_codec  # noqa: E402
from snn_codec.audio import save_audio  # noqa: E402
from snn_codec.codec import Codec  # noqa: E402
from snn_codec.eval.classical import run_classical  # noqa: E402
from snn_codec.eval.diagnostics import HIGH_HZ, LOW_HZ, spectral_diagnostics  # noqa: E402
from snn_codec.eval.metrics import log_mel_distance, visqol_moslqo  # noqa: E402
from snn_codec.eval.plots import pyplot, save_png  # noqa: E402
from snn_codec.model_io import load_model  # noqa: E402

CLIP_RATE = 44100
DIAGNOSTICS = ["log_mel_low_db", "log_mel_mid_db", "log_mel_high_db", "quiet_excess_db", "loud_deficit_db",
               "fine_lsd_high_db", "partial_contrast_loss_db"]


def add_clip_arguments(parser: argparse.ArgumentParser) -> None:
    """--clips, --seconds and --visqol-seconds: the MuseScore General piano clips that the quality
    benchmarks (this one, encoders.py, neuromorphic.py) measure on."""
    parser.add_argument("--clips", type=int, default=6, help="piano clips (seeds 101, 102, ...)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--visqol-seconds", type=float, default=5.0, help="0 skips ViSQOL")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ceiling", type=Path, required=True, help="the unquantized model (.safetensors)")
    parser.add_argument("--model", action="append", default=None,
                        help="a shipped model name or .safetensors path (repeatable; default piano-v3 piano-v3-3k)")
    parser.add_argument("--classical", nargs="*", default=["opus-6", "opus-8"])
    add_clip_arguments(parser)
    parser.add_argument("--save-audio", type=Path, metavar="DIR",
                        help="write the clips (DIR/clips) and each classical codec's output (DIR/NAME) as WAV, "
                             "for `snn-codec listen --report` (see docs/quality.md)")
    return parser.parse_args(argv)


def decode(system: Codec | str, clip: Clip, target_kbps: float | None = None) -> tuple[np.ndarray, float | None]:
    """`clip` through a model (its real bytes; the forward pass for a model without a bitstream) or a
    classical codec named `system`: the decoded audio at the clip's rate and the kbps (None: no bytes).
    With `target_kbps`, a spiking model codes the clip at that rate (its thresholds moved for the clip)."""
    if isinstance(system, str):
        result = run_classical(system, clip.samples, clip.sample_rate)
        return result.audio, result.bitrate_kbps
    if not system.bottleneck.has_bitstream:
        return forward_pass(system, clip.samples, clip.sample_rate), None
    data = snn_codec.compress(clip.samples, clip.sample_rate, model=system, target_kbps=target_kbps)
    return snn_codec.decompress(data, model=system).samples[0], snn_codec.inspect(data).bitrate_kbps


def evaluate(clips: list[Clip], systems: dict[str, Codec | str], visqol_seconds: float,
             save_audio_to: Path | None = None,
             target_kbps: float | None = None) -> tuple[list[dict], dict[str, np.ndarray]]:
    """One row per (system, clip): kbps (None for the ceiling), log-mel, ViSQOL and the diagnostics; and
    every system's output on the first clip (for the spectrograms). With `save_audio_to`, the classical
    codecs' outputs are written there as WAV; with `target_kbps`, spiking models code at that rate."""
    rows, first = [], {}
    for clip in clips:
        for name, system in systems.items():
            decoded, kbps = decode(system, clip, target_kbps)
            first.setdefault(name, decoded)
            if isinstance(system, str) and save_audio_to is not None:
                save_audio(save_audio_to / name / f"{clip.name}.wav", decoded, clip.sample_rate)
            row = {"system": name, "clip": clip.name, "kbps": kbps,
                   "log_mel_db": log_mel_distance(clip.samples, decoded, clip.sample_rate)}
            if visqol_seconds:
                part = int(visqol_seconds * clip.sample_rate)
                row["visqol"] = visqol_moslqo(clip.samples[:part], decoded[:part], clip.sample_rate)
            row.update(spectral_diagnostics(clip.samples, decoded, clip.sample_rate))
            rows.append(row)
            print(f"  {clip.name:10s} {name:14s} log-mel {row['log_mel_db']:5.2f} dB", flush=True)
    return rows, first


def summarize(rows: list[dict], systems: list[str]) -> list[dict]:
    """Means over clips per system, with the gap to the ceiling's log-mel distance."""
    summary = []
    for name in systems:
        mine = [r for r in rows if r["system"] == name]
        keys = [k for k in mine[0] if k not in ("system", "clip") and mine[0][k] is not None]
        summary.append({"system": name, **{k: float(np.mean([r[k] for r in mine])) for k in keys}})
    ceiling = next(s for s in summary if s["system"] == "ceiling")["log_mel_db"]
    for entry in summary:
        entry["gap_to_ceiling_db"] = entry["log_mel_db"] - ceiling
    return sorted(summary, key=lambda s: s.get("kbps", 0.0))


def findings(summary: list[dict]) -> list[str]:
    """What the numbers say limits quality, in sentences generated from them."""
    by_name = {s["system"]: s for s in summary}
    ceiling = by_name["ceiling"]
    models = [s for s in summary if s["system"] != "ceiling" and not s["system"].startswith(("opus", "mp3", "codec2"))]
    lines = []
    for model in models:
        lines.append(f"- {model['system']} at {model['kbps']:.2f} kbps is {model['gap_to_ceiling_db']:+.2f} dB from "
                     f"the unquantized ceiling ({model['log_mel_db']:.2f} against {ceiling['log_mel_db']:.2f} dB).")
    worst = max(("low", "mid", "high"), key=lambda b: ceiling[f"log_mel_{b}_db"])
    lines.append(f"- Without quantisation the encoder and decoder still leave {ceiling['log_mel_db']:.2f} dB; their "
                 f"worst band is {worst} ({ceiling[f'log_mel_{worst}_db']:.2f} dB), noise fill in quiet cells is "
                 f"{ceiling['quiet_excess_db']:+.1f} dB, the loudest cells are off by {ceiling['loud_deficit_db']:+.1f} dB, "
                 f"and the contrast of partials above {HIGH_HZ:.0f} Hz over the floor between them changes by "
                 f"{ceiling['partial_contrast_loss_db']:+.1f} dB (negative: noise between partials).")
    for name in ("opus-6", "opus-8"):
        if name in by_name:
            gap = ceiling["log_mel_db"] - by_name[name]["log_mel_db"]
            lines.append(f"- The ceiling is {abs(gap):.2f} dB {'worse' if gap > 0 else 'better'} than {name} "
                         f"({by_name[name]['kbps']:.1f} kbps).")
    return lines


def plot(summary: list[dict], out: Path) -> None:
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5))
    ceiling = next(s for s in summary if s["system"] == "ceiling")
    for entry in summary:
        if entry["system"] != "ceiling":
            left.scatter(entry["kbps"], entry["log_mel_db"], s=40)
            left.annotate(entry["system"], (entry["kbps"], entry["log_mel_db"]), textcoords="offset points",
                          xytext=(4, 4), fontsize=8)
    left.axhline(ceiling["log_mel_db"], linestyle="--", color="k", label="unquantized ceiling")
    left.set(xscale="log", xlabel="kbps (from the bytes)", ylabel="log-mel distance (dB)",
             title="Rate and quality against the ceiling")
    left.legend()
    bands = ["low", "mid", "high"]
    width = 0.8 / len(summary)
    for i, entry in enumerate(summary):
        right.bar(np.arange(3) + i * width, [entry[f"log_mel_{b}_db"] for b in bands], width, label=entry["system"])
    right.set_xticks(np.arange(3) + 0.4 - width / 2,
                     [f"< {LOW_HZ:.0f} Hz", f"{LOW_HZ:.0f}-{HIGH_HZ:.0f} Hz", f"> {HIGH_HZ:.0f} Hz"])
    right.set(ylabel="log-mel distance (dB)", title="Error per band")
    right.legend(fontsize=7)
    fig.tight_layout()
    save_png(fig, out / "ceiling.png")


def plot_spectrograms(clip: Clip, decoded: dict[str, np.ndarray], out: Path, seconds: float = 5.0) -> None:
    """Fine log-magnitude spectrograms (0-8 kHz) of the input and each system's output on one clip."""
    plt = pyplot()
    panels = {"input": clip.samples, **decoded}
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, 2.3 * len(panels)), sharex=True)
    n_fft = 2048
    for ax, (name, audio) in zip(axes, panels.items()):
        part = torch.from_numpy(np.asarray(audio[: int(seconds * clip.sample_rate)], dtype=np.float32))
        spec = torch.stft(part, n_fft, n_fft // 4, window=torch.hann_window(n_fft), return_complex=True).abs()
        db = (20 * (spec / (n_fft / 2)).clamp_min(1e-5).log10()).numpy()
        ax.imshow(db, origin="lower", aspect="auto", vmin=-100, vmax=-10, cmap="magma",
                  extent=(0, part.shape[0] / clip.sample_rate, 0, clip.sample_rate / 2000))
        ax.set(ylim=(0, 8), ylabel="kHz", title=name)
    axes[-1].set_xlabel("seconds")
    fig.suptitle(f"{clip.name}: piano rendered with a soundfont no model was trained on")
    fig.tight_layout(rect=(0, 0, 1, 0.98))  # leave the title its own row
    save_png(fig, out / "ceiling_spectrograms.png")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.ceiling.is_file():
        print(f"{args.ceiling}: no such model; train it with snn-codec train --config configs/piano-ceiling.yaml",
              file=sys.stderr)
        return 1
    systems: dict[str, Codec | str] = {"ceiling": load_model(args.ceiling)}
    for spec in args.model or ["piano-v3", "piano-v3-3k"]:
        codec = load_model(spec)
        systems[codec.config.name] = codec
    systems.update({name: name for name in args.classical})
    with tempfile.TemporaryDirectory(prefix="snn_ceiling_") as tmp:
        clips = [piano_clip(Path(tmp), 101 + i, args.seconds, CLIP_RATE) for i in range(args.clips)]
    if args.save_audio:
        for folder in ["clips", *args.classical]:
            (args.save_audio / folder).mkdir(parents=True, exist_ok=True)
        for clip in clips:
            save_audio(args.save_audio / "clips" / f"{clip.name}.wav", clip.samples, clip.sample_rate)
    rows, first_outputs = evaluate(clips, systems, args.visqol_seconds, args.save_audio)
    summary = summarize(rows, list(systems))
    columns = ["system", "kbps", "log_mel_db", "gap_to_ceiling_db", *(["visqol"] if args.visqol_seconds else []),
               *DIAGNOSTICS]
    intro = (f"{len(clips)} clips of {args.seconds:g} s (MuseScore General piano, 44.1 kHz), means over clips. "
             "Band errors: log-mel distance over the mel bands centred below 500 Hz, 500-2000 Hz and above. "
             "quiet_excess: mean signed error where the input is below -60 dB (noise fill); loud_deficit: in "
             "its loudest 10 % of cells; fine_lsd_high: log-spectral distance of a 186 ms STFT from 2 to 8 kHz; "
             "partial_contrast_loss: contrast of partials over the floor between them (2-8 kHz), output minus input "
             "(negative: noise between partials). Definitions in snn_codec/eval/diagnostics.py.")
    table = markdown_table(summary, columns) + "\n\n## What limits quality\n\n" + "\n".join(findings(summary))
    publish("ceiling", "The auto-encoder's ceiling and where quality is lost", intro, table,
            {"summary": summary, "rows": rows, "clips": [c.name for c in clips]})
    plot(summary, RESULTS)
    # every model, and the first classical codec as the reference point
    shown = [n for n in systems if isinstance(systems[n], Codec)] + args.classical[:1]
    plot_spectrograms(clips[0], {name: first_outputs[name] for name in shown}, RESULTS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
