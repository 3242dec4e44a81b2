"""What a listening test compares: reference clips, and the systems that process them.

A system is an snn_codec model (each clip is compressed to .snnc, its bitrate measured from the bytes,
then decoded) or a folder of already-decoded audio named like the references (a classical codec from the
benchmarks, say). The listening test and the static report both start here.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from snn_codec import api
from snn_codec.audio import Audio, fit_length, load_audio, resample
from snn_codec.batch import AUDIO_SUFFIXES
from snn_codec.codec import Codec
from snn_codec.errors import CodecError
from snn_codec.eval.metrics import bitrate_kbps
from snn_codec.model_io import load_model

HIDDEN_REFERENCE = "reference"
RESERVED_NAMES = (HIDDEN_REFERENCE, "anchor-3.5kHz", "anchor-7kHz")
_CONDITION_SPEC = re.compile(r"^(?P<name>[^=@]+?)(?:@(?P<kbps>[0-9.]+))?=(?P<folder>.+)$")
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._+-]{0,63}$")


@dataclass(frozen=True)
class Clip:
    """A reference excerpt: its name (the file stem), where it came from, and its audio."""

    name: str
    path: Path
    audio: Audio


@dataclass(frozen=True)
class Rendering:
    """A system's output for one clip, at the clip's rate, channel count and length."""

    audio: Audio
    bitrate_kbps: float | None  # measured from the .snnc bytes, or given for a folder; None if unknown
    snnc: bytes | None = None  # the compressed clip, for model systems
    events: np.ndarray | None = None  # (N, T) bool spikes, for spiking models


@dataclass(frozen=True)
class System:
    """A condition under test: a loaded model, or a folder of decoded files with an optional bitrate."""

    name: str
    codec: Codec | None = None
    folder: Path | None = None
    kbps: float | None = None

    @property
    def kind(self) -> str:
        return "model" if self.codec is not None else "folder"

    @property
    def is_spiking(self) -> bool:
        return self.codec is not None and self.codec.bottleneck.alphabet_size == 2

    def render(self, clip: Clip) -> Rendering:
        """Compresses and decodes `clip` (a model), or reads the clip's file from the folder."""
        if self.codec is None:
            return Rendering(_match(_folder_audio(self.folder, clip.name), clip.audio), self.kbps)
        data = api.compress(clip.audio, model=self.codec)
        decoded = api.decompress(data, model=self.codec)
        events = api.read_events(data)[1] if self.is_spiking else None
        return Rendering(decoded, bitrate_kbps(len(data), clip.audio.duration_s), data, events)

    def describe(self) -> dict:
        """JSON-ready description, saved with a test."""
        if self.codec is not None:
            config = self.codec.config
            return {"kind": "model", "model": config.name, "neuron": config.bottleneck["kind"]}
        return {"kind": "folder", "folder": str(self.folder), "bitrate_kbps": self.kbps}


def _check_label(name: str) -> str:
    if not _LABEL.match(name):
        raise CodecError(f"system name {name!r}: use letters, digits, spaces and ._+- (at most 64 characters)")
    if name in RESERVED_NAMES:
        raise CodecError(f"system name {name!r} is reserved for the hidden reference and anchors; pick another")
    return name


def model_system(spec: str) -> System:
    """`NAME_OR_PATH` or `LABEL=NAME_OR_PATH` -> a model system (the label defaults to the model's name)."""
    label, _, model = spec.rpartition("=") if "=" in spec else ("", "", spec)
    codec = load_model(model)
    return System(_check_label(label or codec.config.name), codec=codec)


def folder_system(spec: str) -> System:
    """`NAME=DIR` or `NAME@KBPS=DIR` -> a system whose outputs are the audio files in DIR."""
    match = _CONDITION_SPEC.match(spec)
    if not match:
        raise CodecError(f"condition {spec!r}: write NAME=DIR or NAME@KBPS=DIR (e.g. opus@6=decoded/opus6)")
    folder = Path(match["folder"])
    if not folder.is_dir():
        raise CodecError(f"condition {match['name']!r}: {folder} is not a folder")
    kbps = float(match["kbps"]) if match["kbps"] else None
    return System(_check_label(match["name"].strip()), folder=folder, kbps=kbps)


def load_systems(models: list[str], conditions: list[str]) -> list[System]:
    """Loads every `--model` and `--condition`; names must be unique."""
    systems = [model_system(spec) for spec in models] + [folder_system(spec) for spec in conditions]
    if not systems:
        raise CodecError("nothing to compare: give at least one --model or --condition")
    names = [s.name for s in systems]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CodecError(f"two systems are named {duplicates}; label them with --model LABEL=MODEL")
    return systems


def find_references(paths: list[str | os.PathLike]) -> list[Path]:
    """Audio files and folders (searched recursively) -> reference files, in a stable order."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
            if not inside:
                raise CodecError(f"{path}: no {'/'.join(AUDIO_SUFFIXES)} files in this folder")
            found += inside
        elif path.is_file():
            found.append(path)
        else:
            raise CodecError(f"{path}: no such file or folder")
    stems = [p.stem for p in found]
    duplicates = sorted({s for s in stems if stems.count(s) > 1})
    if duplicates:
        raise CodecError(f"reference clips must have distinct names; repeated: {duplicates}")
    return found


def load_clips(paths: list[str | os.PathLike], max_duration_s: float | None = None) -> list[Clip]:
    """Reads the references, cut to their first `max_duration_s` seconds."""
    clips = []
    for path in find_references(paths):
        audio = load_audio(path)
        if max_duration_s is not None:
            audio = Audio(audio.samples[:, : int(max_duration_s * audio.sample_rate)], audio.sample_rate)
        clips.append(Clip(path.stem, path, audio))
    if not clips:
        raise CodecError("no reference clips given")
    return clips


def _folder_audio(folder: Path, stem: str) -> Audio:
    for suffix in AUDIO_SUFFIXES:
        if (folder / (stem + suffix)).is_file():
            return load_audio(folder / (stem + suffix))
    raise CodecError(f"{folder}: no decoded file for clip {stem!r} (expected {stem}.wav, .flac, .ogg or .mp3)")


def _match(audio: Audio, like: Audio) -> Audio:
    """`audio` at the rate, channel count and length of `like`."""
    samples = resample(audio.samples, audio.sample_rate, like.sample_rate)
    if samples.shape[0] != like.channels:
        samples = np.repeat(samples.mean(axis=0, keepdims=True), like.channels, axis=0)
    return Audio(fit_length(samples, like.num_samples).astype(np.float32), like.sample_rate)
