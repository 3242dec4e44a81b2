"""Event coders: round trips, size choice, determinism, and corrupted payloads."""

from __future__ import annotations


import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snn_codec.bitstream import (
    EVENT_CODERS,
    DenseEventCoder,
    SparseEventCoder,
    coder_by_id,
    coder_by_name,
    encode_events,
)
from snn_codec.bitstream.bits import pack_uints
from snn_codec.errors import CodecError, ConfigError, FormatError

CODERS = sorted(EVENT_CODERS)


def random_events(num_units: int, num_frames: int, rate: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((num_units, num_frames)) < rate


def round_trip(coder_name: str, events: np.ndarray) -> np.ndarray:
    coder = EVENT_CODERS[coder_name]
    return coder.decode(coder.encode(events), *events.shape)


def sparse_payload(num_units: int, frames: list[list[int]]) -> bytes:
    """Hand-built sparse payload: per frame, its count then the given indices, unchecked."""
    count_width, index_width = num_units.bit_length(), max(1, (num_units - 1).bit_length())
    values, widths = [], []
    for indices in frames:
        values += [len(indices), *indices]
        widths += [count_width] + [index_width] * len(indices)
    return pack_uints(np.array(values, dtype=np.int64), np.array(widths, dtype=np.int64))


def test_registry_names_and_ids_are_consistent():
    assert EVENT_CODERS["dense"].coder_id == 1 and EVENT_CODERS["sparse"].coder_id == 2
    for name, coder in EVENT_CODERS.items():
        assert coder.name == name
        assert coder_by_id(coder.coder_id) is coder
        assert coder_by_name(name) is coder


@pytest.mark.parametrize("coder_name", CODERS)
@settings(max_examples=60, deadline=None, database=None)
@given(
    num_units=st.integers(1, 300),
    num_frames=st.integers(0, 40),
    rate=st.one_of(st.just(0.5), st.floats(0.0, 0.05)),
    seed=st.integers(0, 2**32 - 1),
)
def test_round_trip_random(coder_name, num_units, num_frames, rate, seed):
    events = random_events(num_units, num_frames, rate, seed)
    decoded = round_trip(coder_name, events)
    assert decoded.dtype == np.bool_ and decoded.shape == events.shape
    assert np.array_equal(decoded, events)


EDGE_CASES = {
    "one_unit": np.array([[True, False, True, True, False, False, False, True, True]]),
    "no_frames": np.zeros((5, 0), dtype=bool),
    "one_frame": np.array([[True], [False], [True]]),
    "all_zeros": np.zeros((17, 9), dtype=bool),
    "all_ones": np.ones((17, 9), dtype=bool),
    "power_of_two_units": random_events(256, 7, 0.3, 1),
    "max_units": random_events(65535, 2, 0.001, 2),
    "non_contiguous": random_events(40, 30, 0.2, 3)[:, ::2],
}


@pytest.mark.parametrize("coder_name", CODERS)
@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_round_trip_edge_shapes(coder_name, case):
    events = EDGE_CASES[case]
    assert np.array_equal(round_trip(coder_name, events), events)


@pytest.mark.parametrize("coder_name", CODERS)
def test_encoding_is_deterministic(coder_name):
    coder = EVENT_CODERS[coder_name]
    events = random_events(64, 50, 0.1, 4)
    assert coder.encode(events) == coder.encode(events.copy()) == coder.encode(np.asfortranarray(events))


def test_payload_sizes():
    events = random_events(128, 500, 0.02, 5)
    assert len(DenseEventCoder().encode(events)) == 128 * 500 // 8
    expected_bits = 500 * 8 + int(events.sum()) * 7  # count: 8 bits for 0..128, index: 7 bits
    assert len(SparseEventCoder().encode(events)) == (expected_bits + 7) // 8


@pytest.mark.parametrize(("rate", "winner"), [(0.005, "entropy"), (0.02, "entropy"), (0.5, "dense")])
def test_auto_picks_the_smallest_payload(rate, winner):
    events = random_events(128, 200, rate, 6)
    coder, payload = encode_events(events)
    assert coder.name == winner
    assert len(payload) == min(len(c.encode(events)) for c in EVENT_CODERS.values())
    assert np.array_equal(coder.decode(payload, *events.shape), events)


def test_auto_tie_goes_to_dense():
    events = np.zeros((1, 8), dtype=bool)  # dense: 8 bits; sparse: 8 one-bit counts
    assert len(DenseEventCoder().encode(events)) == len(SparseEventCoder().encode(events)) == 1
    assert encode_events(events)[0].name == "dense"


def test_named_coder_and_unknown_names():
    events = random_events(8, 8, 0.5, 7)
    coder, payload = encode_events(events, "sparse")
    assert coder.name == "sparse" and payload == SparseEventCoder().encode(events)
    with pytest.raises(ConfigError, match=r"unknown event coder 'huffman'.*dense.*sparse"):
        encode_events(events, "huffman")
    with pytest.raises(FormatError, match="unknown event coder id 99"):
        coder_by_id(99)


@pytest.mark.parametrize(
    "bad", [np.zeros((4, 4), dtype=np.uint8), np.zeros(4, dtype=bool), np.zeros((0, 4), dtype=bool), [[True]]]
)
def test_encode_rejects_non_event_matrices(bad):
    with pytest.raises(ConfigError):
        encode_events(bad, "dense")


@pytest.mark.parametrize("coder_name", CODERS)
@pytest.mark.parametrize(("num_units", "num_frames"), [(0, 4), (65536, 1), (4, -1), (4, 2**31 + 1)])
def test_decode_rejects_shapes_outside_the_limits(coder_name, num_units, num_frames):
    with pytest.raises(FormatError):
        EVENT_CODERS[coder_name].decode(b"\0" * 16, num_units, num_frames)


@pytest.mark.parametrize("coder_name", CODERS)
def test_decode_of_a_huge_declared_shape_fails_before_allocating(coder_name):
    with pytest.raises(FormatError, match="truncated|dense payload"):
        EVENT_CODERS[coder_name].decode(b"\0" * 64, 65535, 2**31)


@pytest.mark.parametrize("length", [0, 11, 13])
def test_dense_rejects_wrong_length(length):
    with pytest.raises(FormatError, match="need exactly 12"):
        DenseEventCoder().decode(bytes(length), 12, 8)


def test_dense_rejects_nonzero_padding():
    DenseEventCoder().decode(bytes([0b1110_0000]), 3, 1)
    with pytest.raises(FormatError, match="padding"):
        DenseEventCoder().decode(bytes([0b1110_0001]), 3, 1)


def test_sparse_hand_built_payload_decodes():
    payload = sparse_payload(5, [[0, 4], [], [1, 2, 3]])
    expected = np.zeros((5, 3), dtype=bool)
    expected[[0, 4], 0] = expected[[1, 2, 3], 2] = True
    assert np.array_equal(SparseEventCoder().decode(payload, 5, 3), expected)


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        ([[0, 5]], "out of range"),  # index 5 of 5 units (3-bit field holds up to 7)
        ([[3, 1]], "strictly increasing"),
        ([[2, 2]], "strictly increasing"),
        ([[0, 1, 2, 3, 4, 0, 1]], "declares 7 active units"),
    ],
)
def test_sparse_rejects_bad_indices_and_counts(frames, message):
    with pytest.raises(FormatError, match=message):
        SparseEventCoder().decode(sparse_payload(5, frames), 5, len(frames))


def test_sparse_rejects_truncated_trailing_and_padding():
    payload = sparse_payload(100, [[3, 50, 99], [7]])  # 2 * 7 + 4 * 7 = 42 bits -> 6 bytes
    coder = SparseEventCoder()
    assert coder.decode(payload, 100, 2).sum() == 4
    for cut in range(len(payload)):
        with pytest.raises(FormatError, match="truncated"):
            coder.decode(payload[:cut], 100, 2)
    with pytest.raises(FormatError, match="trailing garbage"):
        coder.decode(payload + b"\0", 100, 2)
    with pytest.raises(FormatError, match="padding"):
        coder.decode(payload[:-1] + bytes([payload[-1] | 1]), 100, 2)
    with pytest.raises(FormatError):
        coder.decode(payload, 100, 3)  # the header promises a frame the payload lacks


@pytest.mark.parametrize("coder_name", CODERS)
@settings(max_examples=150, deadline=None, database=None)
@given(payload=st.binary(max_size=64), num_units=st.integers(1, 300), num_frames=st.integers(0, 64))
def test_decode_of_random_bytes_raises_only_format_error(coder_name, payload, num_units, num_frames):
    try:
        events = EVENT_CODERS[coder_name].decode(payload, num_units, num_frames)
    except FormatError:
        return
    assert events.shape == (num_units, num_frames) and events.dtype == np.bool_
    assert EVENT_CODERS[coder_name].encode(events) == payload  # accepted bytes are canonical


@pytest.mark.parametrize("coder_name", CODERS)
def test_ten_minutes_of_events_round_trip(coder_name):
    events = random_events(64, 30000, 0.1, 8)  # 10 min at 50 frames/s; speed is measured in benchmarks/
    coder = EVENT_CODERS[coder_name]
    assert np.array_equal(coder.decode(coder.encode(events), *events.shape), events)


def test_errors_are_codec_errors():
    assert issubclass(FormatError, CodecError) and issubclass(ConfigError, CodecError)
