"""The .snnc v1 container: a small header, one event-coder payload, and a CRC32.

Byte layout (all integers little-endian, no padding):

    offset    size  field
    0         4     magic b"SNNC"
    4         1     version (u8) = 1
    5         4     sample_rate (u32), Hz, 1..768000
    9         8     num_samples (u64), per channel, <= 2**40
    17        2     channels (u16), 1..64
    19        1     coder_id (u8)
    20        2     num_units (u16), 1..65535
    22        4     num_frames (u32), <= 2**31
    26        16    weight_hash: sha256(model weights)[:16]
    42        1     L = length of model_id (u8)
    43        L     model_id, utf-8
    43+L      8     P = payload length (u64)
    51+L      P     payload (the event coder's bytes)
    51+L+P    4     CRC32 (zlib.crc32, u32) of bytes 0 .. 51+L+P
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from snn_codec.bitstream.base import MAX_FRAMES, MAX_UNITS
from snn_codec.errors import ConfigError, FormatError

MAGIC = b"SNNC"
VERSION = 1
MAX_SAMPLE_RATE = 768000
MAX_CHANNELS = 64
MAX_SAMPLES = 2**40
WEIGHT_HASH_SIZE = 16
CRC_SIZE = 4

_FIXED = struct.Struct("<4sBIQHBHI16sB")  # magic .. model_id length
_PAYLOAD_LENGTH = struct.Struct("<Q")
_CRC = struct.Struct("<I")


@dataclass(frozen=True)
class Header:
    """What a decoder needs besides the payload.

    Attributes:
        sample_rate: of the original input, Hz.
        num_samples: original length in samples, per channel.
        channels: original channel count (the decoder output is mono, upmixed to this many).
        model_id: the model that wrote the file, e.g. "piano-v1" (utf-8, at most 255 bytes).
        weight_hash: first 16 bytes of the sha256 of the model weights.
        coder_id: the event coder of the payload (see `coder_by_id`).
        num_units: N, units of the event matrix.
        num_frames: T, frames of the event matrix.
    """

    sample_rate: int
    num_samples: int
    channels: int
    model_id: str
    weight_hash: bytes
    coder_id: int
    num_units: int
    num_frames: int


@dataclass(frozen=True)
class _RawHeader:
    """Header fields as read, before the checksum is verified: nothing decoded or trusted yet."""

    fields: tuple[object, ...]  # _FIXED's fields, magic .. model_id length
    model_id: bytes


def header_problem(header: Header) -> str | None:
    """Describe the first out-of-range header value, or return None when all are valid."""
    checks = [
        ("sample_rate", header.sample_rate, 1, MAX_SAMPLE_RATE),
        ("num_samples", header.num_samples, 0, MAX_SAMPLES),
        ("channels", header.channels, 1, MAX_CHANNELS),
        ("coder_id", header.coder_id, 0, 255),
        ("num_units", header.num_units, 1, MAX_UNITS),
        ("num_frames", header.num_frames, 0, MAX_FRAMES),
    ]
    for name, value, low, high in checks:
        if not isinstance(value, int) or not low <= value <= high:
            return f"{name} {value!r} is out of range {low}..{high}"
    if not isinstance(header.weight_hash, bytes) or len(header.weight_hash) != WEIGHT_HASH_SIZE:
        return f"weight_hash must be {WEIGHT_HASH_SIZE} bytes"
    if not isinstance(header.model_id, str) or len(header.model_id.encode("utf-8")) > 255:
        return "model_id must be a string of at most 255 utf-8 bytes"
    return None


def header_size(header: Header) -> int:
    """Bytes before the payload (fixed fields, model_id and payload length); CRC_SIZE follow it."""
    return _FIXED.size + len(header.model_id.encode("utf-8")) + _PAYLOAD_LENGTH.size


def pack(header: Header, payload: bytes) -> bytes:
    """Serialise a header and a payload into .snnc bytes.

    Raises:
        ConfigError: a header value is out of range.
    """
    problem = header_problem(header)
    if problem:
        raise ConfigError(f"cannot write .snnc header: {problem}")
    model_id = header.model_id.encode("utf-8")
    body = b"".join([
        _FIXED.pack(
            MAGIC, VERSION, header.sample_rate, header.num_samples, header.channels,
            header.coder_id, header.num_units, header.num_frames, header.weight_hash, len(model_id),
        ),
        model_id,
        _PAYLOAD_LENGTH.pack(len(payload)),
        payload,
    ])
    return body + _CRC.pack(zlib.crc32(body))


def unpack(data: bytes) -> tuple[Header, bytes]:
    """Parse and verify .snnc bytes.

    Returns:
        The header and the event coder's payload.

    Raises:
        FormatError: the data is empty, truncated, foreign, of another version, corrupted
            (checksum mismatch) or holds out-of-range header values.
    """
    data = bytes(data)
    raw, payload_start, payload_length = _parse(data, whole_file=True)
    payload_end = payload_start + payload_length
    (stored_crc,) = _CRC.unpack_from(data, payload_end)
    if zlib.crc32(data[:payload_end]) != stored_crc:
        raise FormatError("corrupted: checksum mismatch; the .snnc file was damaged, re-create it")
    return _build_header(raw), data[payload_start:payload_end]


def read_header(data: bytes) -> Header:
    """Parse only the header, e.g. for `info`; `data` may be just the file's first bytes.

    The checksum covers the payload and is not verified here: use `unpack` to verify it.

    Raises:
        FormatError: as `unpack`, except for the payload, trailing bytes and the checksum.
    """
    raw, _, _ = _parse(bytes(data), whole_file=False)
    return _build_header(raw)


def _parse(data: bytes, whole_file: bool) -> tuple[_RawHeader, int, int]:
    """Structural parse: magic, version and sizes. Returns (raw header, payload offset, length)."""
    if not data:
        raise FormatError("empty input: not a .snnc file")
    if data[: len(MAGIC)] != MAGIC[: len(data)]:
        raise FormatError("not a .snnc file (wrong magic bytes)")
    if len(data) <= len(MAGIC):
        raise FormatError("truncated: the .snnc header is incomplete")
    if data[len(MAGIC)] != VERSION:
        raise FormatError(
            f"unsupported .snnc version {data[len(MAGIC)]}; this snn_codec reads version {VERSION}"
        )
    if len(data) < _FIXED.size:
        raise FormatError("truncated: the .snnc header is incomplete")
    fields = _FIXED.unpack_from(data)
    model_id_length = fields[-1]
    payload_length_at = _FIXED.size + model_id_length
    if len(data) < payload_length_at + _PAYLOAD_LENGTH.size:
        raise FormatError("truncated: the .snnc header is incomplete")
    raw_model_id = data[_FIXED.size : payload_length_at]
    (payload_length,) = _PAYLOAD_LENGTH.unpack_from(data, payload_length_at)
    payload_start = payload_length_at + _PAYLOAD_LENGTH.size
    if whole_file:
        expected = payload_start + payload_length + CRC_SIZE
        if len(data) < expected:
            raise FormatError(
                f"truncated: the .snnc file has {len(data)} bytes; its header announces {expected}"
            )
        if len(data) > expected:
            raise FormatError(
                f"corrupted: {len(data) - expected} unexpected trailing bytes after the .snnc checksum"
            )
    return _RawHeader(fields, raw_model_id), payload_start, payload_length


def _build_header(raw: _RawHeader) -> Header:
    """Decode the model id and check every value: only after the checksum, when there is one."""
    try:
        model_id = raw.model_id.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError("corrupted: the model id in the .snnc header is not valid utf-8") from None
    _, _, sample_rate, num_samples, channels, coder_id, num_units, num_frames, weight_hash, _ = raw.fields
    header = Header(
        sample_rate=sample_rate, num_samples=num_samples, channels=channels, model_id=model_id,
        weight_hash=weight_hash, coder_id=coder_id, num_units=num_units, num_frames=num_frames,
    )
    problem = header_problem(header)
    if problem:
        raise FormatError(f"corrupted: .snnc header value {problem}")
    return header
