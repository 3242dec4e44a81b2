"""Audio in and out as streams of blocks: read, downmix and resample on the way in; resample, upmix and
write on the way out. Memory stays flat however long the audio is.

soxr's streaming resampler gives the same samples as a one-shot call whatever the block sizes, so a file
gives the same bitstream whether it is read in blocks or handed over as one array.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from snn_codec.audio import Audio, check_sample_rate, soundfile_call
from snn_codec.errors import AudioError

BLOCK_SAMPLES = 1 << 16


@dataclass(frozen=True)
class SourceInfo:
    sample_rate: int
    channels: int
    num_samples: int

    @property
    def duration_s(self) -> float:
        return self.num_samples / self.sample_rate


class AudioSource:
    """An audio file (read in blocks) or an in-memory `Audio`, as (channels, n) float32 blocks."""

    def __init__(self, audio: Audio | str | os.PathLike):
        self.audio = audio if isinstance(audio, Audio) else None
        self.path = None if self.audio is not None else Path(audio)
        if self.audio is not None:
            self.info = SourceInfo(self.audio.sample_rate, self.audio.channels, self.audio.num_samples)
        else:
            self.info = _probe(self.path)
        if self.info.num_samples == 0:
            raise AudioError(f"{self.path or 'the audio'}: empty (0 samples); nothing to compress")
        check_sample_rate(self.info.sample_rate)

    def blocks(self) -> Iterator[np.ndarray]:
        if self.audio is not None:
            for start in range(0, self.audio.num_samples, BLOCK_SAMPLES):
                yield self.audio.samples[:, start : start + BLOCK_SAMPLES]
            return
        try:
            with sf.SoundFile(str(self.path)) as handle:
                while (block := handle.read(BLOCK_SAMPLES, dtype="float32", always_2d=True).T).size:
                    if not np.all(np.isfinite(block)):
                        raise AudioError(f"{self.path}: contains NaN or infinite samples")
                    yield block
        except (sf.LibsndfileError, RuntimeError) as err:
            raise AudioError(f"{self.path}: read error: {err}") from None


def _probe(path: Path) -> SourceInfo:
    info = soundfile_call(path, sf.info)
    if info.frames == 0:
        raise AudioError(f"{path}: the file holds no audio samples")
    return SourceInfo(int(info.samplerate), int(info.channels), int(info.frames))


def resampled_length(num_samples: int, from_rate: int, to_rate: int) -> int:
    """Samples that `num_samples` at `from_rate` become at `to_rate` (rounded to nearest)."""
    return (num_samples * to_rate + from_rate // 2) // from_rate


def exact_length(blocks: Iterator[np.ndarray], total: int) -> Iterator[np.ndarray]:
    """Crops or zero-pads a stream of (..., n) blocks to exactly `total` items along the last axis."""
    emitted, shape = 0, None
    for block in blocks:
        shape = block.shape[:-1]
        block = block[..., : total - emitted]
        emitted += block.shape[-1]
        if block.shape[-1]:
            yield block
    if emitted < total:
        yield np.zeros((*(shape or ()), total - emitted), dtype=np.float32)


def resample_stream(blocks: Iterator[np.ndarray], from_rate: int, to_rate: int, total: int) -> Iterator[np.ndarray]:
    """Resamples mono (n,) blocks with soxr (HQ), emitting exactly `total` samples."""
    if from_rate == to_rate:
        yield from exact_length(blocks, total)
        return
    stream = soxr.ResampleStream(from_rate, to_rate, 1, dtype="float32", quality="HQ")

    def chunks():
        for block in blocks:
            out = stream.resample_chunk(np.ascontiguousarray(block, dtype=np.float32))
            if out.size:
                yield out
        yield stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True)

    yield from exact_length(chunks(), total)


def mono_blocks(blocks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    for block in blocks:
        yield block.mean(axis=0, dtype=np.float32)


class AudioSink:
    """Writes (channels, n) blocks to an audio file; the format follows the extension (wav, flac, ogg)."""

    def __init__(self, path: str | os.PathLike, sample_rate: int, channels: int, fmt: str):
        subtype = "PCM_16" if fmt in ("WAV", "FLAC") else None
        try:
            self.handle = sf.SoundFile(str(path), "w", sample_rate, channels, subtype=subtype, format=fmt)
        except (sf.LibsndfileError, RuntimeError, ValueError) as err:
            raise AudioError(f"cannot write {fmt} audio at {sample_rate} Hz: {err}") from None

    def write(self, block: np.ndarray) -> None:
        try:
            self.handle.write(np.clip(block.T, -1.0, 1.0))
        except sf.SoundFileError as err:  # libsndfile's report of a failed write, e.g. a full disk
            raise AudioError(f"cannot write the audio file ({err}); is the disk full?") from None

    def close(self) -> None:
        try:
            self.handle.close()
        except sf.SoundFileError as err:
            raise AudioError(f"cannot finish the audio file ({err}); is the disk full?") from None


def output_format(path: str | os.PathLike) -> str:
    fmt = Path(path).suffix.lstrip(".").upper() or "WAV"
    if fmt not in sf.available_formats() or fmt in ("MP3", "RAW"):
        raise AudioError(f"{path}: unsupported output format {fmt!r}; use .wav, .flac or .ogg")
    return fmt
