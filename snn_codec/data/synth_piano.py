"""A synthetic solo-piano corpus: generated MIDI rendered with GM soundfonts, split by piece.

Layout written by `build_corpus(OUT)`::

    OUT/manifest.json                      files, splits, soundfonts, generator settings
    OUT/train/piece_00000.flac             mono PCM_16, peak normalized to a random -12..-1 dBFS
    OUT/train/piece_00000.mid              the generated MIDI
    OUT/train/piece_00000.json             soundfont, seed, tempo, effects, notes [onset_s, offset_s, pitch, velocity]
    OUT/validation/piece_00180-timgm6mb.flac ...   the last pieces (different music), each rendered with
                                                   every soundfont: paired in-domain / unseen-timbre checks

Training pieces use the soundfonts round robin. Holding one soundfont out of training (leave-one-soundfont-
out) is a data-config choice (`train.data.holdout_soundfont`), so one corpus serves every split of fonts.
A piece is complete when its .json exists (written last); an interrupted build leaves only OUT/.tmp behind,
and a rerun skips complete pieces. The manifest defines the splits: a rerun with more (or fewer) pieces
moves the last pieces between the splits, and the files of a piece that left its split (or the corpus) are
removed, so that no training music stays in the validation folder. The "musescore_general" soundfont is reserved for independent evaluation.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
from tqdm import tqdm

from snn_codec.audio import fit_length, resample, save_audio, to_mono
from snn_codec.data.midi_gen import TAIL_S, generate_piece
from snn_codec.data.render import SOUNDFONT_FILES, TRAINING_SOUNDFONTS, render_midi, resolve_soundfont
from snn_codec.errors import ConfigError

RESERVED_SOUNDFONTS = ("musescore_general",)
SPLITS = ("train", "validation")
FADE_S = 0.25
MANIFEST_VERSION = 2
PIECE_FILE = re.compile(r"piece_\d{5}(-[a-z0-9_]+)?\.(flac|mid|json)")  # the files build_corpus writes


def piece_rng(seed: int, index: int) -> np.random.Generator:
    """The randomness of piece `index`: independent of how many pieces the corpus has."""
    return np.random.default_rng([seed, index])


def random_effects(rng: np.random.Generator) -> tuple[dict[str, float], bool]:
    """Random fluidsynth reverb settings ({} = dry) and whether chorus is on."""
    reverb = {} if rng.random() < 0.2 else {
        "room-size": round(float(rng.uniform(0.1, 0.9)), 3),
        "damp": round(float(rng.uniform(0.0, 0.7)), 3),
        "width": round(float(rng.uniform(0.3, 1.0)), 3),
        "level": round(float(rng.uniform(0.2, 0.9)), 3),
    }
    return reverb, bool(rng.random() < 0.2)


def render_piece(
    midi_path: Path, soundfont: str, sample_rate: int, seconds: float, peak_dbfs: float,
    reverb: dict[str, float], chorus: bool, stereo: bool,
) -> np.ndarray:
    """Renders a saved piece, crops it to `seconds` (with a short fade-out) and normalizes its peak."""
    render_rate = sample_rate if 8000 <= sample_rate <= 96000 else 48000
    audio = render_midi(midi_path, soundfont, None, render_rate, reverb=reverb, chorus=chorus)
    samples = audio.samples if stereo else to_mono(audio.samples)
    samples = resample(samples, render_rate, sample_rate)
    samples = fit_length(samples, int(round(seconds * sample_rate))).copy()
    fade = min(samples.shape[1], int(FADE_S * sample_rate))
    if fade:
        samples[:, -fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    peak = float(np.abs(samples).max())
    if peak > 0:
        samples *= np.float32(10 ** (peak_dbfs / 20) / peak)
    return samples


def check_soundfonts(soundfonts: tuple[str, ...] | list[str], allow_reserved: bool) -> list[str]:
    names = list(soundfonts)
    if not names:
        raise ConfigError("give at least one soundfont, e.g. ('fluidr3_gm', 'timgm6mb')")
    for name in names:
        if name not in SOUNDFONT_FILES:
            raise ConfigError(f"unknown soundfont {name!r}; expected some of {', '.join(SOUNDFONT_FILES)}")
        if name in RESERVED_SOUNDFONTS and not allow_reserved:
            raise ConfigError(f"soundfont {name!r} is reserved for independent evaluation; "
                              "pass allow_reserved=True to use it anyway (never for training data)")
    return names


def validation_count(num_pieces: int, validation_fraction: float) -> int:
    if not 0.0 <= validation_fraction < 1.0:
        raise ConfigError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
    if validation_fraction == 0 or num_pieces < 2:
        return 0
    return min(num_pieces - 1, max(1, round(num_pieces * validation_fraction)))


def build_corpus(
    out_dir: str | os.PathLike,
    *,
    num_pieces: int = 200,
    duration_s: float = 30.0,
    sample_rate: int = 24000,
    soundfonts: tuple[str, ...] = TRAINING_SOUNDFONTS,
    validation_fraction: float = 0.1,
    seed: int = 0,
    progress: bool = True,
    allow_reserved: bool = False,
) -> Path:
    """Generates and renders a synthetic piano corpus (resumable).

    Args:
        out_dir: the corpus folder (created if needed).
        num_pieces: how many pieces in all; the last `validation_fraction` of them form the validation split.
        duration_s: music per piece in seconds; the audio adds a 1.5 s release tail.
        sample_rate: rate of the written flac files.
        soundfonts: short names from `find_soundfonts()`. Training piece i uses soundfonts[i % n]; every
            validation piece is rendered with each of them.
        validation_fraction: share of pieces (at least one when > 0) held out as different music.
        seed: corpus seed; piece i is generated from (seed, i).
        progress: show a tqdm progress bar.
        allow_reserved: permit the soundfonts reserved for evaluation ("musescore_general").

    Returns:
        `out_dir` as a Path; `out_dir/manifest.json` describes the corpus.

    Raises:
        ConfigError: bad settings or a reserved soundfont without `allow_reserved`.
        RenderError: fluidsynth or a soundfont is missing, or rendering failed.
    """
    names = check_soundfonts(soundfonts, allow_reserved)
    if num_pieces < 1 or not duration_s > 0:
        raise ConfigError(f"need num_pieces >= 1 and duration_s > 0, got {num_pieces} and {duration_s}")
    fonts = {name: str(resolve_soundfont(name)) for name in names}  # fail early when one is missing
    out = Path(out_dir)
    num_validation = validation_count(num_pieces, validation_fraction)
    for split in SPLITS:
        (out / split).mkdir(parents=True, exist_ok=True)
    entries = []
    for index in tqdm(range(num_pieces), desc="synth piano", unit="piece", disable=not progress):
        split = "validation" if index >= num_pieces - num_validation else "train"
        renderings = names if split == "validation" else [names[index % len(names)]]
        for soundfont in renderings:
            name = f"piece_{index:05d}" + (f"-{soundfont}" if split == "validation" else "")
            final = out / split / name
            if not all(final.with_suffix(ext).is_file() for ext in (".json", ".flac", ".mid")):
                _build_piece(out / ".tmp" / name, final, index, soundfont, seed, duration_s, sample_rate)
            entries.append({"name": name, "split": split, "soundfont": soundfont, "audio": f"{split}/{name}.flac",
                            "midi": f"{split}/{name}.mid", "meta": f"{split}/{name}.json"})
    shutil.rmtree(out / ".tmp", ignore_errors=True)
    manifest = {
        "version": MANIFEST_VERSION,
        "generator": {"module": "snn_codec.data.synth_piano", "num_pieces": num_pieces, "duration_s": duration_s,
                      "sample_rate": sample_rate, "validation_fraction": validation_fraction, "seed": seed,
                      "tail_s": TAIL_S, "peak_dbfs_range": [-12.0, -1.0]},
        "soundfonts": fonts,
        "splits": {split: [e["audio"] for e in entries if e["split"] == split] for split in SPLITS},
        "pieces": entries,
    }
    _write_json(out / "manifest.json", manifest)
    _remove_unlisted_pieces(out, entries)
    return out


def _remove_unlisted_pieces(out: Path, entries: list[dict]) -> None:
    """Deletes the piece files in the split folders that the manifest does not list: those of pieces that
    changed split when the corpus grew or shrank, or left it. Other files are left alone."""
    listed = {out / e[key] for e in entries for key in ("audio", "midi", "meta")}
    for split in SPLITS:
        for path in (out / split).glob("piece_*"):
            if PIECE_FILE.fullmatch(path.name) and path not in listed:
                path.unlink()


def _build_piece(tmp: Path, final: Path, index: int, soundfont: str, seed: int, duration_s: float,
                 sample_rate: int) -> None:
    """Renders one piece into `tmp`, then moves it beside `final` (.json last: it marks completion)."""
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    rng = piece_rng(seed, index)
    piece = generate_piece(rng, duration_s)
    reverb, chorus = random_effects(rng)
    peak_dbfs = round(float(rng.uniform(-12.0, -1.0)), 2)
    midi_path = tmp / "piece.mid"
    piece.midi.save(midi_path)
    samples = render_piece(midi_path, soundfont, sample_rate, duration_s + TAIL_S, peak_dbfs,
                           reverb, chorus, stereo=False)
    save_audio(tmp / "piece.flac", samples, sample_rate)
    meta = {"name": final.name, "soundfont": soundfont, "seed": [seed, index], "tempo_bpm": piece.tempo_bpm,
            "key": piece.key, "meter": piece.meter, "program": piece.program, "textures": piece.textures,
            "reverb": reverb, "chorus": chorus, "peak_dbfs": peak_dbfs, "sample_rate": sample_rate,
            "duration_s": samples.shape[1] / sample_rate,
            "notes": [[n.onset_s, n.offset_s, n.pitch, n.velocity] for n in piece.notes]}
    _write_json(tmp / "piece.json", meta)
    os.replace(midi_path, final.with_suffix(".mid"))
    os.replace(tmp / "piece.flac", final.with_suffix(".flac"))
    os.replace(tmp / "piece.json", final.with_suffix(".json"))
    shutil.rmtree(tmp, ignore_errors=True)


def _write_json(path: Path, data: dict) -> None:
    part = path.with_name(f".{path.name}.part")
    part.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(part, path)


def render_example(
    out_path: str | os.PathLike,
    *,
    seconds: float,
    sample_rate: int = 44100,
    stereo: bool = True,
    seed: int = 0,
    soundfont: str = "fluidr3_gm",
    peak_dbfs: float = -3.0,
) -> Path:
    """Renders one generated piece to an audio file (the format follows the extension, e.g. .flac).

    Used for the bundled demo clip and test recordings. Any installed soundfont may be used here.

    Args:
        out_path: the audio file to write (atomically).
        seconds: length of the clip; the music stops a little before the end so it decays naturally.
        sample_rate: output rate in Hz.
        stereo: keep fluidsynth's stereo output, else downmix to mono.
        seed: which piece.
        soundfont: a short name from `find_soundfonts()` or a .sf2/.sf3 path.
        peak_dbfs: peak level of the written audio.

    Returns:
        `out_path` as a Path.
    """
    out = Path(out_path)
    if not seconds > 0:
        raise ConfigError(f"seconds must be positive, got {seconds}")
    rng = np.random.default_rng(seed)
    piece = generate_piece(rng, max(seconds - min(1.0, seconds / 4), 0.5))
    tmp = out.with_name(f".{out.name}.mid.part")
    try:
        piece.midi.save(tmp)
        samples = render_piece(tmp, soundfont, sample_rate, seconds, peak_dbfs,
                               {"room-size": 0.4, "damp": 0.3, "width": 0.8, "level": 0.5}, False, stereo)
    finally:
        tmp.unlink(missing_ok=True)
    save_audio(out, samples, sample_rate)
    return out
