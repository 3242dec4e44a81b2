"""Audio file discovery and torch Datasets of fixed-length mono crops, used by training.

Data specs (the `data` strings of configs), resolved by `dataset_files(spec, split)`:

- ``synth:DIR``   a corpus from `build_corpus`: the split's files as its DIR/manifest.json lists them
- ``maestro:DIR`` MAESTRO v3 at DIR (its maestro-v3.0.0.csv picks the split's files)
- ``folder:DIR`` or a plain ``DIR``: every audio file under DIR, the same files for every split
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from snn_codec.audio import fit_length, load_audio, resample, to_mono
from snn_codec.data.augment import Augmenter
from snn_codec.errors import CodecError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
MAESTRO_CSV = "maestro-v3.0.0.csv"
MAESTRO_SPLITS = ("train", "validation", "test")


def list_audio_files(root: str | os.PathLike) -> list[Path]:
    """Every wav/flac/ogg/mp3 file under `root` (recursive, sorted). Raises CodecError if there is none."""
    root = Path(root)
    if not root.is_dir():
        raise CodecError(f"{root}: no such folder")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    if not files:
        raise CodecError(f"{root}: no audio files ({', '.join(AUDIO_SUFFIXES)}) found")
    return files


def maestro_files(root: str | os.PathLike, split: str) -> list[Path]:
    """The audio files of a MAESTRO v3 split that exist under `root`.

    Args:
        root: the MAESTRO folder, holding maestro-v3.0.0.csv and the year folders.
        split: "train", "validation" or "test".

    Raises:
        CodecError: unknown split, missing or malformed csv, or no file of the split present.
    """
    if split not in MAESTRO_SPLITS:
        raise CodecError(f"unknown MAESTRO split {split!r}; expected one of {', '.join(MAESTRO_SPLITS)}")
    root = Path(root)
    table = root / MAESTRO_CSV
    if not table.is_file():
        raise CodecError(f"{table}: not found; download MAESTRO v3 and point maestro:DIR at the folder holding "
                         f"{MAESTRO_CSV}")
    with open(table, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if rows and not {"split", "audio_filename"} <= set(rows[0]):
        raise CodecError(f"{table}: expected the columns 'split' and 'audio_filename'")
    files = [root / row["audio_filename"] for row in rows if row["split"] == split]
    present = sorted(p for p in files if p.is_file())
    if not present:
        raise CodecError(f"{root}: none of the {len(files)} audio files of the MAESTRO {split!r} split exist")
    return present


def dataset_files(spec: str, split: str, *, soundfont: str | None = None, exclude_soundfont: str | None = None
                  ) -> list[Path]:
    """Resolves a data spec ("synth:DIR", "maestro:DIR", "folder:DIR" or a plain DIR) for one split.

    "folder:" and plain folders have no splits: every split gets the same files. A synthetic corpus's
    splits are those of its manifest, never whatever files lie in its folders (a piece that moved to
    another split when the corpus grew must not be read twice). `soundfont` keeps only the pieces of a
    synthetic corpus rendered with that soundfont, `exclude_soundfont` drops them (the
    leave-one-soundfont-out splits).
    """
    kind, sep, path = spec.partition(":")
    if not sep or kind not in ("synth", "maestro", "folder"):
        kind, path = "folder", spec
    if (soundfont or exclude_soundfont) and kind != "synth":
        raise CodecError(f"{spec}: only synthetic corpora (synth:DIR) know their soundfonts")
    if kind == "synth":
        return synth_files(Path(path), split, soundfont, exclude_soundfont)
    if kind == "maestro":
        return maestro_files(path, split)
    return list_audio_files(path)


def synth_files(root: Path, split: str, soundfont: str | None = None, exclude: str | None = None) -> list[Path]:
    """The files of a synthetic corpus split, as its manifest lists them, rendered with `soundfont` (if
    given) and not with `exclude` (if given)."""
    manifest = root / "manifest.json"
    build = f"snn-codec data synth-piano --out {root}"
    try:
        pieces = json.loads(manifest.read_text())["pieces"]
        splits = {p["split"] for p in pieces}
    except (OSError, ValueError, KeyError, TypeError):
        raise CodecError(f"{manifest}: missing or unreadable; build the corpus with `{build}`") from None
    if split not in splits:
        raise CodecError(f"{root}: the corpus has no {split!r} split (it has {', '.join(sorted(splits))}); "
                         f"a corpus built with `{build}` has the splits train and validation")
    known = sorted({p["soundfont"] for p in pieces})
    for name in (soundfont, exclude):
        if name is not None and name not in known:
            raise CodecError(f"{root}: no pieces rendered with soundfont {name!r}; it has {', '.join(known)}")
    files = [root / p["audio"] for p in pieces if p["split"] == split
             and (soundfont is None or p["soundfont"] == soundfont) and p["soundfont"] != exclude]
    if not files:
        raise CodecError(f"{root}: the {split!r} split has no pieces left after the soundfont selection")
    missing = [path for path in files if not path.is_file()]
    if missing:
        raise CodecError(f"{missing[0]}: listed in {manifest} but missing ({len(missing)} files in all); "
                         f"rerun `{build}` with the same settings to complete the corpus")
    return files


class AudioCropDataset(Dataset):
    """Fixed-length mono crops of audio files, preloaded into memory.

    With `random_crops` (training), item i is a crop at a random place in a random file, drawn from a numpy
    generator seeded by (seed, i): the same index always gives the same crop. Without (validation), the
    items are a fixed set of evenly spaced crops over every file. Files shorter than a segment are zero-padded.

    Args:
        files: audio files (any channels and rate).
        sample_rate: rate of the crops; files are resampled to it.
        segment_samples: length of a crop.
        items_per_epoch: dataset length with random crops (default: the total audio length / segment).
        random_crops: random crops (training) or fixed evenly spaced ones (validation).
        seed: seed of the random crops (and of their augmentation).
        augment: random effects for each random crop, drawn from the crop's generator.
    """

    def __init__(self, files: list[str | os.PathLike], sample_rate: int, segment_samples: int, *,
                 items_per_epoch: int | None = None, random_crops: bool = True, seed: int = 0,
                 augment: Augmenter | None = None):
        if segment_samples < 1:
            raise CodecError(f"segment_samples must be positive, got {segment_samples}")
        if not files:
            raise CodecError("AudioCropDataset needs at least one audio file")
        self.sample_rate, self.segment_samples = sample_rate, segment_samples
        self.random_crops, self.seed, self.augment = random_crops, seed, augment
        self.audio: list[np.ndarray] = []
        for path in files:
            audio = load_audio(path)
            mono = resample(to_mono(audio.samples), audio.sample_rate, sample_rate)[0]
            self.audio.append(np.ascontiguousarray(fit_length(mono, max(len(mono), segment_samples))))
        lengths = np.array([len(a) for a in self.audio])
        self.weights = lengths / lengths.sum()
        if random_crops:
            self.length = items_per_epoch if items_per_epoch is not None else max(1, int(lengths.sum() // segment_samples))
            if self.length < 1:
                raise CodecError(f"items_per_epoch must be positive, got {items_per_epoch}")
            self.crops: list[tuple[int, int]] = []
        else:
            self.crops = self._fixed_crops(lengths)
            self.length = len(self.crops)

    def _fixed_crops(self, lengths: np.ndarray) -> list[tuple[int, int]]:
        """(file, start) pairs: every file cut into evenly spaced non-overlapping segments."""
        crops = []
        for file_index, length in enumerate(lengths):
            count = max(1, int(length // self.segment_samples))
            spare = length - count * self.segment_samples
            offset = spare // 2
            crops += [(file_index, int(offset + k * self.segment_samples)) for k in range(count)]
        return crops

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> torch.Tensor:
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.length} items")
        if not self.random_crops:
            file_index, start = self.crops[index]
            crop = self.audio[file_index][start:start + self.segment_samples]
            return torch.from_numpy(crop.astype(np.float32, copy=True)).unsqueeze(0)
        rng = np.random.default_rng([self.seed, index])
        file_index = int(rng.choice(len(self.audio), p=self.weights))
        start = int(rng.integers(0, len(self.audio[file_index]) - self.segment_samples + 1))
        preroll = min(start, self.augment.preroll) if self.augment else 0
        crop = self.audio[file_index][start - preroll:start + self.segment_samples]
        if self.augment:
            crop = self.augment(crop, preroll, rng)
        return torch.from_numpy(crop.astype(np.float32, copy=True)).unsqueeze(0)
