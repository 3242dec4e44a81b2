"""The event coder interface and the shape limits every coder and the container share."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from snn_codec.errors import ConfigError, FormatError

MAX_UNITS = 65535  # fits the container's u16 field
MAX_FRAMES = 2**31


class EventCoder:
    """Turns a binary event matrix into bytes and back.

    A new coder is one subclass (a unique `coder_id` and `name`) plus one line in `EVENT_CODERS`.
    """

    coder_id: ClassVar[int]  # stored in the .snnc header, 1..255
    name: ClassVar[str]  # used on the command line and in configs

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

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


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
