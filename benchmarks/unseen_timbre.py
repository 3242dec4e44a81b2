"""Pianos the model has never heard: in-domain vs held-out vs reserved soundfonts, against Opus at 6 kbps.

    python benchmarks/unseen_timbre.py [--models piano-v3 piano-v3-3k] [--corpus data/piano-multi]
                                       [--holdout csound_gm] [--pieces 10] [--seconds 20] [--visqol-pieces 3]

The clips are the validation pieces of the multi-timbre corpus (music no model trained on), in three
timbre sets:
- in-domain: each piece rendered with one of the training soundfonts (round robin)
- held out: rendered with the soundfont that training left out (`train.data.holdout_soundfont`)
- MuseScore General: the same MIDI rendered with the soundfont reserved for evaluation (never trained or
  tuned on); rendered here from each piece's MIDI and settings, cached beside the corpus
Every system compresses the same clips; bitrates come from the bytes written (.snnc files; the Ogg Opus
file). Metrics at the corpus rate (24 kHz): log-mel distance, SI-SDR, and ViSQOL on the first pieces.
Writes benchmarks/results/unseen_timbre.{json,md,png}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, command_line, machine, markdown_table, write_results  # noqa: E402

import snn_codec  # noqa: E402
from snn_codec.audio import fit_length, load_audio, save_audio, to_mono  # noqa: E402
from snn_codec.data.render import TRAINING_SOUNDFONTS  # noqa: E402
from snn_codec.data.synth_piano import render_piece  # noqa: E402
from snn_codec.eval.classical import run_classical  # noqa: E402
from snn_codec.eval.metrics import bitrate_kbps, quality_report  # noqa: E402
from snn_codec.eval.plots import pyplot, save_png  # noqa: E402
from snn_codec.model_io import load_model  # noqa: E402

RESERVED = "musescore_general"


def timbre_sets(corpus: Path, holdout: str, pieces: int) -> dict[str, list[Path]]:
    """Validation clips per timbre set (the same music in each set)."""
    manifest = json.loads((corpus / "manifest.json").read_text())
    validation = [p for p in manifest["pieces"] if p["split"] == "validation"]
    indices = sorted({p["name"].split("-")[0] for p in validation})[:pieces]
    # training soundfonts of today's corpus builder (older corpora may hold FluidR3 GS renders, which are silent)
    fonts = sorted(({p["soundfont"] for p in validation} & set(TRAINING_SOUNDFONTS)) - {holdout})
    by_key = {(p["name"].split("-")[0], p["soundfont"]): corpus / p["audio"] for p in validation}
    in_domain = [by_key[(index, fonts[i % len(fonts)])] for i, index in enumerate(indices)]
    held_out = [by_key[(index, holdout)] for index in indices]
    reserved = [render_reserved(by_key[(index, holdout)], corpus / "eval-musescore") for index in indices]
    return {"in-domain": in_domain, f"held out ({holdout})": held_out, "MuseScore General (reserved)": reserved}


def render_reserved(rendered: Path, cache: Path) -> Path:
    """The piece of `rendered` again, with MuseScore General and the piece's own effects and level."""
    meta = json.loads(rendered.with_suffix(".json").read_text())
    out = cache / f"{rendered.stem.split('-')[0]}-{RESERVED}.flac"
    if not out.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        samples = render_piece(rendered.with_suffix(".mid"), RESERVED, meta["sample_rate"], meta["duration_s"],
                               meta["peak_dbfs"], meta["reverb"], meta["chorus"], stereo=False)
        save_audio(out, samples, meta["sample_rate"])
    return out


def round_trip(system: str, clip: np.ndarray, rate: int, codecs: dict) -> tuple[np.ndarray, float]:
    """Decoded audio (same length) and actual kbps of `clip` through `system`."""
    duration = len(clip) / rate
    if system in codecs:
        data = snn_codec.compress(clip, rate, model=codecs[system])
        decoded = to_mono(snn_codec.decompress(data, model=codecs[system]).samples)[0]
        return fit_length(decoded[None], len(clip))[0], bitrate_kbps(len(data), duration)
    result = run_classical(system, clip, rate)
    return result.audio, result.bitrate_kbps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["piano-v3", "piano-v3-3k"])
    parser.add_argument("--classical", nargs="*", default=["opus-6"])
    parser.add_argument("--corpus", default="data/piano-multi")
    parser.add_argument("--holdout", default="csound_gm")
    parser.add_argument("--pieces", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--visqol-pieces", type=int, default=3, help="ViSQOL on the first N clips of each set")
    args = parser.parse_args()

    codecs = {Path(m).stem if m.endswith(".safetensors") else m: load_model(m) for m in args.models}
    systems = [*codecs, *args.classical]
    rows = []
    for timbre, paths in timbre_sets(Path(args.corpus), args.holdout, args.pieces).items():
        for index, path in enumerate(tqdm(paths, desc=timbre, unit="clip")):
            audio = load_audio(path)
            clip = to_mono(audio.samples)[0, : int(args.seconds * audio.sample_rate)]
            for system in systems:
                decoded, kbps = round_trip(system, clip, audio.sample_rate, codecs)
                scores = quality_report(clip, decoded, audio.sample_rate, with_visqol=index < args.visqol_pieces)
                rows.append({"timbre": timbre, "clip": path.name, "system": system, "kbps": kbps, **scores})
    summary = summarize(rows, systems)
    payload = {"machine": machine(), "args": vars(args), "summary": summary, "clips": rows}
    markdown = "\n".join([
        "# Unseen timbre: in-domain, held-out and reserved soundfonts",
        "",
        command_line(),
        "",
        f"{args.pieces} validation pieces (music no model trained on), first {args.seconds:g} s of each, in "
        "every timbre set; kbps from the bytes written; log-mel distance in dB (lower is better); ViSQOL on "
        f"the first {args.visqol_pieces} clips of each set.",
        "",
        markdown_table(summary, ["timbre", "system", "kbps", "log_mel_db", "si_sdr_db", "visqol"]),
        "",
    ])
    print(markdown)
    write_results("unseen_timbre", payload, markdown)
    plot(summary, systems)


def summarize(rows: list[dict], systems: list[str]) -> list[dict]:
    """Mean of each metric per (timbre set, system), in the order met."""
    out = []
    for timbre in dict.fromkeys(r["timbre"] for r in rows):
        for system in systems:
            group = [r for r in rows if r["timbre"] == timbre and r["system"] == system]
            row = {"timbre": timbre, "system": system, "clips": len(group)}
            for key in ("kbps", "log_mel_db", "si_sdr_db", "visqol"):
                values = [r[key] for r in group if key in r]
                if values:
                    row[key] = float(np.mean(values))
            out.append(row)
    return out


def plot(summary: list[dict], systems: list[str]) -> None:
    plt = pyplot()
    timbres = list(dict.fromkeys(r["timbre"] for r in summary))
    fig, ax = plt.subplots(figsize=(9, 4), constrained_layout=True)
    width = 0.8 / len(systems)
    for k, system in enumerate(systems):
        rows = [next(r for r in summary if r["timbre"] == t and r["system"] == system) for t in timbres]
        x = np.arange(len(timbres)) + (k - (len(systems) - 1) / 2) * width
        bars = ax.bar(x, [r["log_mel_db"] for r in rows], width, label=system)
        for bar, row in zip(bars, rows):
            ax.annotate(f"{row['kbps']:.2f} kbps", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=7)
    ax.set_xticks(np.arange(len(timbres)), timbres)
    ax.set_ylabel("log-mel distance (dB, lower is better)")
    ax.set_title("Unseen timbres: spiking codec vs Opus (labels: actual bitrate)")
    ax.legend()
    RESULTS.mkdir(parents=True, exist_ok=True)
    save_png(fig, RESULTS / "unseen_timbre.png")


if __name__ == "__main__":
    main()
