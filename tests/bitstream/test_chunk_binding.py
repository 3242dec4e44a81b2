"""Version 3 binds every chunk to its place and its file: reordered, duplicated, dropped, foreign and trailing
data are refused by the reader, by decompress and by inspect; version 2 files still decode."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import numpy as np
import pytest

import snn_codec
from snn_codec import api
from snn_codec.bitstream import EVENT_CODERS, Header, coder_by_id
from snn_codec.bitstream.stream import AUTO, LAST, ContainerReader, ContainerWriter, StreamHeader
from snn_codec.errors import FormatError

V2_FILE = Path(__file__).parent / "data" / "v2_tiny.snnc"  # written by snn_codec before version 3, 1.5 s


def header(frames: int, units: int = 6, samples: int | None = None) -> Header:
    return Header(sample_rate=8000, num_samples=frames * 160 if samples is None else samples, channels=1,
                  model_id="m", weight_hash=bytes(16), coder_id=AUTO, num_units=units, num_frames=frames)


def write(events: np.ndarray, chunk_frames: int = 7, samples: int | None = None) -> bytes:
    out = io.BytesIO()
    stream = StreamHeader(header(events.shape[1], events.shape[0], samples), chunk_frames)
    writer = ContainerWriter(out, stream, list(EVENT_CODERS.values()))
    writer.write_events(events)
    writer.close()
    return out.getvalue()


def events(seed: int = 0, frames: int = 20) -> np.ndarray:
    return np.random.default_rng(seed).random((6, frames)) < 0.3


def read_until_every_frame(data: bytes) -> np.ndarray:
    """Reads as a decoder does: it stops asking for chunks once it holds every frame the header announces."""
    reader = ContainerReader(io.BytesIO(data), coder_by_id)
    got, frames = [], 0
    for _, chunk in reader.chunks():
        got.append(chunk)
        frames += chunk.shape[1]
        if frames == reader.header.num_frames:
            break
    return np.concatenate(got, axis=1)


def test_three_chunks_round_trip(split_chunks):
    data = write(events())
    head, chunks = split_chunks(data)
    assert len(chunks) == 3 and [chunk[4] for chunk in chunks] == [0, 0, LAST]
    assert np.array_equal(read_until_every_frame(data), events())


@pytest.mark.parametrize("order", [[1, 0, 2], [0, 2, 1], [2, 1, 0], [0, 0, 1, 2], [0, 1, 1, 2], [0, 1, 2, 2],
                                   [0, 2], [1, 2], [0, 1], [0], [], [0, 1, 2, 0]])
def test_reordered_duplicated_or_dropped_chunks_are_refused(split_chunks, order):
    head, chunks = split_chunks(write(events()))
    with pytest.raises(FormatError):
        read_until_every_frame(head + b"".join(chunks[i] for i in order))


def test_a_chunk_from_another_file_is_refused_even_with_an_identical_header(split_chunks):
    """Same header, other events: only the chained checksum tells the files apart."""
    mine, other = split_chunks(write(events(0))), split_chunks(write(events(1)))
    assert mine[0] == other[0]
    for i in range(3):
        spliced = [*mine[1][:i], other[1][i], *mine[1][i + 1 :]]
        with pytest.raises(FormatError, match="checksum mismatch in chunk"):
            read_until_every_frame(mine[0] + b"".join(spliced))


def test_a_chunk_from_a_file_with_another_header_is_refused(split_chunks):
    mine, other = split_chunks(write(events(0))), split_chunks(write(events(0), samples=20 * 160 + 1))
    assert mine[0] != other[0] and mine[1][1:] != other[1][1:]
    with pytest.raises(FormatError, match="another file"):
        read_until_every_frame(mine[0] + other[1][0] + b"".join(mine[1][1:]))


@pytest.mark.parametrize("tail", [b"\x00", os.urandom(100), "copy", bytes(2**20)], ids=["1", "100", "copy", "1MiB"])
def test_trailing_data_is_refused_even_by_a_reader_that_stops_at_the_last_frame(tail):
    data = write(events())
    with pytest.raises(FormatError, match="after the last chunk"):
        read_until_every_frame(data + (data if tail == "copy" else tail))


def test_the_last_chunk_flag_must_match_the_header(split_chunks, relink):
    head, chunks = split_chunks(write(events()))
    bodies = [bytearray(chunk[:-4]) for chunk in chunks]
    early = [bytes(b) for b in bodies]
    early[1] = early[1][:4] + bytes([LAST]) + early[1][5:]
    with pytest.raises(FormatError, match="marked as the last"):
        read_until_every_frame(relink(head, early))
    unmarked = [bytes(b) for b in bodies]
    unmarked[2] = unmarked[2][:4] + b"\x00" + unmarked[2][5:]
    with pytest.raises(FormatError, match="not marked last"):
        read_until_every_frame(relink(head, unmarked))
    unknown = [bytes(b) for b in bodies]
    unknown[0] = unknown[0][:4] + b"\x02" + unknown[0][5:]
    with pytest.raises(FormatError, match="unknown flags"):
        read_until_every_frame(relink(head, unknown))
    assert relink(head, [bytes(b) for b in bodies]) == head + b"".join(chunks)


@pytest.mark.parametrize("seekable", [True, False])
def test_skipping_chunks_keeps_the_chain(seekable):
    data = write(events(), chunk_frames=5)

    class Pipe(io.RawIOBase):
        def __init__(self):
            self.inner = io.BytesIO(data)

        def read(self, size=-1):
            return self.inner.read(size)

    reader = ContainerReader(io.BytesIO(data) if seekable else Pipe(), coder_by_id)
    tail = np.concatenate([chunk for _, chunk in reader.chunks(2)], axis=1)
    assert np.array_equal(tail, events()[:, 10:])


@pytest.fixture
def three_chunk_file(tiny_codec, make_audio) -> bytes:
    tiny_codec.window_frames = 25  # 1.5 s at 50 frames per second: 3 chunks
    # float32: the version 2 file beside this test was written by a float32 encoder
    return snn_codec.compress(make_audio(1.5, 8000), 8000, model=tiny_codec, precision="float32")


def test_decompress_and_inspect_refuse_chunk_edits(three_chunk_file, tiny_codec, split_chunks):
    head, chunks = split_chunks(three_chunk_file)
    assert len(chunks) == 3 and api.inspect(three_chunk_file).version == 3
    edits = {
        "swapped": head + chunks[1] + chunks[0] + chunks[2],
        "duplicated": head + chunks[0] + chunks[0] + chunks[1] + chunks[2],
        "dropped": head + chunks[0] + chunks[2],
        "trailing byte": three_chunk_file + b"\x00",
        "second copy": three_chunk_file * 2,
    }
    for name, data in edits.items():
        with pytest.raises(FormatError):
            snn_codec.decompress(data, model=tiny_codec)
        with pytest.raises(FormatError):
            api.inspect(data)


def test_version_2_files_still_decode_to_the_same_audio(three_chunk_file, tiny_codec):
    old = V2_FILE.read_bytes()
    assert old[4] == 2 and api.inspect(old).version == 2
    old_header, old_events = api.read_events(old)
    new_header, new_events = api.read_events(three_chunk_file)
    assert old_header == new_header and np.array_equal(old_events, new_events)
    assert np.array_equal(snn_codec.decompress(old, model=tiny_codec).samples,
                          snn_codec.decompress(three_chunk_file, model=tiny_codec).samples)
    with pytest.raises(FormatError, match="after the last chunk"):
        snn_codec.decompress(old + b"\x00", model=tiny_codec)


def test_a_version_2_file_has_no_chunk_index_or_link():
    """Version 2 readers' guarantees: the checksum covers each chunk alone (documented in docs/format.md)."""
    old = V2_FILE.read_bytes()
    model_id_length = old[46]
    first_chunk = 47 + model_id_length + 4
    coder_id, length = struct.unpack_from("<BI", old, first_chunk)
    assert coder_id in (1, 2, 3) and first_chunk + 5 + length + 4 < len(old)
