"""Fixed-width index coding: each codebook index in ceil(log2 K) bits, the VQ counterpart of dense events."""

from __future__ import annotations

import numpy as np

from snn_codec.bitstream.base import IndexCoder, alphabet_prefix, check_index_shape, check_indices
from snn_codec.bitstream.bits import pack_uints, unpack_uints
from snn_codec.errors import FormatError


def index_width(alphabet_size: int) -> int:
    """Bits per index for an alphabet of `alphabet_size` symbols (2..MAX_ALPHABET): 1..16."""
    return max(1, (alphabet_size - 1).bit_length())


class FixedIndexCoder(IndexCoder):
    """Packs the indices frame-major (all codebooks of frame 0, then frame 1, ...), MSB first.

    The payload is the alphabet size (u32) then exactly ceil(Q * T * width / 8) bytes, whatever the
    indices; padding bits are zero.
    """

    coder_id = 4
    name = "index-fixed"

    def encode(self, indices: np.ndarray, alphabet_size: int) -> bytes:
        indices = check_indices(indices, alphabet_size)
        return alphabet_prefix(alphabet_size) + pack_uints(indices.T.ravel(), index_width(alphabet_size))

    def decode(self, payload: bytes, num_units: int, num_frames: int) -> np.ndarray:
        check_index_shape(num_units, num_frames)
        alphabet_size = self.alphabet_size(payload)
        width, body = index_width(alphabet_size), payload[len(alphabet_prefix(alphabet_size)) :]
        num_bits = num_units * num_frames * width
        expected = (num_bits + 7) // 8
        if len(body) != expected:
            raise FormatError(
                f"corrupted: fixed-width index payload has {len(body)} bytes after its alphabet size; "
                f"{num_units} codebooks x {num_frames} frames of {width} bits need exactly {expected}"
            )
        bits = np.unpackbits(np.frombuffer(body, dtype=np.uint8))
        if bits[num_bits:].any():
            raise FormatError("corrupted: fixed-width index payload has nonzero padding bits")
        values = unpack_uints(bits[:num_bits], width) if num_bits else np.zeros(0, dtype=np.int64)
        if values.size and values.max() >= alphabet_size:
            raise FormatError(f"corrupted: index {int(values.max())} out of range; the alphabet has {alphabet_size}")
        return np.ascontiguousarray(values.reshape(num_frames, num_units).T)  # (Q, T)
