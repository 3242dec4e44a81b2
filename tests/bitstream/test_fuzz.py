"""Fuzzing the reader: damaged, foreign and absurd input ends in FormatError, quickly, with bounded memory."""

from __future__ import annotations

import io
import os
import struct
import time
import tracemalloc
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import snn_codec
from snn_codec.bitstream import coder_by_id
from snn_codec.bitstream.stream import ContainerReader
from snn_codec.errors import CodecError, FormatError

MEMORY_BOUND = 64 * 2**20
SCALE = int(os.environ.get("SNN_FUZZ_SCALE", "1"))  # benchmarks/fuzz.py raises it for a long run


@pytest.fixture
def real_file(tiny_codec, make_audio) -> bytes:
    return snn_codec.compress(make_audio(2.0, 8000), 8000, model=tiny_codec)


@pytest.fixture(params=["index-fixed", "index-entropy"])
def vq_file(request, tiny_vq_codec, make_audio) -> bytes:
    """A VQ model's file: codebook indices in index chunks (0.5 s each, so there are several)."""
    tiny_vq_codec.window_frames = 25
    return snn_codec.compress(make_audio(2.0, 8000), 8000, model=tiny_vq_codec, coder=request.param)


HANG_S = 30.0  # a hang guard, not a speed test: cases take milliseconds, but CI machines can be loaded


def read_all(data: bytes) -> None:
    reader = ContainerReader(io.BytesIO(data), coder_by_id)
    for _ in reader.chunks():
        pass


def fails_cleanly(data: bytes, decode=None) -> None:
    """Reading `data` raises FormatError (or, when decoding with a model, another CodecError)."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(FormatError if decode is None else CodecError):
            (decode or read_all)(data)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert time.perf_counter() - start < HANG_S
    assert peak < MEMORY_BOUND, f"{peak} bytes allocated for {len(data)} bytes of input"


mutation = st.tuples(st.sampled_from(["flip", "set", "insert", "delete", "cut"]),
                     st.floats(0, 1, exclude_max=True), st.integers(0, 255))


def mutate(data: bytes, steps) -> bytes:
    out = bytearray(data)
    for kind, where, value in steps:
        if not out:
            break
        i = int(where * len(out))
        if kind == "flip":
            out[i] ^= 1 << (value % 8)
        elif kind == "set":
            out[i] = value if out[i] != value else value ^ 0xFF
        elif kind == "insert":
            out.insert(i, value)
        elif kind == "delete":
            del out[i]
        else:
            del out[i:]
    return bytes(out)


@settings(max_examples=600 * SCALE, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_real_files_fail_cleanly(real_file, steps):
    damaged = mutate(real_file, steps)
    if damaged != real_file:
        fails_cleanly(damaged)


@settings(max_examples=150 * SCALE, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(mutation, min_size=1, max_size=3))
def test_mutated_real_files_fail_cleanly_when_decoded(real_file, tiny_codec, steps):
    damaged = mutate(real_file, steps)
    if damaged != real_file:
        fails_cleanly(damaged, decode=lambda data: snn_codec.decompress(data, model=tiny_codec))


@settings(max_examples=300 * SCALE, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_vq_files_fail_cleanly(vq_file, steps):
    damaged = mutate(vq_file, steps)
    if damaged != vq_file:
        fails_cleanly(damaged)


@settings(max_examples=75 * SCALE, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(mutation, min_size=1, max_size=3))
def test_mutated_vq_files_fail_cleanly_when_decoded(vq_file, tiny_vq_codec, steps):
    damaged = mutate(vq_file, steps)
    if damaged != vq_file:
        fails_cleanly(damaged, decode=lambda data: snn_codec.decompress(data, model=tiny_vq_codec))


@settings(max_examples=800 * SCALE, deadline=None)
@given(data=st.binary(max_size=300) | st.binary(max_size=300).map(lambda b: b"SNNC\x02" + b)
       | st.binary(max_size=300).map(lambda b: b"SNNC\x01" + b))
def test_random_bytes_fail_cleanly(data):
    fails_cleanly(data)


def v2_header(sample_rate=8000, samples=10**12, channels=1, coder=0, units=65535, frames=2**31 - 1,
              chunk_frames=32, model=b"m") -> bytes:
    body = struct.pack("<4sBIQHBHII16sB", b"SNNC", 2, sample_rate, samples, channels, coder, units, frames,
                       chunk_frames, bytes(16), len(model)) + model
    return body + struct.pack("<I", zlib.crc32(body))


@pytest.mark.parametrize(
    "fields,message",
    [
        ({}, "truncated"),  # 10^12 samples, 65535 units, 2^31 frames announced; no chunk follows
        ({"units": 0}, "units"),
        ({"sample_rate": 0}, "sample_rate"),
        ({"channels": 0}, "channels"),
        ({"chunk_frames": 0}, "chunk_frames"),
        ({"chunk_frames": 2**20}, "chunk_frames"),
        ({"frames": 2**32 - 1}, "num_frames"),
        ({"samples": 2**64 - 1}, "num_samples"),
        ({"model": b"\xff\xfe"}, "utf-8"),
    ],
)
def test_absurd_header_values_with_a_valid_checksum(fields, message):
    with pytest.raises(FormatError, match=message):
        read_all(v2_header(**fields))
    fails_cleanly(v2_header(**fields) + b"\x00\xff\xff\xff\xff" + bytes(64))


def test_index_chunks_with_a_valid_checksum_but_absurd_content(tiny_vq_codec):
    """CRCs recomputed, so only the coders' own checks stand between these chunks and the decoder."""
    header = v2_header(units=2, frames=10, samples=1600, chunk_frames=10, model=b"tiny-vq-test")
    for coder_id, payload in [
        (4, struct.pack("<I", 2**20) + bytes(3)),  # a codebook larger than any index payload may declare
        (4, struct.pack("<I", 5) + b"\xff" * 8),  # 3-bit indices of 7 with 5 codes
        (5, struct.pack("<I", 32) + b"\x01\x02\x03\x04"),  # range coder garbage
        (5, b"\x20\x00"),  # no room for the alphabet size
        (4, struct.pack("<I", 2**16) + bytes(2**17)),  # more bytes than 2 x 10 indices of 16 bits
    ]:
        body = struct.pack("<BI", coder_id, len(payload)) + payload
        fails_cleanly(header + body + struct.pack("<I", zlib.crc32(body)))
    body = struct.pack("<BI", 4, 2**24)  # a length beyond any index chunk of 2 x 10
    fails_cleanly(header + body + bytes(100))


def test_a_tiny_index_payload_cannot_make_us_decode_for_long():
    """65536 frames of a 65536-code alphabet announced by a few bytes: refused before decoding."""
    header = v2_header(units=1, frames=2**16, samples=2**16 * 160, chunk_frames=2**16)
    payload = struct.pack("<I", 2**16) + b"\x01\x02\x03\x04"
    body = struct.pack("<BI", 5, len(payload)) + payload
    with pytest.raises(FormatError, match="cannot hold"):
        read_all(header + body + struct.pack("<I", zlib.crc32(body)))


def test_a_lying_chunk_length_cannot_make_us_allocate(tiny_codec):
    header = v2_header(units=64, chunk_frames=2**15)  # a chunk may hold up to 2^21 events
    chunk = struct.pack("<BI", 1, 2**19) + b"\x00" * 100  # announces 512 KiB, holds 100 bytes
    fails_cleanly(header + chunk)
    fails_cleanly(header + chunk, decode=lambda data: snn_codec.decompress(data, model=tiny_codec))
