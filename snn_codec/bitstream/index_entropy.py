"""Entropy index coding: range coding of codebook indices under an adaptive categorical model per codebook.

Each codebook (each quantizer level of a residual VQ) keeps integer counts of the K indices it has coded,
starting at INITIAL_COUNT each (Laplace smoothing) and growing by COUNT_STEP per occurrence; when a
codebook's total exceeds COUNT_LIMIT, its counts are halved. The probability of index k is its count over
the total. Counts only look at earlier frames, so all codebooks of a frame are coded together and the
Python loop runs over frames only.

Bit-exactness: the model state is integers only. The coder receives the counts themselves as float64
(exact: they stay far below 2**53), and constriction's `Categorical(perfect=False)` turns them into its
fixed-point model with deterministic integer-valued rules, so encoder and decoder build the same model on
every machine. The payload layout follows the entropy event coder: alphabet size, range coder words, and
the same 16-bit terminator.
"""

from __future__ import annotations

import constriction
import numpy as np

from snn_codec.bitstream.base import IndexCoder, alphabet_prefix, check_index_shape, check_indices
from snn_codec.bitstream.entropy import check_end, finish_payload, payload_words
from snn_codec.errors import FormatError

INITIAL_COUNT = 1  # with COUNT_STEP 4, a Dirichlet(1/4) prior: quick to learn the few codes a chunk uses
COUNT_STEP = 4
COUNT_LIMIT = 2**16  # when a codebook's total exceeds this, its counts are halved: the model follows changes


class IndexModel:
    """The adaptive model shared by the encoder, the decoder and `index_model_cost_bits`.

    Call `counts` for the next frame's (Q, K) unnormalised probabilities, then `observe(indices)` with
    that frame's (Q,) indices.

    Args:
        num_units: Q, codebooks.
        alphabet_size: K, codebook size.
    """

    def __init__(self, num_units: int, alphabet_size: int) -> None:
        self.counts = np.full((num_units, alphabet_size), INITIAL_COUNT, dtype=np.int64)
        self.totals = np.full(num_units, INITIAL_COUNT * alphabet_size, dtype=np.int64)
        self.rows = np.arange(num_units)

    def weights(self) -> np.ndarray:
        """(Q, K) float64 counts: the next frame's probabilities, up to normalisation (exact integers)."""
        return self.counts.astype(np.float64)

    def observe(self, indices: np.ndarray) -> None:
        """Count the frame's (Q,) indices, one per codebook."""
        self.counts[self.rows, indices] += COUNT_STEP
        self.totals += COUNT_STEP
        for row in np.flatnonzero(self.totals > COUNT_LIMIT):
            self.counts[row] = (self.counts[row] + 1) >> 1  # stays >= 1: every index remains codable
            self.totals[row] = self.counts[row].sum()


def _categorical() -> constriction.stream.model.Categorical:
    return constriction.stream.model.Categorical(perfect=False)


def index_model_cost_bits(indices: np.ndarray, alphabet_size: int) -> float:
    """The information content of (Q, T) `indices` under the coder's adaptive model, in bits.

    The sum of -log2 p over every coded index, p = count / total as the model holds them before
    constriction's fixed-point rounding (the alphabet size, terminator and flush are not included).
    """
    indices = check_indices(indices, alphabet_size)
    model = IndexModel(indices.shape[0], alphabet_size)
    total = 0.0
    for frame in indices.T:
        weights = model.weights()
        total -= float(np.log2(weights[model.rows, frame] / weights.sum(axis=1)).sum())
        model.observe(frame)
    return total


class EntropyIndexCoder(IndexCoder):
    """Range codes the indices frame by frame under `IndexModel`, then a 16-bit terminator.

    The payload is the alphabet size (u32), then constriction's `RangeEncoder` output as little-endian
    32-bit words without trailing zero words. The model restarts with every call, so each payload (each
    container chunk) decodes on its own.
    """

    coder_id = 5
    name = "index-entropy"

    def encode(self, indices: np.ndarray, alphabet_size: int) -> bytes:
        indices = check_indices(indices, alphabet_size)
        model = IndexModel(indices.shape[0], alphabet_size)
        encoder, family = constriction.stream.queue.RangeEncoder(), _categorical()
        for frame in indices.T:
            encoder.encode(frame.astype(np.int32), family, model.weights())
            model.observe(frame)
        return alphabet_prefix(alphabet_size) + finish_payload(encoder)

    def decode(self, payload: bytes, num_units: int, num_frames: int) -> np.ndarray:
        check_index_shape(num_units, num_frames)
        alphabet_size = self.alphabet_size(payload)
        # No total exceeds COUNT_LIMIT and no count is 0, so every index costs more than
        # (K - 1) / COUNT_LIMIT bits: a payload this short cannot hold the declared matrix.
        if num_units * num_frames * (alphabet_size - 1) // (2 * COUNT_LIMIT) > 8 * len(payload) + 64:
            raise FormatError(
                f"truncated: index-entropy payload of {len(payload)} bytes cannot hold "
                f"{num_units} x {num_frames} indices of {alphabet_size} codes"
            )
        words = payload_words(payload[len(alphabet_prefix(alphabet_size)) :], "index-entropy")
        indices = np.zeros((num_units, num_frames), dtype=np.int64)
        model, family = IndexModel(num_units, alphabet_size), _categorical()
        try:
            decoder = constriction.stream.queue.RangeDecoder(words)
            for t in range(num_frames):
                indices[:, t] = decoder.decode(family, model.weights())
                model.observe(indices[:, t])
        except Exception as err:  # constriction reports invalid data with assorted exception types
            raise FormatError(f"corrupted: index-entropy payload cannot be decoded ({err})") from err
        check_end(decoder, "index-entropy")
        # The range decoder reads ahead, so trailing words can slip past the end check; coding the
        # decoded indices again proves the payload is the canonical one.
        if self.encode(indices, alphabet_size) != payload:
            raise FormatError("corrupted: index-entropy payload is not the encoding of what it decodes to")
        return indices
