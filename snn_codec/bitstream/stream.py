"""The .snnc container, versions 2 and 3: a header, then independently coded chunks, each with its own checksum.

Chunks let any length of audio stream through with flat memory, and let a reader skip to a chunk by
reading only the chunk lengths. Version 3 (written) binds every chunk to its place and its file: each
chunk carries its index and a last-chunk flag, and its checksum starts from the checksum stored just
before it (the header's for chunk 0), so reordered, duplicated, dropped, foreign and trailing data are
refused. Versions 2 and 1 are still read.

Layout (docs/format.md has every field; all integers little-endian, no padding):

    header  magic b"SNNC", version (u8), sample_rate (u32), num_samples (u64), channels (u16),
            coder_id (u8, 0 = chosen per chunk), num_units N (u16), num_frames T (u32),
            chunk_frames F (u32), weight_hash (16 bytes), model_id (u8 length + utf-8), CRC32 (u32)
    then ceil(T / F) chunks, each in version 3:
            index (u32), flags (u8, bit 0 = LAST), coder_id (u8), payload length P (u32), payload,
            CRC32 (u32) of (the 4 checksum bytes stored just before the chunk) + the chunk's bytes
    or in version 2:
            coder_id (u8), payload length P (u32), payload, CRC32 (u32) of the chunk's bytes
    and nothing after the last chunk.

A VQ model's file has the same layout: N is its number of codebooks Q, and each chunk holds the (Q, frames)
codebook indices, coded by an index coder whose payload starts with the codebook size. Every chunk of a
file holds the same kind of payload (binary events, or indices of one codebook size).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from snn_codec.bitstream import container as v1
from snn_codec.bitstream.base import MAX_CHUNK_CELLS, Coder, max_payload
from snn_codec.bitstream.container import Header, header_problem
from snn_codec.errors import ConfigError, FormatError

VERSION = 3  # written; versions 1 and 2 are read too
READ_VERSIONS = (1, 2, 3)
MAX_CHUNK_FRAMES = 2**16
READ_PIECE = 1 << 20  # large reads go in pieces, so a lying length cannot allocate more than the file holds
_FIXED = struct.Struct("<4sBIQHBHII16sB")
_CHUNK = struct.Struct("<IBBI")  # version 3: index, flags, coder_id, payload length
_CHUNK_V2 = struct.Struct("<BI")  # version 2: coder_id, payload length
LAST = 1  # the chunk flag of the last chunk
_CRC = struct.Struct("<I")
AUTO = 0
V1_CODERS = (1, 2)  # dense and sparse: version 1 predates the entropy coder


@dataclass(frozen=True)
class StreamHeader:
    """A v2/v3 header: the v1 fields (`coder_id` 0 = per chunk) plus the frames per chunk."""

    header: Header
    chunk_frames: int

    @property
    def num_chunks(self) -> int:
        return -(-self.header.num_frames // self.chunk_frames)

    def frames_in_chunk(self, index: int) -> int:
        return min(self.chunk_frames, self.header.num_frames - index * self.chunk_frames)


def _problem(stream: StreamHeader) -> str | None:
    problem = header_problem(stream.header)
    if problem:
        return problem
    if not 1 <= stream.chunk_frames <= MAX_CHUNK_FRAMES:
        return f"chunk_frames {stream.chunk_frames} is out of range 1..{MAX_CHUNK_FRAMES}"
    if stream.chunk_frames * stream.header.num_units > MAX_CHUNK_CELLS:
        return f"chunks of {stream.chunk_frames} frames x {stream.header.num_units} units exceed {MAX_CHUNK_CELLS} events"
    return None


def chunk_frames_for(num_units: int, preferred: int) -> int:
    """The largest chunk length up to `preferred` frames that keeps a chunk within MAX_CHUNK_CELLS."""
    return max(1, min(preferred, MAX_CHUNK_FRAMES, MAX_CHUNK_CELLS // num_units))


class ContainerWriter:
    """Writes a v3 file to a binary stream: events go in, in blocks of any width; chunks come out.

    Args:
        out: a writable binary stream.
        stream: the header; `header.coder_id` is the coder id, or AUTO to pick the smallest per chunk.
        coders: the coders to choose from (AUTO), or the one whose id is in the header.
        alphabet_size: the codebook size of a VQ model's indices, coded by index coders; None for binary
            events, coded by event coders.
        version: 3, or 2 for readers older than version 3 (chunks then carry no index, flag or link).
    """

    def __init__(self, out: BinaryIO, stream: StreamHeader, coders: list[Coder], alphabet_size: int | None = None,
                 version: int = VERSION):
        problem = _problem(stream)
        if problem:
            raise ConfigError(f"cannot write .snnc header: {problem}")
        if version not in (2, VERSION):
            raise ConfigError(f"cannot write .snnc version {version}; choose 2 or {VERSION}")
        stores_indices = alphabet_size is not None
        if any(coder.stores_indices != stores_indices for coder in coders):
            raise ConfigError(f"coders {coders} do not all code {'indices' if stores_indices else 'binary events'}")
        self.out, self.stream, self.coders, self.alphabet_size = out, stream, coders, alphabet_size
        self.pending = np.zeros((stream.header.num_units, 0), dtype=np.int64 if stores_indices else bool)
        self.version = version
        self.frames_written = 0
        self.chunks_written = 0
        self.bytes_written = 0
        header = _pack_header(stream, version)
        self._link = header[-_CRC.size :]  # the checksum bytes the next chunk's checksum starts from
        self._write(header)

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.bytes_written += len(data)

    def write_events(self, events: np.ndarray) -> None:
        """Appends (N, frames) bool events or (Q, frames) indices; complete chunks are coded and written."""
        self.pending = np.concatenate([self.pending, events], axis=1)
        size = self.stream.chunk_frames
        while self.pending.shape[1] >= size:
            self._write_chunk(self.pending[:, :size])
            self.pending = self.pending[:, size:]

    def _write_chunk(self, events: np.ndarray) -> None:
        coded = [(coder, self._encode(coder, np.ascontiguousarray(events))) for coder in self.coders]
        coder, payload = min(coded, key=lambda pair: (len(pair[1]), pair[0].coder_id))
        if self.version == 2:
            body = _CHUNK_V2.pack(coder.coder_id, len(payload)) + payload
            self._write(body + _CRC.pack(zlib.crc32(body)))
        else:
            is_last = self.frames_written + events.shape[1] == self.stream.header.num_frames
            body = _CHUNK.pack(self.chunks_written, LAST if is_last else 0, coder.coder_id, len(payload)) + payload
            self._link = _CRC.pack(zlib.crc32(self._link + body))
            self._write(body + self._link)
        self.frames_written += events.shape[1]
        self.chunks_written += 1

    def _encode(self, coder: Coder, events: np.ndarray) -> bytes:
        if self.alphabet_size is None:
            return coder.encode(events)
        return coder.encode(events, self.alphabet_size)

    def close(self) -> None:
        """Writes the last, shorter chunk."""
        if self.pending.shape[1]:
            self._write_chunk(self.pending)
            self.pending = self.pending[:, :0]
        assert self.frames_written == self.stream.header.num_frames, "every frame must be written"


def _pack_header(stream: StreamHeader, version: int) -> bytes:
    h = stream.header
    model_id = h.model_id.encode("utf-8")
    body = _FIXED.pack(
        v1.MAGIC, version, h.sample_rate, h.num_samples, h.channels, h.coder_id, h.num_units,
        h.num_frames, stream.chunk_frames, h.weight_hash, len(model_id),
    ) + model_id
    return body + _CRC.pack(zlib.crc32(body))


def _read_exactly(source: BinaryIO, size: int, what: str) -> bytes:
    pieces, remaining = [], size
    while remaining > 0:
        piece = source.read(min(remaining, READ_PIECE))
        if not piece:
            raise FormatError(f"truncated: the .snnc file ends inside {what}")
        pieces.append(piece)
        remaining -= len(piece)
    return b"".join(pieces)


class ContainerReader:
    """Reads a .snnc file (v3, v2 or v1) from a binary stream, chunk by chunk, verifying every checksum.

    Reading the last chunk also checks that nothing follows it, before that chunk is handed out, so a
    consumer that stops once it has every frame still refuses trailing data.

    Args:
        source: a readable binary stream positioned at the start of the file.
        coder_by_id: the registry lookup (raises FormatError for unknown ids).
    """

    def __init__(self, source: BinaryIO, coder_by_id):
        self.source, self.coder_by_id = source, coder_by_id
        start = source.read(len(v1.MAGIC) + 1)
        if len(start) == 0:
            raise FormatError("empty input: not a .snnc file")
        if start[: len(v1.MAGIC)] != v1.MAGIC[: len(start)]:
            raise FormatError("not a .snnc file (wrong magic bytes)")
        if len(start) <= len(v1.MAGIC):
            raise FormatError("truncated: the .snnc header is incomplete")
        self.version = start[-1]
        self.payload_bytes = 0  # payload bytes read so far (the events, without framing)
        self.payload_kind: tuple[bool, int] | None = None  # (stores_indices, alphabet_size) of the chunks read
        self._v1_payload: bytes | None = None
        self._link = b""  # v3: the checksum bytes stored just before the next chunk
        if self.version == 1:
            self.stream = self._read_v1(start)
        elif self.version in READ_VERSIONS:
            self.stream = self._read_header(start)
        else:
            raise FormatError(f"unsupported .snnc version {self.version}; this snn_codec reads versions 1, 2 and 3; "
                              "a newer snn_codec may read it")

    def _read_v1(self, start: bytes) -> StreamHeader:
        # v1 has one payload and a checksum at the very end: its size is announced in the header
        head = start + _read_exactly(self.source, v1._FIXED.size - len(start), "the header")
        model_id_length = head[-1]
        head += _read_exactly(self.source, model_id_length + v1._PAYLOAD_LENGTH.size, "the header")
        (payload_length,) = v1._PAYLOAD_LENGTH.unpack_from(head, len(head) - v1._PAYLOAD_LENGTH.size)
        fields = v1._FIXED.unpack_from(head)
        coder_id, num_units, num_frames = fields[5], fields[6], fields[7]
        if coder_id not in V1_CODERS:  # the coders whose payload size bounds the matrix they declare
            raise FormatError(f"corrupted: version 1 files use event coders {V1_CODERS}, not {coder_id}")
        if payload_length > max_payload(max(num_units, 1), num_frames):
            raise FormatError("corrupted: the .snnc payload length is larger than any coder writes")
        rest = _read_exactly(self.source, payload_length + v1.CRC_SIZE, "the payload")
        header, payload = v1.unpack(head + rest)
        self._v1_payload = payload
        self.payload_bytes = len(payload)
        return StreamHeader(header, chunk_frames=max(header.num_frames, 1))

    def _read_header(self, start: bytes) -> StreamHeader:
        head = start + _read_exactly(self.source, _FIXED.size - len(start), "the header")
        fields = _FIXED.unpack(head)
        raw_model_id = _read_exactly(self.source, fields[-1], "the header")
        self._link = _read_exactly(self.source, _CRC.size, "the header")
        (stored,) = _CRC.unpack(self._link)
        if zlib.crc32(head + raw_model_id) != stored:
            raise FormatError("corrupted: header checksum mismatch; the .snnc file was damaged, re-create it")
        try:
            model_id = raw_model_id.decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError("corrupted: the model id in the .snnc header is not valid utf-8") from None
        _, _, rate, samples, channels, coder_id, units, frames, chunk_frames, weight_hash, _ = fields
        header = Header(rate, samples, channels, model_id, weight_hash, coder_id, units, frames)
        stream = StreamHeader(header, chunk_frames)
        problem = _problem(stream)
        if problem:
            raise FormatError(f"corrupted: .snnc header value {problem}")
        return stream

    @property
    def header(self) -> Header:
        return self.stream.header

    def chunks(self, first: int = 0, stop: int | None = None) -> Iterator[tuple[Coder, np.ndarray]]:
        """Yields (coder, events (N, frames) bool or indices (Q, frames) int64) for chunks `first` .. `stop` - 1
        (default: to the end).

        Chunks before `first` are skipped by their lengths, without decoding them (seeking when the
        source can). Reading to the end also checks that nothing follows the last chunk. `payload_kind`
        tells what the chunks hold once one has been read.
        """
        header = self.stream.header
        if self._v1_payload is not None:
            coder = self.coder_by_id(header.coder_id)
            self.payload_kind = (False, 2)  # version 1 predates index coders
            self._check_end()
            if first == 0 and header.num_frames:
                yield coder, coder.decode(self._v1_payload, header.num_units, header.num_frames)
            return
        count = self.stream.num_chunks
        last = count if stop is None else min(stop, count)
        if count == 0 and stop is None:
            self._check_end()
        for index in range(min(first, last)):
            self._read_chunk(index, skip=True)
        for index in range(first, last):
            coder_id, payload = self._read_chunk(index)
            if index == count - 1:
                self._check_end()
            coder = self.coder_by_id(coder_id)
            self._check_kind(index, (coder.stores_indices, coder.alphabet_size(payload)))
            yield coder, coder.decode(payload, header.num_units, self.stream.frames_in_chunk(index))

    def _check_end(self) -> None:
        if self.source.read(1):
            raise FormatError("corrupted: unexpected bytes after the last chunk of the .snnc file; "
                              "it was damaged or two files were joined")

    def _check_kind(self, index: int, kind: tuple[bool, int]) -> None:
        """Every chunk must hold the same kind of payload as the first one read."""
        if self.payload_kind is None:
            self.payload_kind = kind
        elif kind != self.payload_kind:
            earlier = describe_payload(self.payload_kind)
            raise FormatError(f"corrupted: chunk {index} holds {describe_payload(kind)}, earlier chunks {earlier}")

    def _read_chunk(self, index: int, skip: bool = False) -> tuple[int, bytes]:
        """Reads chunk `index` and verifies it; `skip` reads only what locates the next chunk."""
        header, frames = self.stream.header, self.stream.frames_in_chunk(index)
        is_v3 = self.version == VERSION
        head = _read_exactly(self.source, (_CHUNK if is_v3 else _CHUNK_V2).size, f"chunk {index}")
        if is_v3:
            stored_index, flags, coder_id, length = _CHUNK.unpack(head)
            if stored_index != index:
                raise FormatError(f"corrupted: chunk {stored_index} stands where chunk {index} belongs; chunks "
                                  "were reordered, duplicated or dropped, or the file was damaged")
        else:
            coder_id, length = _CHUNK_V2.unpack(head)
        if length > self._max_payload(coder_id, header.num_units, frames):
            raise FormatError(f"corrupted: chunk {index} declares {length} bytes, more than any coder writes")
        if header.coder_id not in (AUTO, coder_id):
            raise FormatError(f"corrupted: chunk {index} uses coder {coder_id}, the header says {header.coder_id}")
        if skip and self.source.seekable():
            self.source.seek(length, 1)
            self._link = _read_exactly(self.source, _CRC.size, f"chunk {index}")
            return coder_id, b""
        payload = _read_exactly(self.source, length, f"chunk {index}")
        link, self._link = self._link, _read_exactly(self.source, _CRC.size, f"chunk {index}")
        (stored,) = _CRC.unpack(self._link)
        if not is_v3 and zlib.crc32(head + payload) != stored:
            raise FormatError(f"corrupted: checksum mismatch in chunk {index}; the .snnc file was damaged")
        if is_v3 and zlib.crc32(link + head + payload) != stored:
            raise FormatError(f"corrupted: checksum mismatch in chunk {index}; the .snnc file was damaged, or the "
                              "chunk belongs to another file")
        if is_v3:
            self._check_flags(index, flags)
        self.payload_bytes += length
        return coder_id, payload

    def _check_flags(self, index: int, flags: int) -> None:
        count = self.stream.num_chunks
        if flags & ~LAST:
            raise FormatError(f"corrupted: chunk {index} has unknown flags {flags:#04x}; a newer snn_codec may read it")
        if flags == LAST and index != count - 1:
            raise FormatError(f"truncated: chunk {index} is marked as the last one; the header announces {count}")
        if flags != LAST and index == count - 1:
            raise FormatError(f"corrupted: chunk {index} is the last the header announces but is not marked last")

    def _max_payload(self, coder_id: int, num_units: int, num_frames: int) -> int:
        """The largest payload the chunk's coder writes. An unknown id gets the event coders' bound: it is
        reported after the checksum, which tells a damaged file from one of a newer snn_codec."""
        try:
            return self.coder_by_id(coder_id).max_payload(num_units, num_frames)
        except FormatError:
            return max_payload(num_units, num_frames)


def describe_payload(kind: tuple[bool, int]) -> str:
    """Words for a `ContainerReader.payload_kind`."""
    stores_indices, alphabet_size = kind
    return f"indices of a {alphabet_size}-code codebook" if stores_indices else "binary events"
