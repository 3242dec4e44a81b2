"""The chunked .snnc container: round trips, versions 1 and 2 compatibility, damage detection."""

from __future__ import annotations

import io

import numpy as np
import pytest

from snn_codec.bitstream import EVENT_CODERS, Header, coder_by_id, pack
from snn_codec.bitstream.stream import (
    AUTO,
    MAX_CHUNK_CELLS,
    ContainerReader,
    ContainerWriter,
    StreamHeader,
    chunk_frames_for,
)
from snn_codec.errors import ConfigError, FormatError


def header(num_frames: int, units: int = 6, coder_id: int = AUTO) -> Header:
    return Header(sample_rate=44100, num_samples=num_frames * 882, channels=2, model_id="m", weight_hash=bytes(16),
                  coder_id=coder_id, num_units=units, num_frames=num_frames)


def write(events: np.ndarray, chunk_frames: int, pieces: list[int], coder_id: int = AUTO, version: int = 3) -> bytes:
    out = io.BytesIO()
    coders = list(EVENT_CODERS.values()) if coder_id == AUTO else [coder_by_id(coder_id)]
    stream = StreamHeader(header(events.shape[1], events.shape[0], coder_id), chunk_frames)
    writer = ContainerWriter(out, stream, coders, version=version)
    start = 0
    for size in pieces:
        writer.write_events(events[:, start : start + size])
        start += size
    writer.write_events(events[:, start:])
    writer.close()
    return out.getvalue()


def read(data: bytes) -> tuple[ContainerReader, np.ndarray, list[int]]:
    reader = ContainerReader(io.BytesIO(data), coder_by_id)
    chunks = [events for _, events in reader.chunks()]
    widths = [c.shape[1] for c in chunks]
    return reader, np.concatenate(chunks, axis=1) if chunks else np.zeros((reader.header.num_units, 0), bool), widths


def random_events(units=6, frames=23, rate=0.3, seed=0):
    return np.random.default_rng(seed).random((units, frames)) < rate


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("pieces", [[], [1], [5, 5, 5], [23], [2, 9, 1]])
def test_round_trip_does_not_depend_on_how_events_arrive(pieces, version):
    events = random_events()
    data = write(events, chunk_frames=7, pieces=pieces, version=version)
    assert data == write(events, chunk_frames=7, pieces=[], version=version)
    reader, back, widths = read(data)
    assert np.array_equal(back, events) and widths == [7, 7, 7, 2]
    assert reader.version == version and reader.header == header(23)


@pytest.mark.parametrize("coder_id", sorted(c.coder_id for c in EVENT_CODERS.values()))
def test_a_forced_coder_is_used_for_every_chunk(coder_id):
    data = write(random_events(), 10, [], coder_id)
    reader = ContainerReader(io.BytesIO(data), coder_by_id)
    assert {coder.coder_id for coder, _ in reader.chunks()} == {coder_id}


def test_empty_stream_has_no_chunks():
    reader, back, widths = read(write(np.zeros((6, 0), bool), 7, []))
    assert back.shape == (6, 0) and widths == []


def test_version_1_files_still_decode():
    events = random_events()
    v1_header = header(23, coder_id=1)
    reader, back, _ = read(pack(v1_header, EVENT_CODERS["dense"].encode(events)))
    assert reader.version == 1 and reader.header == v1_header and np.array_equal(back, events)


def test_chunk_length_keeps_chunks_bounded():
    assert chunk_frames_for(64, 1500) == 1500
    assert chunk_frames_for(65535, 1500) * 65535 <= MAX_CHUNK_CELLS
    with pytest.raises(ConfigError, match="exceed"):
        ContainerWriter(io.BytesIO(), StreamHeader(header(10, units=4096), 1500), [])


SMALL = write(random_events(units=5, frames=20, seed=1), 6, [])
SMALL_V2 = write(random_events(units=5, frames=20, seed=1), 6, [], version=2)


@pytest.mark.parametrize("cut", range(len(SMALL)))
def test_truncation_at_every_offset_is_a_format_error(cut):
    with pytest.raises(FormatError):
        read(SMALL[:cut])


@pytest.mark.parametrize("small", [SMALL, SMALL_V2], ids=["v3", "v2"])
def test_every_bit_flip_is_a_format_error(small):
    for position in range(len(small) * 8):
        damaged = bytearray(small)
        damaged[position // 8] ^= 1 << (position % 8)
        with pytest.raises(FormatError):
            read(bytes(damaged))


@pytest.mark.parametrize("small", [SMALL, SMALL_V2], ids=["v3", "v2"])
def test_trailing_bytes_are_a_format_error(small):
    with pytest.raises(FormatError, match="after the last chunk"):
        read(small + b"\x00")


def test_unknown_versions_are_refused_clearly():
    with pytest.raises(FormatError, match="unsupported .snnc version 9; this snn_codec reads versions 1, 2 and 3"):
        read(SMALL[:4] + b"\x09" + SMALL[5:])
