"""The coder interfaces (binary events, codebook indices) and the shape limits every coder and the container
share."""

from __future__ import annotations

import struct
from typing import ClassVar

import numpy as np

from snn_codec.errors import ConfigError, FormatError

MAX_UNITS = 65535  # fits the container's u16 field
MAX_FRAMES = 2**31
MAX_CHUNK_CELLS = 2**21  # units x frames of one chunk: bounds what a few bytes of file can make us allocate
MAX_ALPHABET = 2**16  # largest codebook an index payload may declare
_ALPHABET = struct.Struct("<I")  # an index payload starts with its alphabet size


def max_payload(num_units: int, num_frames: int) -> int:
    """Largest event payload a chunk may declare: twice the dense size plus slack (no event coder needs more)."""
    return 2 * (-(-num_units * num_frames // 8)) + 1024


class EventCoder:
    """Turns a binary event matrix into bytes and back.

    A new coder is one subclass (a unique `coder_id` and `name`) plus one line in `EVENT_CODERS`.
    """

    coder_id: ClassVar[int]  # stored in the .snnc header, 1..255
    name: ClassVar[str]  # used on the command line and in configs
    stores_indices: ClassVar[bool] = False  # binary events, not codebook indices

    def encode(self, events: np.ndarray) -> bytes:
        """Encode events.

        Args:
            events: (N, T) bool, N units, T frames; 1 <= N <= MAX_UNITS, T <= MAX_FRAMES.

        Returns:
            The payload. The same events always give the same bytes.
        """
        raise NotImplementedError

    def decode(self, payload: bytes, num_units: int, num_frames: int) -> np.ndarray:
        """Decode a payload written by `encode`.

        Args:
            payload: the bytes from `encode`.
            num_units: N, from the container header.
            num_frames: T, from the container header.

        Returns:
            (N, T) bool events.

        Raises:
            FormatError: the payload does not describe a (N, T) matrix for this coder.
        """
        raise NotImplementedError

    def alphabet_size(self, payload: bytes) -> int:
        """Symbols per stored value: 2 for binary events."""
        return 2

    def max_payload(self, num_units: int, num_frames: int) -> int:
        """Largest payload this coder writes for (N, T) events: a bound checked before reading a chunk."""
        return max_payload(num_units, num_frames)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class IndexCoder:
    """Turns a matrix of codebook indices (a VQ model's payload) into bytes and back.

    The payload starts with the alphabet size (u32, little-endian), so it decodes without the model. A new
    coder is one subclass (a `coder_id` and `name` unique among all coders) plus one line in `INDEX_CODERS`.
    """

    coder_id: ClassVar[int]
    name: ClassVar[str]
    stores_indices: ClassVar[bool] = True

    def encode(self, indices: np.ndarray, alphabet_size: int) -> bytes:
        """Encode indices.

        Args:
            indices: (Q, T) integers in [0, alphabet_size), Q codebooks, T frames; Q * T <= MAX_CHUNK_CELLS.
            alphabet_size: the codebook size K, 2..MAX_ALPHABET.

        Returns:
            The payload. The same indices always give the same bytes.
        """
        raise NotImplementedError

    def decode(self, payload: bytes, num_units: int, num_frames: int) -> np.ndarray:
        """Decode a payload written by `encode` into (Q, T) int64 indices, Q = `num_units`.

        Raises:
            FormatError: the payload does not describe a (Q, T) matrix of indices for this coder.
        """
        raise NotImplementedError

    def alphabet_size(self, payload: bytes) -> int:
        """The codebook size K the payload declares.

        Raises:
            FormatError: the payload is too short or declares K outside 2..MAX_ALPHABET.
        """
        if len(payload) < _ALPHABET.size:
            raise FormatError(f"truncated: index payload of {len(payload)} bytes has no alphabet size")
        (size,) = _ALPHABET.unpack_from(payload)
        if not 2 <= size <= MAX_ALPHABET:
            raise FormatError(f"corrupted: index payload declares {size} symbols; expected 2..{MAX_ALPHABET}")
        return size

    def max_payload(self, num_units: int, num_frames: int) -> int:
        """Largest payload this coder writes: 32 bits per index (more than any model costs) plus slack."""
        return _ALPHABET.size + 4 * num_units * num_frames + 1024

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


Coder = EventCoder | IndexCoder


def alphabet_prefix(alphabet_size: int) -> bytes:
    """The first bytes of an index payload."""
    return _ALPHABET.pack(alphabet_size)


def check_indices(indices: np.ndarray, alphabet_size: int) -> np.ndarray:
    """Validate indices given to `IndexCoder.encode`; returns them as a C-contiguous (Q, T) int64 array.

    Raises:
        ConfigError: not a 2-D integer array, its shape is outside the limits, or a value is not below
            `alphabet_size`.
    """
    if not isinstance(indices, np.ndarray) or indices.ndim != 2 or not np.issubdtype(indices.dtype, np.integer):
        got = f"{type(indices).__name__} {getattr(indices, 'dtype', '')} {getattr(indices, 'shape', '')}"
        raise ConfigError(f"indices must be a 2-D numpy integer array of shape (Q, T); got {got}")
    if not 2 <= alphabet_size <= MAX_ALPHABET:
        raise ConfigError(f"alphabet_size must be in 2..{MAX_ALPHABET}, got {alphabet_size}")
    num_units, num_frames = indices.shape
    if not 1 <= num_units <= MAX_UNITS or num_units * num_frames > MAX_CHUNK_CELLS:
        raise ConfigError(
            f"indices shape {indices.shape} is outside the limits: 1 <= Q <= {MAX_UNITS} codebooks, "
            f"Q x T <= {MAX_CHUNK_CELLS} indices per payload"
        )
    if indices.size and (indices.min() < 0 or indices.max() >= alphabet_size):
        raise ConfigError(f"indices must lie in [0, {alphabet_size}); got {indices.min()}..{indices.max()}")
    return np.ascontiguousarray(indices, dtype=np.int64)


def check_index_shape(num_units: int, num_frames: int) -> None:
    """Validate a declared (Q, T) of indices before decoding allocates anything.

    Raises:
        FormatError: Q or T is outside the limits.
    """
    check_shape(num_units, num_frames)
    if num_units * num_frames > MAX_CHUNK_CELLS:
        raise FormatError(f"corrupted: {num_units} x {num_frames} indices declared; at most {MAX_CHUNK_CELLS}")


def check_events(events: np.ndarray) -> np.ndarray:
    """Validate an event matrix given to `encode`; returns it as a C-contiguous (N, T) bool array.

    Raises:
        ConfigError: not a 2-D bool array, or its shape is outside the limits.
    """
    if not isinstance(events, np.ndarray) or events.ndim != 2 or events.dtype != np.bool_:
        got = f"{type(events).__name__} {getattr(events, 'dtype', '')} {getattr(events, 'shape', '')}"
        raise ConfigError(f"events must be a 2-D numpy bool array of shape (N, T); got {got}")
    num_units, num_frames = events.shape
    if not 1 <= num_units <= MAX_UNITS or num_frames > MAX_FRAMES:
        raise ConfigError(
            f"events shape {events.shape} is outside the limits: "
            f"1 <= N <= {MAX_UNITS} units, T <= {MAX_FRAMES} frames"
        )
    return np.ascontiguousarray(events)


def check_shape(num_units: int, num_frames: int) -> None:
    """Validate a declared (N, T) before decoding allocates anything.

    Raises:
        FormatError: N or T is outside the limits.
    """
    if not 1 <= num_units <= MAX_UNITS:
        raise FormatError(f"corrupted: {num_units} units declared; expected 1..{MAX_UNITS}")
    if not 0 <= num_frames <= MAX_FRAMES:
        raise FormatError(f"corrupted: {num_frames} frames declared; expected 0..{MAX_FRAMES}")
