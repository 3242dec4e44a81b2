"""Fuzzing the reader: damaged, foreign and absurd input ends in FormatError, quickly, with bounded memory;
so do chunk-level edits (swapped, duplicated, dropped, spliced chunks, trailing data); and failures on the
output side (a full disk, a read-only folder, a closed pipe) end the command line in one error line.

With SNN_FUZZ_LOG set, every case appends `category<TAB>outcome` to that file (benchmarks/fuzz.py counts them).
"""

from __future__ import annotations

import errno
import io
import json
import os
import struct
import sys
import tempfile
import time
import tracemalloc
import uuid
import zlib
from pathlib import Path

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


def record(category: str, outcome: str) -> None:
    """Logs one case for benchmarks/fuzz.py's report (only when SNN_FUZZ_LOG names a file)."""
    log = os.environ.get("SNN_FUZZ_LOG")
    if log:
        with open(log, "a") as handle:
            handle.write(f"{category}\t{outcome}\n")


def fails_cleanly(data: bytes, decode=None, category: str = "mutated bytes") -> None:
    """Reading `data` raises FormatError (or, when decoding with a model, another CodecError)."""
    expected = FormatError if decode is None else CodecError
    outcome = "accepted"
    tracemalloc.start()
    start = time.perf_counter()
    try:
        (decode or read_all)(data)
    except expected:
        outcome = "refused"
    except BaseException:
        outcome = "traceback"
        raise
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        if outcome == "refused" and time.perf_counter() - start >= HANG_S:
            outcome = "hang"
        if outcome == "refused" and peak >= MEMORY_BOUND:
            outcome = "memory"
        record(category + (" (decoded)" if decode else ""), outcome)
    assert outcome == "refused", f"{outcome}: {len(data)} bytes, peak {peak} bytes"


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
        fails_cleanly(damaged, category="mutated VQ bytes")


@settings(max_examples=75 * SCALE, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(mutation, min_size=1, max_size=3))
def test_mutated_vq_files_fail_cleanly_when_decoded(vq_file, tiny_vq_codec, steps):
    damaged = mutate(vq_file, steps)
    if damaged != vq_file:
        fails_cleanly(damaged, decode=lambda data: snn_codec.decompress(data, model=tiny_vq_codec), category="mutated VQ bytes")


@settings(max_examples=800 * SCALE, deadline=None)
@given(data=st.binary(max_size=300) | st.binary(max_size=300).map(lambda b: b"SNNC\x02" + b)
       | st.binary(max_size=300).map(lambda b: b"SNNC\x01" + b) | st.binary(max_size=300).map(lambda b: b"SNNC\x03" + b))
def test_random_bytes_fail_cleanly(data):
    fails_cleanly(data, category="random bytes")


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
    fails_cleanly(v2_header(**fields) + b"\x00\xff\xff\xff\xff" + bytes(64), category="absurd headers and chunks")


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
        fails_cleanly(header + body + struct.pack("<I", zlib.crc32(body)), category="absurd headers and chunks")
    body = struct.pack("<BI", 4, 2**24)  # a length beyond any index chunk of 2 x 10
    fails_cleanly(header + body + bytes(100), category="absurd headers and chunks")


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
    fails_cleanly(header + chunk, category="absurd headers and chunks")
    fails_cleanly(header + chunk, decode=lambda data: snn_codec.decompress(data, model=tiny_codec), category="absurd headers and chunks")


# Chunk-level edits: whole chunks moved, repeated, dropped or taken from another file, and data after the end.
# Every chunk is intact, so only the container's binding of chunks to their place and file can refuse them.
CHUNK_EDIT = st.tuples(st.sampled_from(["swap", "duplicate", "drop", "splice", "splice-other-header", "move"]),
                       st.integers(0, 2**16), st.integers(0, 2**16))
TRAILING = st.one_of(st.just(b""), st.binary(min_size=1, max_size=100), st.just("copy"), st.just("1 MiB"))


@pytest.fixture
def chunked_files(tiny_codec, make_audio) -> tuple[bytes, bytes, bytes]:
    """A 10-chunk file, another one of the same length (same header) and one of another length (1.5 s)."""
    tiny_codec.window_frames = 10
    mine = snn_codec.compress(make_audio(2.0, 8000, seed=0), 8000, model=tiny_codec)
    same_header = snn_codec.compress(make_audio(2.0, 8000, seed=1), 8000, model=tiny_codec)
    other_header = snn_codec.compress(make_audio(1.5, 8000, seed=2), 8000, model=tiny_codec)
    return mine, same_header, other_header


def edit_chunks(files, split_chunks, edits, trailing) -> bytes:
    mine, same_header, other_header = files
    head, chunks = split_chunks(mine)
    for kind, i, j in edits:
        if not chunks:
            break
        i %= len(chunks)
        if kind == "swap":
            j %= len(chunks)
            chunks[i], chunks[j] = chunks[j], chunks[i]
        elif kind == "duplicate":
            chunks.insert(i, chunks[i])
        elif kind == "drop":
            del chunks[i]
        elif kind.startswith("splice"):
            other = split_chunks(same_header if kind == "splice" else other_header)[1]
            chunks[i] = other[j % len(other)]
        else:
            chunks.insert(j % len(chunks), chunks.pop(i))
    tail = mine if trailing == "copy" else bytes(2**20) if trailing == "1 MiB" else trailing
    return head + b"".join(chunks) + tail


@settings(max_examples=200 * SCALE, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(CHUNK_EDIT, max_size=3), trailing=TRAILING)
def test_chunk_level_edits_fail_cleanly(chunked_files, split_chunks, edits, trailing):
    damaged = edit_chunks(chunked_files, split_chunks, edits, trailing)
    if damaged != chunked_files[0]:
        fails_cleanly(damaged, category="chunk-level edits")
        with pytest.raises(FormatError):
            snn_codec.inspect(damaged)


@settings(max_examples=50 * SCALE, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(CHUNK_EDIT, max_size=3), trailing=TRAILING)
def test_chunk_level_edits_fail_cleanly_when_decoded(chunked_files, split_chunks, tiny_codec, edits, trailing):
    damaged = edit_chunks(chunked_files, split_chunks, edits, trailing)
    if damaged != chunked_files[0]:
        fails_cleanly(damaged, decode=lambda data: snn_codec.decompress(data, model=tiny_codec),
                      category="chunk-level edits")


# Output-side failures: the command line must end in one `snn-codec: error:` line and exit 1 (a closed pipe:
# exit 1 and nothing on stderr), never a traceback, whenever the failure strikes.
class LimitedPipe(io.RawIOBase):
    """Standard output whose reader goes away after `limit` bytes."""

    def __init__(self, limit: int):
        self.limit, self.written = limit, 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self.written + len(data) > self.limit:
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")
        self.written += len(data)
        return len(data)


@pytest.fixture
def cli_inputs(tmp_path, tiny_model_file, make_audio) -> dict[str, Path]:
    import soundfile as sf

    from snn_codec.cli import main

    wav = tmp_path / "in.wav"
    sf.write(wav, make_audio(1.0, 8000)[0], 8000)
    snnc = tmp_path / "in.snnc"
    assert main(["compress", str(wav), str(snnc), "--model", str(tiny_model_file)]) == 0
    return {"wav": wav, "snnc": snnc, "model": tiny_model_file, "folder": tmp_path}


@settings(max_examples=16 * SCALE, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["full disk", "read-only folder", "closed pipe"]),
       command=st.sampled_from(["compress", "decompress"]), budget=st.integers(0, 2000))
def test_output_side_failures_are_one_line(cli_inputs, capsys, monkeypatch, kind, command, budget):
    import soundfile as sf

    from snn_codec.bitstream.stream import ContainerWriter
    from snn_codec.cli import main

    folder = cli_inputs["folder"] / uuid.uuid4().hex  # hypothesis reuses the fixture's folder: one per case
    folder.mkdir()
    source = cli_inputs["wav" if command == "compress" else "snnc"]
    target = "-" if kind == "closed pipe" else str(folder / ("out.snnc" if command == "compress" else "out.wav"))
    with monkeypatch.context() as patch:
        if kind == "full disk":  # the first `budget` bytes (or audio blocks) fit, then ENOSPC
            write, blocks = ContainerWriter._write, iter(range(budget % 4))

            def full_container(self, data):
                if self.bytes_written + len(data) > budget:
                    raise OSError(errno.ENOSPC, "No space left on device")
                write(self, data)

            def full_audio(self, *args, **kwargs):
                if next(blocks, None) is None:
                    raise sf.LibsndfileError(errno.ENOSPC, "Error writing audio: ")
                return original_audio_write(self, *args, **kwargs)

            original_audio_write = sf.SoundFile.write
            patch.setattr(ContainerWriter, "_write", full_container)
            patch.setattr(sf.SoundFile, "write", full_audio)
        elif kind == "read-only folder":  # as root every folder is writable: refuse where the file is created
            def refused(*args, **kwargs):
                raise PermissionError(errno.EACCES, "Permission denied", str(folder / ".out.part"))

            patch.setattr(tempfile, "mkstemp", refused)
        else:
            patch.setattr(sys, "stdout", io.TextIOWrapper(io.BufferedWriter(LimitedPipe(budget), buffer_size=64)))
        capsys.readouterr()
        try:
            code = main([command, str(source), target, "--model", str(cli_inputs["model"])])
        except BaseException:
            record(f"output side: {kind}", "traceback")
            raise
        err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("note:")]
    if code == 0:  # the budget sufficed: the whole output was written (and its status line went to stderr)
        clean = kind != "read-only folder" and "error" not in err and "Traceback" not in err
    elif kind == "closed pipe":
        clean = code == 1 and not lines
    else:
        clean = code == 1 and len(lines) == 1 and lines[0].startswith("snn-codec: error: ")
        clean = clean and not [p for p in folder.iterdir()]  # no partial output left behind
    record(f"output side: {kind}", "unclean" if not clean else "wrote all" if code == 0 else "one line")
    assert clean, (code, err)
