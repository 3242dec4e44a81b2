"""The library's front door: compress audio to .snnc bytes and back, inspect a .snnc file.

The CLI is a thin layer over these functions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from snn_codec.audio import Audio, as_array, check_sample_rate, fit_length, load_audio, resample, to_mono
from snn_codec.bitstream import Header, coder_by_id, encode_events, header_size, pack, read_header, unpack
from snn_codec.codec import Codec
from snn_codec.errors import AudioError, CodecError, FormatError
from snn_codec.eval.metrics import bitrate_kbps
from snn_codec.model_io import DEFAULT_MODEL, load_model, shipped_models

MAX_FRAME_SLACK = 2  # frames a header may declare beyond what its length needs (resampling rounding)


@dataclass(frozen=True)
class FileInfo:
    """What `snn-codec info` reports about a .snnc file."""

    header: Header
    coder: str
    total_bytes: int
    header_bytes: int
    payload_bytes: int
    duration_s: float
    bitrate_kbps: float
    payload_kbps: float
    events: int
    firing_rate: float

    @property
    def events_per_s(self) -> float:
        return self.events / self.duration_s if self.duration_s > 0 else float("nan")


def _model(model: Codec | str | os.PathLike | None) -> Codec:
    return model if isinstance(model, Codec) else load_model(model or DEFAULT_MODEL)


def _read_input(audio, sample_rate: int | None) -> Audio:
    if isinstance(audio, Audio):
        return audio
    if isinstance(audio, (str, os.PathLike)):
        return load_audio(audio)
    if sample_rate is None:
        raise AudioError("pass sample_rate with an array or tensor of samples")
    check_sample_rate(sample_rate)
    return Audio(as_array(audio), int(sample_rate))


def compress(
    audio,
    sample_rate: int | None = None,
    model: Codec | str | None = None,
    coder: str = "auto",
    progress: bool = False,
) -> bytes:
    """Compresses audio to the bytes of a .snnc file.

    Args:
        audio: a file path, an `Audio`, or samples (S,) / (channels, S) as a numpy array or torch tensor.
        sample_rate: rate of `audio` in Hz when it is an array or tensor.
        model: a loaded `Codec`, a shipped model name, or a .safetensors path (default: the piano model).
        coder: event coder name, or "auto" for the smallest payload.
        progress: show a progress bar on long inputs.

    Returns:
        The .snnc file. Stereo input is downmixed to mono; decoding upmixes it back to as many channels.
    """
    codec = _model(model)
    source = _read_input(audio, sample_rate)
    if source.num_samples == 0:
        raise AudioError("the audio is empty (0 samples); nothing to compress")
    mono = resample(to_mono(source.samples), source.sample_rate, codec.config.sample_rate)[0]
    events = codec.encode(torch.from_numpy(mono), progress=progress).numpy()
    chosen, payload = encode_events(events, coder)
    header = Header(
        sample_rate=source.sample_rate,
        num_samples=source.num_samples,
        channels=source.channels,
        model_id=codec.config.name,
        weight_hash=codec.weight_hash(),
        coder_id=chosen.coder_id,
        num_units=codec.units,
        num_frames=events.shape[1],
    )
    return pack(header, payload)


def expected_frames(header: Header, codec: Codec) -> int:
    """Latent frames that `header.num_samples` at `header.sample_rate` give at the model's rate."""
    model_samples = header.num_samples * codec.config.sample_rate / header.sample_rate
    return codec.num_frames(int(np.ceil(model_samples)))


def decompress(data: bytes, model: Codec | str | None = None, progress: bool = False) -> Audio:
    """Decodes the bytes of a .snnc file to audio at the original rate, length and channel count.

    Args:
        data: the .snnc file.
        model: the model that wrote it (default: the shipped model named in the header).
        progress: show a progress bar on long inputs.

    Raises:
        FormatError: damaged or foreign data. CodecError: the model does not match the file.
    """
    header, payload = unpack(bytes(data))
    if model is None and header.model_id not in shipped_models():
        raise CodecError(
            f"this file was written by model {header.model_id!r}, which does not ship with snn_codec; "
            "pass its .safetensors file with --model"
        )
    codec = _model(model or header.model_id)
    if header.model_id != codec.config.name or header.weight_hash != codec.weight_hash():
        raise CodecError(
            f"this file was written by model {header.model_id!r} (weights {header.weight_hash.hex()[:12]}), "
            f"not by {codec.config.name!r} ({codec.weight_hash().hex()[:12]}); pass that model with --model"
        )
    if header.num_units != codec.units:
        raise FormatError(f"file has {header.num_units} units but model {codec.config.name!r} has {codec.units}")
    if abs(header.num_frames - expected_frames(header, codec)) > MAX_FRAME_SLACK:
        raise FormatError(
            f"corrupted header: {header.num_frames} frames cannot hold {header.num_samples} samples"
        )
    events = coder_by_id(header.coder_id).decode(payload, header.num_units, header.num_frames)
    mono = codec.decode(torch.from_numpy(events), progress=progress).numpy()[None]
    restored = fit_length(resample(mono, codec.config.sample_rate, header.sample_rate), header.num_samples)
    return Audio(np.repeat(restored, header.channels, axis=0), header.sample_rate)


def inspect(data: bytes) -> FileInfo:
    """Header, sizes, actual bitrate and event statistics of a .snnc file (no model needed)."""
    header, payload = unpack(bytes(data))
    coder = coder_by_id(header.coder_id)
    events = coder.decode(payload, header.num_units, header.num_frames)
    duration_s = header.num_samples / header.sample_rate
    count = int(events.sum())
    return FileInfo(
        header=header,
        coder=coder.name,
        total_bytes=len(data),
        header_bytes=header_size(header),
        payload_bytes=len(payload),
        duration_s=duration_s,
        bitrate_kbps=bitrate_kbps(len(data), duration_s),
        payload_kbps=bitrate_kbps(len(payload), duration_s),
        events=count,
        firing_rate=count / events.size if events.size else 0.0,
    )


def read_snnc(path: str | os.PathLike) -> bytes:
    """Reads a .snnc file's bytes with a clear error when it is missing."""
    path = Path(path)
    if not path.is_file():
        raise CodecError(f"{path}: no such file")
    return path.read_bytes()


__all__ = ["FileInfo", "compress", "decompress", "inspect", "read_header", "read_snnc"]
