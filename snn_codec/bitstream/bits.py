"""Fixed-width unsigned integers in an MSB-first bit stream: the one place coders pack bits."""

from __future__ import annotations

import numpy as np

# `read_uint_at` reads 4 bytes at a time: callers append this to the stream so reads stay in range.
READ_PADDING = bytes(4)
MAX_FIELD_WIDTH = 24  # read_uint_at reads one 32-bit word; 24 + 7 bits of offset fit in it


def pack_uints(values: np.ndarray, widths: np.ndarray | int) -> bytes:
    """Write unsigned integers MSB first, each with its own bit width, then pad with zero bits.

    Args:
        values: (M,) non-negative integers, each `< 2 ** width`.
        widths: (M,) bit widths or one width for all, each in 1..MAX_FIELD_WIDTH.

    Returns:
        ceil(sum(widths) / 8) bytes; the unused low bits of the last byte are zero.
    """
    values = np.asarray(values, dtype=np.int64)
    widths = np.broadcast_to(np.asarray(widths, dtype=np.int64), values.shape)
    if values.size == 0:
        return b""
    assert 1 <= widths.min() and widths.max() <= MAX_FIELD_WIDTH
    assert values.min() >= 0 and np.all(values >> widths == 0), "value wider than its field"
    num_bytes = _word_bytes(int(widths.max()))
    word_bits = 8 * num_bytes
    big_endian = values.astype(f">u{num_bytes}").view(np.uint8).reshape(-1, num_bytes)
    bits = np.unpackbits(big_endian, axis=1)  # (M, word_bits), MSB first
    keep = np.arange(word_bits) >= word_bits - widths[:, None]  # the low `width` bits of each row
    return np.packbits(bits[keep]).tobytes()


def unpack_uints(bits: np.ndarray, width: int) -> np.ndarray:
    """Read consecutive fixed-width unsigned integers from a bit array.

    Args:
        bits: (M * width,) uint8 array of 0/1, MSB first (as from `np.unpackbits`).
        width: bits per field, 1..MAX_FIELD_WIDTH.

    Returns:
        (M,) int64 values.
    """
    assert 1 <= width <= MAX_FIELD_WIDTH and bits.size % width == 0
    num_bytes = _word_bytes(width)
    fields = bits.reshape(-1, width)
    words = np.zeros((fields.shape[0], 8 * num_bytes), dtype=np.uint8)
    words[:, 8 * num_bytes - width :] = fields  # right-align each field in a big-endian word
    packed = np.packbits(words, axis=1)  # (M, num_bytes)
    return packed.view(f">u{num_bytes}").ravel().astype(np.int64)


def _word_bytes(width: int) -> int:
    """Size of the smallest big-endian unsigned integer holding `width` bits (1, 2 or 4 bytes)."""
    return 1 if width <= 8 else 2 if width <= 16 else 4


def read_uint_at(buf: bytes, bit_pos: int, width: int) -> int:
    """Read one `width`-bit unsigned integer starting at `bit_pos` (MSB first).

    Args:
        buf: the stream followed by READ_PADDING, so a read near the end stays in range.
        bit_pos: position of the field's first bit; the caller checks it lies inside the stream.
        width: 1..MAX_FIELD_WIDTH.
    """
    byte = bit_pos >> 3
    word = int.from_bytes(buf[byte : byte + 4], "big")
    return (word >> (32 - (bit_pos & 7) - width)) & ((1 << width) - 1)
