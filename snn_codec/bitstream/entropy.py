"""Entropy event coding: range coding under an adaptive per-unit context model.

Each event z[n, t] is coded with a probability predicted from what the decoder already knows: the
unit's own two previous events z[n, t-1], z[n, t-2] and a bucket of how many units fired in frame
t-1. Every (unit, context) pair keeps adaptive integer counts of the 0s and 1s it has seen. Contexts
only look at earlier frames, so all units of a frame are predicted, coded and updated together and
the Python loop runs over frames only.

Bit-exactness: the model state is integers only (counts, halved with integer shifts), and the
probability of a 1 is the integer `k = (c1 << PRECISION_BITS) // (c0 + c1)` clamped to
[1, 2**PRECISION_BITS - 1]. The coder receives `k / 2**PRECISION_BITS`, which a float64 holds
exactly; constriction's `Bernoulli(perfect=True)` works with 24-bit fixed point, where that value
is the integer `k << (24 - PRECISION_BITS)`, so no rounding happens anywhere and encoder and decoder
use the same fixed-point model on every machine, with any number of threads.
"""

from __future__ import annotations

import constriction
import numpy as np

from snn_codec.bitstream.base import EventCoder, check_events, check_shape
from snn_codec.errors import FormatError

PRECISION_BITS = 16  # probabilities are k / 2**16; constriction's 24-bit models hold them exactly
INITIAL_COUNT = 1  # each count starts here and grows by COUNT_STEP: a Krichevsky-Trofimov-like prior
COUNT_STEP = 2
COUNT_LIMIT = 512  # when c0 + c1 exceeds this, both are halved: the model follows slow changes
# A context's total grows by COUNT_STEP per use, so none passes COUNT_LIMIT before this frame.
FIRST_HALVING = (COUNT_LIMIT - 2 * INITIAL_COUNT) // COUNT_STEP
ACTIVITY_BUCKETS = 4  # buckets of the fraction of units that fired in the previous frame
NUM_CONTEXTS = 4 * ACTIVITY_BUCKETS  # (z[t-1], z[t-2]) x activity bucket
# Coded after the last frame with probability 1/2 per bit: a decoder that reads garbage or a
# truncated payload finds another pattern here with probability 1 - 2**-16.
TERMINATOR = np.array([1, 0, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1], dtype=np.int32)
_WORD = np.dtype("<u4")  # constriction's compressed words, stored little-endian


class ContextModel:
    """The adaptive model shared by the encoder, the decoder and `model_cost_bits`.

    The decoder runs it frame by frame (`decode`); the encoder, which knows every event beforehand, takes
    every frame's contexts from `context_indices` (`_encoder_probabilities`). Context c of unit n lives at
    n * NUM_CONTEXTS + c of two flat arrays: the count of its 1s (`ones`) and of all its events (`totals`; the 0-count is the difference).

    Args:
        num_units: N.
    """

    def __init__(self, num_units: int) -> None:
        self.num_units = num_units
        self.ones = np.full(num_units * NUM_CONTEXTS, INITIAL_COUNT, dtype=np.int64)
        self.totals = np.full(num_units * NUM_CONTEXTS, 2 * INITIAL_COUNT, dtype=np.int64)
        self.base = np.arange(num_units, dtype=np.int64) * NUM_CONTEXTS

    def _halve_full(self, index: np.ndarray, totals: np.ndarray) -> None:
        """Halves both counts of the contexts `index` whose new `totals` passed COUNT_LIMIT."""
        if totals.max() > COUNT_LIMIT:
            full = index[totals > COUNT_LIMIT]
            ones = self.ones[full]
            halved = (ones + 1) >> 1
            self.ones[full] = halved
            self.totals[full] = halved + ((self.totals[full] - ones + 1) >> 1)

    def decode(self, decoder: constriction.stream.queue.RangeDecoder, num_frames: int) -> tuple[np.ndarray, np.ndarray]:
        """Decodes `num_frames` frames from `decoder`, each under the model that the earlier ones left:
        (T, N) int64 events and the (T, N) int64 k they were decoded with.

        The loop runs once per frame of the file, its state in local variables: its overhead is most of the
        decoding time.
        """
        ones, totals, base, num_units = self.ones, self.totals, self.base, self.num_units
        family, scale = _bernoulli(), 1.0 / (1 << PRECISION_BITS)
        events = np.empty((num_frames, num_units), dtype=np.int64)
        k = np.empty((num_frames, num_units), dtype=np.int64)
        history, bucket = np.zeros(num_units, dtype=np.int64), 0  # bit 0: z[:, t-1], bit 1: z[:, t-2]
        for t in range(num_frames):
            index = base + (history + 4 * bucket)
            counted_ones, total = ones[index], totals[index]
            k[t] = (counted_ones << PRECISION_BITS) // total
            bits = events[t] = decoder.decode(family, k[t] * scale).astype(np.int64)
            ones[index] = counted_ones + COUNT_STEP * bits
            total += COUNT_STEP
            totals[index] = total
            if t >= FIRST_HALVING:
                self._halve_full(index, total)
            history = ((history << 1) | bits) & 3
            bucket = min(ACTIVITY_BUCKETS - 1, np.count_nonzero(bits) * ACTIVITY_BUCKETS // num_units)
        return events, k


def context_indices(model: ContextModel, events: np.ndarray) -> np.ndarray:
    """(N, T) events -> (T, N) the context index of every event, as `ContextModel.decode` finds it
    frame by frame (all at once: the contexts only look at earlier frames)."""
    num_units, num_frames = events.shape
    bits = events.astype(np.int64)
    history = np.zeros_like(bits)
    history[:, 1:] += bits[:, :-1]
    history[:, 2:] += 2 * bits[:, :-2]
    fired = np.zeros(num_frames, dtype=np.int64)
    fired[1:] = bits[:, :-1].sum(axis=0)
    bucket = np.minimum(ACTIVITY_BUCKETS - 1, fired * ACTIVITY_BUCKETS // num_units)
    return (model.base[:, None] + history + 4 * bucket).T.copy()


def _encoder_probabilities(events: np.ndarray) -> np.ndarray:
    """(N, T) events -> (T, N) int64 k: each event's probability of a 1 under the adaptive model."""
    model = ContextModel(events.shape[0])
    indices, bits = context_indices(model, events), events.T.astype(np.int64)
    ones, totals = model.ones, model.totals  # local variables: the loop runs once per frame
    k = np.empty(indices.shape, dtype=np.int64)
    for t, index in enumerate(indices):
        counted_ones, total = ones[index], totals[index]
        k[t] = (counted_ones << PRECISION_BITS) // total
        ones[index] = counted_ones + COUNT_STEP * bits[t]
        total += COUNT_STEP
        totals[index] = total
        if t >= FIRST_HALVING:
            model._halve_full(index, total)
    return k


def _bernoulli() -> constriction.stream.model.Bernoulli:
    return constriction.stream.model.Bernoulli(perfect=True)


def _as_float(k: np.ndarray) -> np.ndarray:
    """Integer probabilities -> the exact float64 values the coder gets (a power-of-two scaling)."""
    return k * (1.0 / (1 << PRECISION_BITS))


def model_cost_bits(events: np.ndarray) -> float:
    """The information content of `events` under the coder's adaptive model, in bits.

    The sum of -log2 p over every coded event, with the exact integer probabilities the coder uses
    (the terminator's 16 bits and the range coder's flush are not included).

    Args:
        events: (N, T) bool.
    """
    events = check_events(events)
    k = _encoder_probabilities(events)
    p = _as_float(np.where(events.T, k, (1 << PRECISION_BITS) - k))
    return -float(np.log2(p).sum())


def finish_payload(encoder: constriction.stream.queue.RangeEncoder) -> bytes:
    """Codes the terminator and returns the payload: the encoder's words, little-endian.

    The decoder reads missing words as zeros: dropping trailing zero words makes the payload shorter
    and canonical (`payload_words` rejects a payload that ends in a zero word).
    """
    encoder.encode(TERMINATOR, _bernoulli(), np.full(TERMINATOR.size, 0.5))
    return np.trim_zeros(encoder.get_compressed(), "b").astype(_WORD).tobytes()


def payload_words(payload: bytes, what: str) -> np.ndarray:
    """The range coder's words of a payload written by `finish_payload`.

    Raises:
        FormatError: the payload is not a whole number of words or ends in a zero word.
    """
    if len(payload) % _WORD.itemsize:
        raise FormatError(f"corrupted: {what} payload has {len(payload)} bytes; expected a multiple of 4")
    if payload[-_WORD.itemsize :] == bytes(_WORD.itemsize):
        raise FormatError(f"corrupted: {what} payload ends in a zero word, which encode never writes")
    return np.frombuffer(payload, dtype=_WORD).astype(np.uint32)


def check_end(decoder: constriction.stream.queue.RangeDecoder, what: str) -> None:
    """Reads the terminator after the last coded symbol and checks that nothing follows it.

    Raises:
        FormatError: the terminator is wrong (garbage or a truncated payload) or data follows it.
    """
    try:
        terminator = np.asarray(decoder.decode(_bernoulli(), np.full(TERMINATOR.size, 0.5)))
        exhausted = decoder.maybe_exhausted()
    except Exception as err:  # constriction reports invalid data with assorted exception types
        raise FormatError(f"corrupted: {what} payload cannot be decoded ({err})") from err
    if not np.array_equal(terminator, TERMINATOR):
        raise FormatError(f"corrupted or truncated: {what} payload does not end with its terminator")
    if not exhausted:
        raise FormatError(f"corrupted: {what} payload has trailing data after its terminator")


def _range_code(events: np.ndarray, k: np.ndarray) -> bytes:
    """Range code (N, T) events frame-major with (T, N) integer probabilities k, then the terminator."""
    encoder = constriction.stream.queue.RangeEncoder()
    if events.size:
        encoder.encode(events.T.ravel().astype(np.int32), _bernoulli(), _as_float(k.ravel()))
    return finish_payload(encoder)


class EntropyEventCoder(EventCoder):
    """Range codes the events frame by frame under `ContextModel`, then a 16-bit terminator.

    The payload is constriction's `RangeEncoder` output as little-endian 32-bit words, without
    trailing zero words. The model
    restarts with every call, so each payload (each container chunk) decodes on its own.
    """

    coder_id = 3
    name = "entropy"

    def encode(self, events: np.ndarray) -> bytes:
        events = check_events(events)
        return _range_code(events, _encoder_probabilities(events))

    def decode(self, payload: bytes, num_units: int, num_frames: int) -> np.ndarray:
        check_shape(num_units, num_frames)
        # Every event costs at least -log2(1 - 2**-PRECISION_BITS) > 2**-PRECISION_BITS bits, so a
        # payload this short cannot hold the declared matrix: refuse before allocating it.
        if (num_units * num_frames) >> PRECISION_BITS > 8 * len(payload) + 64:
            raise FormatError(
                f"truncated: entropy payload of {len(payload)} bytes cannot hold "
                f"{num_units} units x {num_frames} frames"
            )
        words = payload_words(payload, "entropy")
        try:
            decoder = constriction.stream.queue.RangeDecoder(words)
            frames, k = ContextModel(num_units).decode(decoder, num_frames)
        except Exception as err:  # constriction reports invalid data with assorted exception types
            raise FormatError(f"corrupted: entropy payload cannot be decoded ({err})") from err
        check_end(decoder, "entropy")
        events = frames.T.astype(np.bool_)
        # The range decoder reads ahead, so trailing words can slip past `maybe_exhausted`; coding
        # the decoded events again (one vectorised call) proves the payload is the canonical one.
        if _range_code(events, k) != payload:
            raise FormatError("corrupted: entropy payload is not the encoding of what it decodes to")
        return events
