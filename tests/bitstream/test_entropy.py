"""The entropy event coder: round trips, size against dense and sparse, model cost, corrupted input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snn_codec.bitstream import EVENT_CODERS, DenseEventCoder, SparseEventCoder, encode_events
from snn_codec.bitstream.entropy import EntropyEventCoder, model_cost_bits
from snn_codec.errors import FormatError

RATES = [0.01, 0.05, 0.10, 0.25, 0.50]


def iid_events(num_units: int, num_frames: int, rate: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((num_units, num_frames)) < rate


def markov_events(num_units: int, num_frames: int, rate: float, seed: int, stickiness: float = 0.6) -> np.ndarray:
    """Each unit a two-state Markov chain with stationary firing rate `rate`."""
    rng = np.random.default_rng(seed)
    events = np.zeros((num_units, num_frames), dtype=bool)
    state = rng.random(num_units) < rate
    for t in range(num_frames):
        p = np.where(state, rate + stickiness * (1 - rate), rate * (1 - stickiness))
        state = rng.random(num_units) < p
        events[:, t] = state
    return events


def round_trip(events: np.ndarray) -> np.ndarray:
    coder = EntropyEventCoder()
    return coder.decode(coder.encode(events), *events.shape)


def test_registered():
    assert EVENT_CODERS["entropy"].coder_id == 3


@settings(max_examples=60, deadline=None, database=None)
@given(
    num_units=st.integers(1, 40),
    num_frames=st.integers(0, 60),
    rate=st.sampled_from([0.0, 0.01, 0.1, 0.3, 0.5, 1.0]),
    correlated=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_round_trip_random(num_units, num_frames, rate, correlated, seed):
    make = markov_events if correlated and 0 < rate < 1 else iid_events
    events = make(num_units, num_frames, rate, seed)
    assert np.array_equal(round_trip(events), events)


@pytest.mark.parametrize(
    "events",
    [
        np.zeros((1, 0), bool),
        np.ones((1, 1), bool),
        np.zeros((5, 1), bool),
        np.ones((64, 500), bool),
        np.zeros((64, 500), bool),
        np.tile([True, False, False], (3, 50)),
    ],
)
def test_round_trip_edge_cases(events):
    assert np.array_equal(round_trip(events), events)


def test_encoding_is_deterministic():
    events = markov_events(16, 300, 0.1, 1)
    coder = EntropyEventCoder()
    assert coder.encode(events) == coder.encode(events.copy()) == coder.encode(np.asfortranarray(events))


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("kind", ["iid", "markov"])
def test_smaller_than_dense_and_sparse(rate, kind):
    events = (iid_events if kind == "iid" else markov_events)(64, 1500, rate, 2)
    size = len(EntropyEventCoder().encode(events))
    dense = len(DenseEventCoder().encode(events))
    assert size < len(SparseEventCoder().encode(events))
    if kind == "iid" and rate == 0.5:
        # Fair coin flips are incompressible: the adaptive model pays its learning cost on top.
        assert size < 1.03 * dense
    else:
        assert size < dense


@pytest.mark.parametrize("rate", [0.01, 0.1, 0.5])
def test_coded_size_matches_model_cost(rate):
    events = markov_events(64, 1500, rate, 3)
    coded_bits = 8 * len(EntropyEventCoder().encode(events))
    assert abs(coded_bits / model_cost_bits(events) - 1) < 0.02


def test_auto_picks_entropy_when_smallest():
    events = markov_events(64, 400, 0.05, 4)
    coder, payload = encode_events(events)
    assert coder.name == "entropy"
    assert len(payload) == min(len(c.encode(events)) for c in EVENT_CODERS.values())


def test_truncated_and_extended_payloads_raise_format_error():
    events = markov_events(8, 200, 0.2, 5)
    coder = EntropyEventCoder()
    payload = coder.encode(events)
    for cut in range(len(payload)):
        with pytest.raises(FormatError):
            coder.decode(payload[:cut], 8, 200)
    with pytest.raises(FormatError):
        coder.decode(payload + bytes(4), 8, 200)
    with pytest.raises(FormatError):
        coder.decode(payload + b"\x01\x02\x03\x04", 8, 200)


@settings(max_examples=200, deadline=None, database=None)
@given(payload=st.binary(max_size=256), num_units=st.integers(1, 100), num_frames=st.integers(0, 200))
def test_garbage_raises_only_format_error(payload, num_units, num_frames):
    coder = EntropyEventCoder()
    try:
        events = coder.decode(payload, num_units, num_frames)
    except FormatError:
        return
    assert events.shape == (num_units, num_frames) and events.dtype == np.bool_
    assert coder.encode(events) == payload


@settings(max_examples=50, deadline=None, database=None)
@given(position=st.integers(0, 10**6), flip=st.integers(1, 255))
def test_corrupted_byte_raises_format_error_or_decodes_to_something_else(position, flip):
    events = markov_events(16, 100, 0.1, 6)
    coder = EntropyEventCoder()
    payload = bytearray(coder.encode(events))
    payload[position % len(payload)] ^= flip
    try:
        decoded = coder.decode(bytes(payload), 16, 100)
    except FormatError:
        return
    assert not np.array_equal(decoded, events)  # the container's CRC catches the rest
