"""The library's front door: compress audio to .snnc and back, inspect a .snnc file.

Everything streams: audio is read, encoded and written window by window, so memory stays flat on long
files, and the bytes written never depend on how the input was read. The CLI is a thin layer over this.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from torch import Tensor
from tqdm.auto import tqdm

from snn_codec.audio import Audio, as_array, atomic_output, check_sample_rate
from snn_codec.bitstream import Header, coder_by_id, coder_by_name, coders_for
from snn_codec.bitstream.stream import (
    AUTO,
    ContainerReader,
    ContainerWriter,
    StreamHeader,
    chunk_frames_for,
    describe_payload,
)
from snn_codec.codec import Codec, check_precision
from snn_codec.errors import AudioError, CodecError, FormatError
from snn_codec.eval.metrics import bitrate_kbps
from snn_codec.model_io import DEFAULT_MODEL, find_model, load_model, shipped_models
from snn_codec.streaming import (
    AudioSink,
    AudioSource,
    exact_length,
    mono_blocks,
    output_format,
    resample_stream,
    resampled_length,
)

MAX_FRAME_SLACK = 2  # frames a header may declare beyond what its length needs (older rounding rules)
TARGET_MEASURE_S = 600.0  # a target bitrate is set on (at most) the first 10 minutes of the audio


@dataclass(frozen=True)
class FileInfo:
    """What `snn-codec info` reports about a .snnc file."""

    header: Header
    version: int
    coders: dict[str, int]  # coder name -> chunks coded with it
    chunks: int
    total_bytes: int
    payload_bytes: int
    duration_s: float
    events: int  # spikes; 0 for a VQ model's indices
    codebook_size: int | None = None  # a VQ model's file: the codebook size; None for spikes

    @property
    def stores_indices(self) -> bool:
        """The file holds codebook indices (a VQ model; `header.num_units` codebooks), not spikes."""
        return self.codebook_size is not None

    @property
    def bits_per_index(self) -> float:
        indices = self.header.num_units * self.header.num_frames
        return self.payload_bytes * 8 / indices if indices else float("nan")

    @property
    def coder(self) -> str:
        return ", ".join(f"{name} x{count}" if len(self.coders) > 1 else name for name, count in self.coders.items())

    @property
    def overhead_bytes(self) -> int:
        """Header, chunk framing and checksums."""
        return self.total_bytes - self.payload_bytes

    @property
    def bitrate_kbps(self) -> float:
        return bitrate_kbps(self.total_bytes, self.duration_s)

    @property
    def payload_kbps(self) -> float:
        return bitrate_kbps(self.payload_bytes, self.duration_s)

    @property
    def firing_rate(self) -> float:
        cells = self.header.num_units * self.header.num_frames
        return self.events / cells if cells else 0.0

    @property
    def events_per_s(self) -> float:
        return self.events / self.duration_s if self.duration_s > 0 else float("nan")

    @property
    def bits_per_event(self) -> float:
        return self.payload_bytes * 8 / self.events if self.events else float("nan")

    @property
    def bits_per_frame(self) -> float:
        return self.payload_bytes * 8 / self.header.num_frames if self.header.num_frames else float("nan")


def _model(model: Codec | str | os.PathLike | None) -> Codec:
    return model if isinstance(model, Codec) else load_model(model or DEFAULT_MODEL)


def _source(audio, sample_rate: int | None) -> AudioSource:
    if isinstance(audio, (str, os.PathLike, Audio)):
        return AudioSource(audio)
    if sample_rate is None:
        raise AudioError("pass sample_rate with an array or tensor of samples")
    check_sample_rate(sample_rate)
    return AudioSource(Audio(as_array(audio), int(sample_rate)))


def _windows_bar(items: Iterator, windows: int, label: str, progress: bool) -> Iterator:
    """A progress bar over inference windows, shown only for inputs longer than one window."""
    return tqdm(items, total=windows, desc=label, unit="window", disable=not progress or windows < 2, leave=False)


def compress_to(source: AudioSource, out: BinaryIO, codec: Codec, coder: str = "auto", progress: bool = False,
                target_kbps: float | None = None, precision: str = "auto") -> int:
    """Encodes `source` into `out` as a .snnc v2 stream, chunk by chunk. Returns the bytes written.

    With `target_kbps`, the events come from a copy of the model whose firing thresholds are moved so
    that the file comes out at that bitrate (see `encoder_for_rate`); the file names the model itself, and
    decodes with it. `precision` is the encoder network's (see `Codec.encoder_precision`).
    """
    check_precision(precision)
    info, rate = source.info, codec.config.sample_rate
    model_samples = resampled_length(info.num_samples, info.sample_rate, rate)
    writer = _writer(out, codec, coder, info.sample_rate, info.num_samples, info.channels)
    encoder, latents = (codec, None) if target_kbps is None else encoder_for_rate(source, codec, target_kbps, coder,
                                                                                 progress, precision)
    if latents is None:  # no target, or audio longer than the part measured for it: encode it all
        mono = resample_stream(mono_blocks(source.blocks()), info.sample_rate, rate, model_samples)
        events = encoder.encode_stream(mono, model_samples, precision)
    else:
        events = encoder.events_from_latents(latents)
    for block in _windows_bar(events, _window_count(codec, model_samples), "encode", progress):
        writer.write_events(block)
    writer.close()
    return writer.bytes_written


def _window_count(codec: Codec, model_samples: int) -> int:
    return -(-codec.num_frames(model_samples) // codec.window_frames)


def _writer(out: BinaryIO, codec: Codec, coder: str, sample_rate: int, num_samples: int,
            channels: int) -> ContainerWriter:
    """A container writer for `num_samples` at `sample_rate` coded by `codec`, its header written."""
    bottleneck = codec.bottleneck
    if not bottleneck.has_bitstream:
        raise CodecError(f"{codec.config.name}: an unquantized reference model has no bitstream (it measures the "
                         "auto-encoder's ceiling); compress with a spiking or VQ model")
    choices = coders_for(bottleneck.stores_indices)
    coders = list(choices.values()) if coder == "auto" else [coder_by_name(coder, bottleneck.stores_indices)]
    header = Header(
        sample_rate=sample_rate,
        num_samples=num_samples,
        channels=channels,
        model_id=codec.config.name,
        weight_hash=codec.weight_hash(),
        coder_id=AUTO if coder == "auto" else coders[0].coder_id,
        num_units=codec.units,
        num_frames=codec.num_frames(resampled_length(num_samples, sample_rate, codec.config.sample_rate)),
    )
    stream = StreamHeader(header, chunk_frames_for(codec.units, codec.window_frames))
    alphabet_size = bottleneck.alphabet_size if bottleneck.stores_indices else None
    return ContainerWriter(out, stream, coders, alphabet_size)


def encoder_for_rate(source: AudioSource, codec: Codec, target_kbps: float, coder: str = "auto",
                     progress: bool = False, precision: str = "auto") -> tuple[Codec, list[Tensor] | None]:
    """A copy of `codec` whose firing thresholds are moved (one offset for all units, see
    `snn_codec.rate.bisect_offset`) so that `source` compresses to `target_kbps` within 1 %, and the
    encoder's latent windows of the whole audio when they were all measured (None for longer audio).

    The rate is measured from the bytes of the file itself, or of its first TARGET_MEASURE_S seconds coded
    as a file of their own (their chunks' rate, plus the header spread over the whole length). The
    encoder runs once over that audio; each bisection step reruns only the bottleneck and the coders, and
    audio that was measured whole is written from the same latents. Only the encoder's events change, so
    the original model decodes them. A target the thresholds cannot reach is an error.
    """
    from snn_codec.rate import bisect_offset, check_target_kbps

    check_target_kbps(target_kbps, "--kbps (target_kbps)")
    if codec.bottleneck.stores_indices:
        raise CodecError(f"{codec.config.name}: a VQ model's bitrate is set by its codebooks; a target bitrate "
                         "needs a spiking model")
    info, rate = source.info, codec.config.sample_rate
    samples = min(info.num_samples, round(TARGET_MEASURE_S * info.sample_rate))
    model_samples = resampled_length(samples, info.sample_rate, rate)
    blocks = exact_length(mono_blocks(source.blocks()), samples)
    encoder = copy.deepcopy(codec).eval()
    latents = list(_windows_bar(encoder.latent_stream(resample_stream(blocks, info.sample_rate, rate, model_samples),
                                                      model_samples, precision),
                                _window_count(codec, model_samples), "measure", progress))
    measured_s, total_s = samples / info.sample_rate, info.duration_s

    def kbps() -> float:
        """The whole file's bitrate: the measured audio's chunks, scaled to the file's length, and the header."""
        writer = _writer(io.BytesIO(), codec, coder, info.sample_rate, samples, info.channels)
        header = writer.bytes_written
        for events in encoder.events_from_latents(latents):
            writer.write_events(events)
        writer.close()
        return bitrate_kbps(writer.bytes_written - header, measured_s) + bitrate_kbps(header, total_s)

    trim = bisect_offset(encoder, kbps, target_kbps)
    if trim.missed:
        raise CodecError(f"{codec.config.name} codes this audio at {trim.kbps_before:.3f} kbps; moving its "
                         f"thresholds gets no closer to {target_kbps:g} kbps than {trim.kbps_after:.3f} "
                         f"({trim.error:+.0%}); `snn-codec models` lists the models trained for other rates")
    return encoder, latents if samples == info.num_samples else None


def compress(
    audio,
    sample_rate: int | None = None,
    model: Codec | str | None = None,
    coder: str = "auto",
    progress: bool = False,
    target_kbps: float | None = None,
    precision: str = "auto",
) -> bytes:
    """Compresses audio to the bytes of a .snnc file.

    Args:
        audio: a file path, an `Audio`, or samples (S,) / (channels, S) as a numpy array or torch tensor.
        sample_rate: rate of `audio` in Hz when it is an array or tensor.
        model: a loaded `Codec`, a shipped model name, or a .safetensors path (default: the piano model).
        coder: event coder name (an index coder for VQ models), or "auto" for the smallest payload of each
            chunk.
        progress: show a progress bar on long inputs.
        target_kbps: the bitrate of the file, set by moving the spiking model's firing thresholds for this
            audio (see `encoder_for_rate`); None keeps the model's own rate.
        precision: the encoder network's, "auto" (bfloat16 where the CPU has it natively, for models whose
            config allows it; else float32), "float32" or "bfloat16". The bottleneck that makes the events
            always runs in float32.

    Returns:
        The .snnc file. Stereo input is downmixed to mono; decoding upmixes it back to as many channels.
    """
    source = _source(audio, sample_rate)
    out = io.BytesIO()
    compress_to(source, out, _model(model), coder, progress, target_kbps, precision)
    return out.getvalue()


def compress_file(input_path, output_path, model: Codec | str | None = None, coder: str = "auto",
                  progress: bool = False, target_kbps: float | None = None, overwrite: bool = True,
                  precision: str = "auto") -> None:
    """Compresses an audio file into a .snnc file, streaming; the output appears only when complete.

    With `overwrite=False`, an output that exists when the file is complete is kept and CodecError raised.
    """
    source, codec = AudioSource(input_path), _model(model)
    with atomic_output(output_path, overwrite) as tmp, open(tmp, "wb") as out:
        compress_to(source, out, codec, coder, progress, target_kbps, precision)


def _model_for(header: Header, model: Codec | str | None, folders: tuple[Path, ...] = ()) -> Codec:
    """The model that wrote `header`'s file: `model`, else the shipped model it names, else the model file
    of that name and weights found in `folders`, the current folder or runs/*/ (see `find_model`)."""
    written_by = f"model {header.model_id!r} (weights {header.weight_hash.hex()[:12]})"
    if model is None:
        shipped = load_model(header.model_id) if header.model_id in shipped_models() else None
        if shipped is not None and shipped.weight_hash() == header.weight_hash:
            return _checked(header, shipped)
        found = find_model(header.model_id, header.weight_hash, folders)
        if found is None:
            where = "is not the shipped model of that name" if shipped else "does not ship with snn_codec"
            raise CodecError(
                f"this file was written by {written_by}, which {where} and was not found beside the file, in the "
                "current folder or in runs/*/; pass the .safetensors file of that model with --model (a run "
                "of `snn-codec train` writes RUN_DIR/model.safetensors)")
        return _checked(header, found)  # its name and weights are the header's: find_model matched them
    codec = _model(model)
    if header.model_id != codec.config.name or header.weight_hash != codec.weight_hash():
        raise CodecError(
            f"this file was written by {written_by}, not by {codec.config.name!r} "
            f"({codec.weight_hash().hex()[:12]}); pass that model with --model"
        )
    return _checked(header, codec)


def _checked(header: Header, codec: Codec) -> Codec:
    """`codec`, once the header's units and frames agree with it."""
    if header.num_units != codec.units:
        raise FormatError(f"file has {header.num_units} units but model {codec.config.name!r} has {codec.units}")
    model_samples = resampled_length(header.num_samples, header.sample_rate, codec.config.sample_rate)
    if abs(header.num_frames - codec.num_frames(model_samples)) > MAX_FRAME_SLACK:
        raise FormatError(f"corrupted header: {header.num_frames} frames cannot hold {header.num_samples} samples")
    return codec


def decompress_from(source: BinaryIO, model: Codec | str | None = None, progress: bool = False,
                    start_s: float = 0.0, duration_s: float | None = None,
                    precision: str = "auto") -> tuple[Header, Iterator[np.ndarray]]:
    """Opens a .snnc stream. Returns its header and the decoded (channels, n) blocks, lazily.

    `precision` is the decoder's (see `snn_codec.codec.precision_autocast`): "auto" takes bfloat16 where
    the CPU has it natively, "float32" the reference.

    `start_s` and `duration_s` select a part of the audio: only the chunks it needs are decoded (the
    others are skipped by their lengths). The part equals the same samples of a full decode, up to the
    resampler's rounding when the file's rate differs from the model's.
    """
    check_precision(precision)  # now: decoding starts lazily, after the output file is opened
    reader = ContainerReader(source, coder_by_id)
    header = reader.header
    name = getattr(source, "name", None)  # a file's folder is a place to look for its model
    codec = _model_for(header, model, (Path(name).parent,) if isinstance(name, str) else ())
    chunks = _model_chunks(reader, codec)
    rate, sr, total = codec.config.sample_rate, header.sample_rate, header.num_samples
    first = min(max(int(round(start_s * sr)), 0), total)
    stop = total if duration_s is None else min(total, first + max(int(round(duration_s * sr)), 0))
    size, hop, num_frames = codec.window_frames, codec.hop_length, header.num_frames
    count = -(-num_frames // size)
    if first == 0 and stop == total:
        events = chunks()
        mono = _windows_bar(codec.decode_stream(events, num_frames, precision=precision), count, "decode", progress)
        restored = resample_stream(mono, rate, sr, total)
        return header, (np.repeat(block[None], header.channels, axis=0) for block in restored)
    # windows covering [first, stop), plus one on each side so the resampler sees real context
    lo_window = max(0, first * rate // sr // hop // size - 1)
    hi_window = min(count, -(-(-(-stop * rate // sr) // hop) // size) + 1)
    context, chunk_frames = codec.decoder.context_frames, reader.stream.chunk_frames
    first_chunk = max(0, lo_window * size - context) // chunk_frames
    stop_chunk = -(-min(num_frames, hi_window * size + context) // chunk_frames)
    events = chunks(first_chunk, stop_chunk)
    mono = codec.decode_stream(events, num_frames, first_chunk * chunk_frames, range(lo_window, hi_window),
                               precision)
    segment_start = lo_window * size * hop * sr // rate  # in samples at the file's rate
    segment_frames = min(num_frames, hi_window * size) - lo_window * size
    restored = resample_stream(_windows_bar(mono, hi_window - lo_window, "decode", progress), rate, sr,
                               resampled_length(segment_frames * hop, rate, sr))
    part = _slice_stream(restored, first - segment_start, stop - segment_start)
    return header, (np.repeat(block[None], header.channels, axis=0) for block in part)


def _model_chunks(reader: ContainerReader, codec: Codec) -> Callable[..., Iterator[np.ndarray]]:
    """`reader.chunks` without the coders, checked to hold what the model's bottleneck decodes."""
    bottleneck = codec.bottleneck
    expected = (bottleneck.stores_indices, bottleneck.alphabet_size)

    def chunks(first: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        for _, chunk in reader.chunks(first, stop):
            if reader.payload_kind != expected:
                found = describe_payload(reader.payload_kind)
                raise FormatError(f"corrupted: the file holds {found}, which model {codec.config.name!r} cannot decode")
            yield chunk

    return chunks


def _slice_stream(blocks: Iterator[np.ndarray], start: int, stop: int) -> Iterator[np.ndarray]:
    """Samples [start, stop) of a stream of (n,) blocks, zero-padded if the stream is shorter."""
    position = 0
    for block in blocks:
        piece = block[max(start - position, 0) : max(stop - position, 0)]
        position += len(block)
        if len(piece):
            yield piece
    emitted = max(0, min(position, stop) - max(start, 0))
    if emitted < stop - start:
        yield np.zeros(stop - start - emitted, dtype=np.float32)


def decompress(data: bytes, model: Codec | str | None = None, progress: bool = False,
               start_s: float = 0.0, duration_s: float | None = None, precision: str = "auto") -> Audio:
    """Decodes the bytes of a .snnc file to audio at the original rate, length and channel count.

    Args:
        data: the .snnc file.
        model: the model that wrote it (default: the shipped model named in the header).
        progress: show a progress bar on long inputs.
        start_s, duration_s: decode only this part (seconds); only the chunks it needs are decoded.
        precision: the decoder's, "auto" (bfloat16 where the CPU has it natively), "float32" or "bfloat16".

    Raises:
        FormatError: damaged or foreign data. CodecError: the model does not match the file.
    """
    header, blocks = decompress_from(io.BytesIO(bytes(data)), model, progress, start_s, duration_s, precision)
    parts = list(blocks)
    samples = np.concatenate(parts, axis=-1) if parts else np.zeros((header.channels, 0), np.float32)
    return Audio(samples.astype(np.float32, copy=False), header.sample_rate)


def decompress_file(input_path, output_path, model: Codec | str | None = None, progress: bool = False,
                    start_s: float = 0.0, duration_s: float | None = None, overwrite: bool = True,
                    precision: str = "auto") -> Header:
    """Decodes a .snnc file (a path or a readable binary stream) into an audio file (wav, flac or ogg),
    streaming; the output appears only when complete. With `overwrite=False`, an output that exists when
    the file is complete is kept and CodecError raised."""
    fmt = output_format(output_path)
    opened = contextlib.nullcontext(input_path) if hasattr(input_path, "read") else open_snnc(input_path)
    with opened as source:
        header, blocks = decompress_from(source, model, progress, start_s, duration_s, precision)
        with atomic_output(output_path, overwrite) as tmp:
            sink = AudioSink(tmp, header.sample_rate, header.channels, fmt)
            try:
                for block in blocks:
                    sink.write(block)
            finally:
                sink.close()
    return header


def inspect_stream(source: BinaryIO) -> FileInfo:
    """Header, sizes, coders and event statistics of a .snnc stream (no model needed)."""
    counter = _CountingReader(source)
    reader = ContainerReader(counter, coder_by_id)
    coders: dict[str, int] = {}
    events = chunks = 0
    for coder, chunk in reader.chunks():
        coders[coder.name] = coders.get(coder.name, 0) + 1
        events += 0 if coder.stores_indices else int(chunk.sum())
        chunks += 1
    header = reader.header
    stores_indices, alphabet_size = reader.payload_kind or (False, 2)
    return FileInfo(
        header=header, version=reader.version, coders=coders, chunks=chunks, total_bytes=counter.count,
        payload_bytes=reader.payload_bytes, duration_s=header.num_samples / header.sample_rate, events=events,
        codebook_size=alphabet_size if stores_indices else None,
    )


def read_events(data: bytes) -> tuple[Header, np.ndarray]:
    """The header and the whole (N, T) event matrix of a .snnc file (bool spikes or int64 codebook indices)."""
    reader = ContainerReader(io.BytesIO(bytes(data)), coder_by_id)
    chunks = [chunk for _, chunk in reader.chunks()]
    events = np.concatenate(chunks, axis=-1) if chunks else np.zeros((reader.header.num_units, 0), bool)
    return reader.header, events


def inspect(data: bytes) -> FileInfo:
    """`inspect_stream` on the bytes of a .snnc file."""
    return inspect_stream(io.BytesIO(bytes(data)))


class _CountingReader(io.RawIOBase):
    """Counts the bytes read through it (the reader reads exactly the file, nothing more)."""

    def __init__(self, source: BinaryIO):
        self.source, self.count = source, 0

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.count += len(data)
        return data


def open_snnc(path: str | os.PathLike) -> BinaryIO:
    """Opens a .snnc file for reading with a clear error when it is missing."""
    path = Path(path)
    if not path.is_file():
        raise CodecError(f"{path}: no such file")
    return open(path, "rb")


__all__ = [
    "FileInfo", "compress", "compress_file", "decompress", "decompress_file", "inspect", "inspect_stream",
    "read_events",
]
