"""Dense event coding: one bit per unit and frame."""

from __future__ import annotations

import numpy as np

from snn_codec.bitstream.base import EventCoder, check_events, check_shape
from snn_codec.errors import FormatError


class DenseEventCoder(EventCoder):
    """Bit-packs the events frame-major (all units of frame 0, then frame 1, ...), MSB first.

    The payload is exactly ceil(N * T / 8) bytes, whatever the firing rate; padding bits are zero.
    """

    coder_id = 1
    name = "dense"

    def encode(self, events: np.ndarray) -> bytes:
        events = check_events(events)
        return np.packbits(events.T.ravel()).tobytes()

    def decode(self, payload: bytes, num_units: int, num_frames: int) -> np.ndarray:
        check_shape(num_units, num_frames)
        num_bits = num_units * num_frames
        expected = (num_bits + 7) // 8
        if len(payload) != expected:
            raise FormatError(
                f"corrupted: dense payload has {len(payload)} bytes; "
                f"{num_units} units x {num_frames} frames need exactly {expected}"
            )
        packed = np.frombuffer(payload, dtype=np.uint8)
        pad = 8 * expected - num_bits
        if pad and packed[-1] & ((1 << pad) - 1):
            raise FormatError("corrupted: dense payload has nonzero padding bits")
        bits = np.unpackbits(packed, count=num_bits).view(np.bool_)
        return np.ascontiguousarray(bits.reshape(num_frames, num_units).T)  # (N, T)
