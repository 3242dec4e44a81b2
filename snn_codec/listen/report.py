"""A static HTML report (no server needed): per clip, the reference and every system side by side, with
audio players, bitrates, objective scores, mel spectrograms and, for spiking models, the event raster.

```
OUT_DIR/index.html
OUT_DIR/audio/<clip>/<system>.wav   OUT_DIR/figures/<clip>/<system>.png   OUT_DIR/encoded/<clip>/<system>.snnc
```
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import numpy as np
from tqdm.auto import tqdm

from snn_codec.audio import atomic_output, save_audio, to_mono
from snn_codec.errors import CodecError
from snn_codec.eval.metrics import log_mel_distance, si_sdr
from snn_codec.eval.plots import mel_db, pyplot, save_png
from snn_codec.listen.systems import Clip, Rendering, System

REFERENCE_LABEL = "reference"


@dataclass(frozen=True)
class Entry:
    """One player of the report: a system's output for a clip, its files and its scores."""

    name: str
    audio_file: str  # relative to the report folder
    figure_file: str
    bitrate_kbps: float | None
    log_mel_db: float | None
    si_sdr_db: float | None


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "unnamed"


def plot_spectrogram(path: Path, audio: np.ndarray, sample_rate: int, events: np.ndarray | None,
                     title: str, top_db: float) -> Path:
    """Writes a PNG: the mel spectrogram of mono `audio` (S,), and the (N, T) event raster under it if given.

    `top_db` fixes the colour scale (the reference's peak), so figures of one clip compare directly.
    """
    plt = pyplot()

    rows = 1 if events is None else 2
    fig, axes = plt.subplots(rows, 1, figsize=(6, 2.2 * rows), sharex=True, squeeze=False, constrained_layout=True)
    duration_s = len(audio) / sample_rate
    axes[0, 0].imshow(mel_db(audio, sample_rate), origin="lower", aspect="auto", extent=(0, duration_s, 0, 80),
                      vmin=top_db - 80, vmax=top_db, cmap="magma")
    axes[0, 0].set_ylabel("mel band")
    axes[0, 0].set_title(title, fontsize=10)
    if events is not None:
        units, frames = events.shape
        unit, frame = np.nonzero(events)
        axes[1, 0].scatter(frame * duration_s / max(frames, 1), unit, s=1, marker="|", color="black")
        axes[1, 0].set_ylim(-0.5, units - 0.5)
        axes[1, 0].set_ylabel(f"unit (of {units})")
    axes[-1, 0].set_xlabel("time (s)")
    save_png(fig, path, dpi=80)
    return path


def _render_clip(clip: Clip, systems: list[System], out: Path) -> list[Entry]:
    folder = _slug(clip.name)
    for sub in ("audio", "figures", "encoded"):
        (out / sub / folder).mkdir(parents=True, exist_ok=True)
    rate = clip.audio.sample_rate
    reference = to_mono(clip.audio.samples)[0]
    top_db = float(mel_db(reference, rate).max())
    outputs: list[tuple[str, Rendering | None]] = [(REFERENCE_LABEL, None)]
    outputs += [(system.name, system.render(clip)) for system in systems]
    entries = []
    for name, rendering in outputs:
        audio = clip.audio if rendering is None else rendering.audio
        stem = f"{folder}/{_slug(name)}"
        save_audio(out / "audio" / f"{stem}.wav", audio.samples, rate)
        if rendering is not None and rendering.snnc is not None:
            (out / "encoded" / f"{stem}.snnc").write_bytes(rendering.snnc)
        mono = to_mono(audio.samples)[0]
        kbps = None if rendering is None else rendering.bitrate_kbps
        title = name if kbps is None else f"{name}, {kbps:.2f} kbps"
        events = None if rendering is None else rendering.events
        plot_spectrogram(out / "figures" / f"{stem}.png", mono, rate, events, title, top_db)
        scores = (None, None)
        if rendering is not None:
            scores = (log_mel_distance(reference, mono, rate), si_sdr(reference, mono))
        entries.append(Entry(name, f"audio/{stem}.wav", f"figures/{stem}.png", kbps, *scores))
    return entries


def _number(value: float | None, unit: str) -> str:
    return "" if value is None else f"{value:.2f} {unit}"


def _clip_html(clip: Clip, entries: list[Entry]) -> str:
    cards = []
    for e in entries:
        facts = [_number(e.bitrate_kbps, "kbps"), _number(e.log_mel_db, "dB log-mel distance"),
                 _number(e.si_sdr_db, "dB SI-SDR")]
        cards.append(
            f'<figure><figcaption><b>{html.escape(e.name)}</b><br>{html.escape(" · ".join(f for f in facts if f))}'
            f'</figcaption><audio controls preload="none" src="{quote(e.audio_file)}"></audio>'
            f'<img src="{quote(e.figure_file)}" alt="spectrogram of {html.escape(e.name)}"></figure>'
        )
    return (f"<section><h2>{html.escape(clip.name)}</h2><p>{html.escape(clip.path.name)}, "
            f"{clip.audio.duration_s:.2f} s, {clip.audio.sample_rate} Hz</p>{''.join(cards)}</section>")


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>snn_codec listening report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
section {{ display: flex; flex-wrap: wrap; gap: 1em; border-top: 1px solid #ccc; padding-top: 0.5em; }}
section h2, section p {{ flex-basis: 100%; margin: 0.2em 0; }}
figure {{ margin: 0; width: 480px; }} figure img, figure audio {{ width: 100%; }}
</style></head><body>
<h1>snn_codec listening report</h1>
<p>Bitrates of snn_codec models are measured from the bytes of the .snnc files (in encoded/). Log-mel
distance (dB, lower is better) and SI-SDR (dB, higher is better) are against the reference, in mono.
Spiking models show their events under the spectrogram.</p>
{sections}
</body></html>
"""


def write_report(clips: list[Clip], systems: list[System], out_dir: str | os.PathLike, *, force: bool = False,
                 progress: bool = False) -> Path:
    """Renders every clip through every system and writes OUT_DIR/index.html with its audio and figures.

    Returns:
        The path of index.html.
    """
    out = Path(out_dir)
    index = out / "index.html"
    if index.exists() and not force:
        raise CodecError(f"{index} exists; pass --force to overwrite the report")
    out.mkdir(parents=True, exist_ok=True)
    sections = [_clip_html(clip, _render_clip(clip, systems, out))
                for clip in tqdm(clips, desc="report", unit="clip", disable=not progress, leave=False)]
    with atomic_output(index) as tmp:
        Path(tmp).write_text(PAGE.format(sections="\n".join(sections)))
    return index
