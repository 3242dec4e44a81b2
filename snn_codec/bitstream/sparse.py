"""Sparse event coding: per frame, the number of active units and their indices."""

from __future__ import annotations

import numpy as np

from snn_codec.bitstream.base import EventCoder, check_events, check_shape
from snn_codec.bitstream.bits import READ_PADDING, pack_uints, read_uint_at, unpack_uints
from snn_codec.errors import FormatError


def field_widths(num_units: int) -> tuple[int, int]:
    """Bit widths of the count field (holds 0..N) and of an index field (holds 0..N-1, >= 1 bit)."""
    return num_units.bit_length(), max(1, (num_units - 1).bit_length())


class SparseEventCoder(EventCoder):
    """The events as a sparse matrix, the layout of the Spiking Music paper's sparse regime.

    For each frame in order: the count of active units (`count_width` bits), then their unit
    indices in increasing order (`index_width` bits each); all fields MSB first, the last byte
    padded with zero bits. Size: T * count_width + E * index_width bits for E events.
    """

    coder_id = 2
    name = "sparse"

    def encode(self, events: np.ndarray) -> bytes:
        events = check_events(events)
        num_units, num_frames = events.shape
        count_width, index_width = field_widths(num_units)
        frame_major = events.T  # (T, N): np.nonzero then lists events frame by frame
        counts = np.count_nonzero(frame_major, axis=1)
        _, unit_index = np.nonzero(frame_major)
        # Each frame's count goes right before its indices: frame t's count sits at field
        # t + (events before frame t), and event e of the stream at field e + (its frame + 1).
        events_before = np.cumsum(counts) - counts
        is_count = np.zeros(num_frames + unit_index.size, dtype=np.bool_)
        is_count[np.arange(num_frames) + events_before] = True
        values = np.empty(is_count.size, dtype=np.int64)
        values[is_count] = counts
        values[~is_count] = unit_index
        widths = np.where(is_count, count_width, index_width)
        return pack_uints(values, widths)

    def decode(self, payload: bytes, num_units: int, num_frames: int) -> np.ndarray:
        check_shape(num_units, num_frames)
        count_width, index_width = field_widths(num_units)
        total_bits = 8 * len(payload)
        if num_frames * count_width > total_bits:
            raise FormatError(
                f"truncated: sparse payload of {len(payload)} bytes cannot hold {num_frames} frames"
            )
        counts = self._read_counts(payload, num_units, num_frames)
        end = num_frames * count_width + int(counts.sum()) * index_width
        if (end + 7) // 8 != len(payload):
            raise FormatError(
                f"corrupted: sparse payload has {len(payload) - (end + 7) // 8} bytes of trailing garbage"
            )
        bits = np.unpackbits(np.frombuffer(payload, dtype=np.uint8))
        if bits[end:].any():
            raise FormatError("corrupted: sparse payload has nonzero padding bits")
        # Drop the count fields; what is left of the stream are the index fields, back to back.
        count_starts = count_width * np.arange(num_frames) + index_width * (np.cumsum(counts) - counts)
        is_index_bit = np.ones(end, dtype=np.bool_)
        is_index_bit[(count_starts[:, None] + np.arange(count_width)).ravel()] = False
        unit_index = unpack_uints(bits[:end][is_index_bit], index_width)
        frame_index = np.repeat(np.arange(num_frames), counts)
        self._check_indices(unit_index, frame_index, num_units)
        events = np.zeros((num_units, num_frames), dtype=np.bool_)
        events[unit_index, frame_index] = True
        return events

    @staticmethod
    def _read_counts(payload: bytes, num_units: int, num_frames: int) -> np.ndarray:
        """Walk the frames' count fields. Each count says where the next one starts, so this loop
        runs once per frame (never per event); the caller has checked num_frames against the size.
        """
        count_width, index_width = field_widths(num_units)
        total_bits = 8 * len(payload)
        buf = payload + READ_PADDING
        counts = np.empty(num_frames, dtype=np.int64)
        pos = 0
        for frame in range(num_frames):
            if pos + count_width > total_bits:
                raise FormatError(f"truncated: sparse payload ends inside frame {frame} of {num_frames}")
            count = read_uint_at(buf, pos, count_width)
            if count > num_units:
                raise FormatError(
                    f"corrupted: frame {frame} declares {count} active units; there are {num_units}"
                )
            counts[frame] = count
            pos += count_width + count * index_width
        if pos > total_bits:
            raise FormatError("truncated: sparse payload ends inside the last frame")
        return counts

    @staticmethod
    def _check_indices(unit_index: np.ndarray, frame_index: np.ndarray, num_units: int) -> None:
        if unit_index.size and unit_index.max() >= num_units:
            raise FormatError(
                f"corrupted: unit index {int(unit_index.max())} out of range; there are {num_units} units"
            )
        same_frame = frame_index[1:] == frame_index[:-1]
        if np.any(same_frame & (unit_index[1:] <= unit_index[:-1])):
            raise FormatError("corrupted: unit indices within a frame are not strictly increasing")
