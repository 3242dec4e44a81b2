"""Index coders (a VQ model's codebook indices): round trips, sizes against the model cost and fixed width,
the container with index chunks, and damaged payloads."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snn_codec.bitstream import (
    CODERS,
    EVENT_CODERS,
    INDEX_CODERS,
    MAX_ALPHABET,
    EntropyIndexCoder,
    FixedIndexCoder,
    Header,
    coder_by_id,
    coder_by_name,
    encode_events,
)
from snn_codec.bitstream.index_entropy import index_model_cost_bits
from snn_codec.bitstream.indices import index_width
from snn_codec.bitstream.stream import AUTO, ContainerReader, ContainerWriter, StreamHeader
from snn_codec.errors import ConfigError, FormatError

INDEX_NAMES = sorted(INDEX_CODERS)


def zipf_indices(num_units: int, num_frames: int, alphabet_size: int, seed: int = 0, exponent: float = 1.2):
    """Skewed indices, as a trained codebook's usage: p(k) ~ 1 / (k + 1) ** exponent, shuffled per codebook."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, alphabet_size + 1) ** exponent
    rows = [rng.permutation(alphabet_size)[rng.choice(alphabet_size, num_frames, p=p / p.sum())]
            for _ in range(num_units)]
    return np.array(rows, dtype=np.int64).reshape(num_units, num_frames)


def test_registered_with_unique_ids_and_names():
    assert INDEX_CODERS["index-fixed"].coder_id == 4 and INDEX_CODERS["index-entropy"].coder_id == 5
    assert len({coder.coder_id for coder in CODERS.values()}) == len(CODERS) == len(EVENT_CODERS) + 2
    for coder in INDEX_CODERS.values():
        assert coder.stores_indices and coder_by_id(coder.coder_id) is coder
    assert not any(coder.stores_indices for coder in EVENT_CODERS.values())
    with pytest.raises(ConfigError, match="for codebook indices.*index-entropy.*index-fixed"):
        coder_by_name("dense", stores_indices=True)
    with pytest.raises(ConfigError, match="for binary events"):
        coder_by_name("index-fixed")


@settings(max_examples=60, deadline=None, database=None)
@given(
    coder_name=st.sampled_from(INDEX_NAMES),
    num_units=st.integers(1, 8),
    num_frames=st.integers(0, 50),
    alphabet_size=st.sampled_from([2, 3, 5, 16, 1000, 1024, MAX_ALPHABET]),
    seed=st.integers(0, 2**16),
)
def test_round_trip_is_exact(coder_name, num_units, num_frames, alphabet_size, seed):
    indices = zipf_indices(num_units, num_frames, alphabet_size, seed)
    coder = INDEX_CODERS[coder_name]
    payload = coder.encode(indices, alphabet_size)
    assert payload == coder.encode(indices.astype(np.int32), alphabet_size)  # deterministic, any int dtype
    back = coder.decode(payload, num_units, num_frames)
    assert back.dtype == np.int64 and np.array_equal(back, indices)
    assert coder.alphabet_size(payload) == alphabet_size


@pytest.mark.parametrize("alphabet_size,width", [(2, 1), (3, 2), (4, 2), (5, 3), (1024, 10), (1025, 11), (2**16, 16)])
def test_fixed_width_size(alphabet_size, width):
    indices = zipf_indices(3, 41, alphabet_size)
    assert index_width(alphabet_size) == width
    assert len(FixedIndexCoder().encode(indices, alphabet_size)) == 4 + -(-3 * 41 * width // 8)


def test_entropy_coded_size_is_the_model_cost_and_beats_fixed_width_on_skewed_indices():
    indices = zipf_indices(3, 1500, 1024)
    entropy, fixed = EntropyIndexCoder().encode(indices, 1024), FixedIndexCoder().encode(indices, 1024)
    model_bytes = index_model_cost_bits(indices, 1024) / 8
    assert model_bytes <= len(entropy) <= 1.01 * model_bytes + 4 + 8  # alphabet size, terminator and flush
    assert len(entropy) < 0.85 * len(fixed)
    assert encode_events(indices, alphabet_size=1024) == (INDEX_CODERS["index-entropy"], entropy)


def test_auto_falls_back_to_fixed_width_on_uniform_indices():
    indices = np.random.default_rng(0).integers(0, 1024, size=(2, 300))
    coder, payload = encode_events(indices, alphabet_size=1024)
    assert coder.name == "index-fixed" and payload == FixedIndexCoder().encode(indices, 1024)
    assert encode_events(indices, "index-entropy", alphabet_size=1024)[0].name == "index-entropy"


@pytest.mark.parametrize("coder_name", INDEX_NAMES)
def test_invalid_indices_are_config_errors(coder_name):
    coder = INDEX_CODERS[coder_name]
    with pytest.raises(ConfigError, match="lie in"):
        coder.encode(np.array([[0, 4]]), 4)
    with pytest.raises(ConfigError, match="lie in"):
        coder.encode(np.array([[-1, 0]]), 4)
    with pytest.raises(ConfigError, match="integer"):
        coder.encode(np.zeros((2, 3)), 4)
    with pytest.raises(ConfigError, match="alphabet_size"):
        coder.encode(np.zeros((2, 3), np.int64), MAX_ALPHABET + 1)
    with pytest.raises(ConfigError, match="outside the limits"):
        coder.encode(np.zeros((4, 2**20), np.int64), 4)


def test_damaged_fixed_width_payloads():
    coder = FixedIndexCoder()
    payload = coder.encode(np.array([[1, 4, 2]]), 5)  # 3 bits each: 9 bits, 7 of padding
    with pytest.raises(FormatError, match="need exactly"):
        coder.decode(payload[:-1], 1, 3)
    with pytest.raises(FormatError, match="padding"):
        coder.decode(payload[:-1] + bytes([payload[-1] | 1]), 1, 3)
    with pytest.raises(FormatError, match="out of range"):
        coder.decode(payload[:4] + bytes([0b11100000, 0]), 1, 3)  # index 7 with 5 codes
    with pytest.raises(FormatError, match="symbols"):
        coder.decode(bytes([1, 0, 0, 0]) + payload[4:], 1, 3)  # an alphabet of 1
    with pytest.raises(FormatError, match="no alphabet size"):
        coder.decode(payload[:3], 1, 3)


def test_damaged_entropy_payloads():
    coder = EntropyIndexCoder()
    indices = zipf_indices(2, 200, 64)
    payload = coder.encode(indices, 64)
    for damaged in [payload[:-4], payload[:-1], payload + bytes(4), payload + b"\x01\x00\x00\x00", payload[:4]]:
        with pytest.raises(FormatError):
            coder.decode(damaged, 2, 200)
    with pytest.raises(FormatError):
        coder.decode(payload[:4] + payload[4:][::-1], 2, 200)
    with pytest.raises(FormatError):
        coder.decode(payload, 2, 2**20)  # more indices than a chunk may hold: refused before allocating


def stream_header(num_units: int, num_frames: int, coder_id: int = AUTO) -> Header:
    return Header(sample_rate=8000, num_samples=num_frames * 160, channels=1, model_id="vq", weight_hash=bytes(16),
                  coder_id=coder_id, num_units=num_units, num_frames=num_frames)


def write_indices(indices: np.ndarray, alphabet_size: int, chunk_frames: int, coder_id: int = AUTO,
                  pieces: int = 1, version: int = 3) -> bytes:
    out = io.BytesIO()
    coders = list(INDEX_CODERS.values()) if coder_id == AUTO else [coder_by_id(coder_id)]
    header = stream_header(*indices.shape, coder_id)
    writer = ContainerWriter(out, StreamHeader(header, chunk_frames), coders, alphabet_size, version=version)
    for part in np.array_split(indices, pieces, axis=1):
        writer.write_events(part)
    writer.close()
    return out.getvalue()


def read_indices(data: bytes) -> tuple[ContainerReader, list, np.ndarray]:
    reader = ContainerReader(io.BytesIO(data), coder_by_id)
    chunks = list(reader.chunks())
    return reader, [coder.name for coder, _ in chunks], np.concatenate([chunk for _, chunk in chunks], axis=1)


def test_container_round_trip_is_bit_exact_whatever_the_blocks():
    # skewed first, uniform after: auto picks the entropy coder, then fixed width
    skewed, uniform = zipf_indices(3, 300, 1024), np.random.default_rng(1).integers(0, 1024, (3, 300))
    indices = np.concatenate([skewed, uniform], axis=1)
    data = write_indices(indices, 1024, chunk_frames=300)
    assert data == write_indices(indices, 1024, chunk_frames=300, pieces=7)
    reader, coders, back = read_indices(data)
    assert np.array_equal(back, indices) and back.dtype == np.int64
    assert coders == ["index-entropy", "index-fixed"] and reader.payload_kind == (True, 1024)
    for coder in INDEX_CODERS.values():
        _, names, back = read_indices(write_indices(indices, 1024, chunk_frames=250, coder_id=coder.coder_id))
        assert names == [coder.name] * 3 and np.array_equal(back, indices)


def test_writer_refuses_coders_of_the_other_kind():
    with pytest.raises(ConfigError, match="do not all code indices"):
        ContainerWriter(io.BytesIO(), StreamHeader(stream_header(2, 10), 5), list(CODERS.values()), 16)
    with pytest.raises(ConfigError, match="binary events"):
        ContainerWriter(io.BytesIO(), StreamHeader(stream_header(2, 10), 5), list(INDEX_CODERS.values()))


@pytest.mark.parametrize("version", [2, 3])
def test_a_file_mixing_payload_kinds_is_corrupted(version):
    """Chunks with binary events after index chunks, or another codebook size, cannot come from one model.

    Version 2 chunks can be spliced between files, so the payload kind is what gives them away; a
    version 3 chunk's checksum already refuses a chunk of another file."""
    indices = zipf_indices(2, 20, 16)
    first = write_indices(indices[:, :10], 16, 10, version=version)
    second = write_indices(indices[:, 10:], 32, 10, version=version)
    events = write_events_like(indices[:, 10:] % 2 == 1, version)
    header_size = len(first) - chunk_size(first)
    for tail in (second, events):
        mixed = bytearray(write_indices(indices, 16, 10, version=version))
        mixed[len(mixed) - chunk_size(mixed):] = tail[header_size:]
        with pytest.raises(FormatError, match="chunk 1 holds" if version == 2 else "chunk 0 stands where chunk 1"):
            read_indices(bytes(mixed))


def chunk_size(data: bytes) -> int:
    """Bytes of the last chunk of a file: its framing (v3: index, flags, coder id, length; v2: coder id, length),
    payload and CRC."""
    reader = ContainerReader(io.BytesIO(data), coder_by_id)
    before = 0
    for _ in reader.chunks():
        last, before = reader.payload_bytes - before, reader.payload_bytes
    return (10 if reader.version == 3 else 5) + last + 4


def write_events_like(events: np.ndarray, version: int = 3) -> bytes:
    out = io.BytesIO()
    writer = ContainerWriter(out, StreamHeader(stream_header(*events.shape), 10), [EVENT_CODERS["dense"]],
                             version=version)
    writer.write_events(events)
    writer.close()
    return out.getvalue()
