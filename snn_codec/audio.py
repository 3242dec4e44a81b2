"""Audio I/O: load, save, downmix and resample. Nothing model-specific lives here.

soundfile reads and writes (wav, flac, ogg, mp3); soxr resamples. torch tensors are accepted wherever an
array is, so callers never need to convert.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import soundfile as sf
import soxr

from snn_codec.errors import AudioError, CodecError

MAX_SAMPLE_RATE = 768_000
T = TypeVar("T")


@dataclass(frozen=True)
class Audio:
    """Samples as float32 (channels, samples) at `sample_rate` Hz."""

    samples: np.ndarray
    sample_rate: int

    @property
    def channels(self) -> int:
        return self.samples.shape[0]

    @property
    def num_samples(self) -> int:
        return self.samples.shape[1]

    @property
    def duration_s(self) -> float:
        return self.num_samples / self.sample_rate


def as_array(samples) -> np.ndarray:
    """Any 1-D (samples) or 2-D (channels, samples) array or tensor -> float32 (channels, samples)."""
    if hasattr(samples, "detach"):  # a torch tensor
        samples = samples.detach().cpu().numpy()
    array = np.asarray(samples, dtype=np.float32)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2:
        raise AudioError(f"audio must be 1-D (samples) or 2-D (channels, samples), got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise AudioError("audio contains NaN or infinite samples")
    return array


def soundfile_call(path: str | os.PathLike, call: Callable[[str], T]) -> T:
    """Runs `call(path)` (a soundfile function) on an audio file; a missing path, a folder or an unreadable
    file becomes an AudioError that says so."""
    path = Path(path)
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(f"{path}: is a directory, expected an audio file")
    try:
        return call(str(path))
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as err:
        raise AudioError(f"{path}: not a readable audio file (wav, flac, ogg or mp3): {err}") from None


def load_audio(path: str | os.PathLike) -> Audio:
    """Reads an audio file as float32 (channels, samples) at its own sample rate."""
    data, sample_rate = soundfile_call(path, lambda name: sf.read(name, dtype="float32", always_2d=True))
    if data.shape[0] == 0:
        raise AudioError(f"{path}: the file holds no audio samples")
    return Audio(as_array(data.T), int(sample_rate))


def to_mono(samples: np.ndarray) -> np.ndarray:
    """(channels, samples) -> (1, samples), the mean of the channels."""
    return samples.mean(axis=0, keepdims=True, dtype=np.float32)


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resamples (channels, samples) with soxr (high quality). A no-op when the rates match."""
    check_sample_rate(from_rate)
    check_sample_rate(to_rate)
    if from_rate == to_rate or samples.shape[-1] == 0:
        return samples.astype(np.float32, copy=False)
    out = soxr.resample(samples.T, from_rate, to_rate, quality="HQ")
    return np.ascontiguousarray(out.T, dtype=np.float32).reshape(samples.shape[0], -1)


def fit_length(samples: np.ndarray, num_samples: int) -> np.ndarray:
    """Crops or zero-pads the last axis to exactly `num_samples`."""
    length = samples.shape[-1]
    if length >= num_samples:
        return samples[..., :num_samples]
    pad = [(0, 0)] * (samples.ndim - 1) + [(0, num_samples - length)]
    return np.pad(samples, pad)


def check_sample_rate(sample_rate: int) -> None:
    if not isinstance(sample_rate, (int, np.integer)) or not 1 <= sample_rate <= MAX_SAMPLE_RATE:
        raise AudioError(f"sample rate must be an integer between 1 and {MAX_SAMPLE_RATE} Hz, got {sample_rate!r}")


def save_audio(path: str | os.PathLike, samples, sample_rate: int) -> None:
    """Writes (channels, samples) or (samples,) audio; the format follows the file extension.

    The file is written beside the target and renamed when complete, so a failure never leaves half a file.
    """
    path = Path(path)
    array = as_array(samples)
    check_sample_rate(sample_rate)
    fmt = path.suffix.lstrip(".").upper() or "WAV"
    if fmt not in sf.available_formats():
        raise AudioError(f"{path}: unsupported output format {fmt!r}; use .wav, .flac or .ogg")
    subtype = "PCM_16" if fmt in ("WAV", "FLAC") else None
    with atomic_output(path) as tmp:
        sf.write(tmp, np.clip(array.T, -1.0, 1.0), sample_rate, format=fmt, subtype=subtype)


class atomic_output:
    """Context manager yielding a temporary path beside `path`; renamed onto `path` on success only.

    Args:
        path: the file to write.
        overwrite: replace an existing `path`. Without it, the file is linked into place, which fails if
            `path` exists at that moment: a file that appeared while this one was written is never replaced.
    """

    def __init__(self, path: str | os.PathLike, overwrite: bool = True):
        self.path, self.overwrite = Path(path), overwrite

    def __enter__(self) -> str:
        directory = self.path.parent if str(self.path.parent) else Path(".")
        if not directory.is_dir():
            problem = "is a file, not a folder" if directory.exists() else "does not exist"
            raise AudioError(f"{self.path}: {directory} {problem}")
        try:
            fd, self.tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part", dir=directory)
        except OSError as err:  # e.g. a read-only folder: name the folder, not the temporary file
            raise type(err)(err.errno, err.strerror, str(directory)) from None
        os.close(fd)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                make_readable(self.tmp)  # mkstemp makes 0600; give the file the usual permissions
                if self.overwrite:
                    os.replace(self.tmp, self.path)
                else:
                    _create_exclusively(self.tmp, self.path)
        except OSError as err:  # name the target, not the temporary file
            raise type(err)(err.errno, err.strerror, str(self.path)) from None
        finally:
            if os.path.exists(self.tmp):
                os.unlink(self.tmp)


def _create_exclusively(tmp: str, path: Path) -> None:
    """Puts the complete file `tmp` at `path` unless `path` exists (checked and done in one step); the caller
    removes `tmp`."""
    exists = CodecError(f"{path} exists (it appeared while this file was written); pass --force to overwrite it")
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise exists from None
    except OSError:  # no hard links on this file system: reserve the name, then rename onto it
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            raise exists from None
        os.replace(tmp, path)


def make_readable(path: str | os.PathLike) -> None:
    """Sets the permissions a newly created file would get under the process umask (0644 typically)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)
