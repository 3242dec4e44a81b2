"""Helpers for editing .snnc files chunk by chunk: fixtures, so test modules need not import each other."""

from __future__ import annotations

import struct
import zlib

import pytest

HEADER_FIXED = 47  # bytes of a v2/v3 header before the model id; its CRC32 follows the model id
CHUNK_HEAD = struct.Struct("<IBBI")  # v3: index, flags, coder_id, payload length


def _split(data: bytes) -> tuple[bytes, list[bytes]]:
    """A v3 file's header (with its CRC) and its chunks (each with its CRC), by a structural walk only."""
    assert data[4] == 3, "a version 3 file"
    position = HEADER_FIXED + data[HEADER_FIXED - 1] + 4
    header, chunks = data[:position], []
    while position < len(data):
        length = CHUNK_HEAD.unpack_from(data, position)[3]
        end = position + CHUNK_HEAD.size + length + 4
        chunks.append(data[position:end])
        position = end
    return header, chunks


def _relink(header: bytes, bodies: list[bytes]) -> bytes:
    """A v3 file from a header and chunk bodies (without CRCs), every checksum recomputed as a writer would."""
    out, link = [header], header[-4:]
    for body in bodies:
        link = struct.pack("<I", zlib.crc32(link + body))
        out += [body, link]
    return b"".join(out)


@pytest.fixture
def split_chunks():
    return _split


@pytest.fixture
def relink():
    return _relink
