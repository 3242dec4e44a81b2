"""Event coders (events <-> bytes) and the .snnc container (header + payload + CRC32)."""

from __future__ import annotations

import numpy as np

from snn_codec.bitstream.base import MAX_FRAMES, MAX_UNITS, EventCoder
from snn_codec.bitstream.container import (
    CRC_SIZE,
    MAGIC,
    VERSION,
    Header,
    header_size,
    pack,
    read_header,
    unpack,
)
from snn_codec.bitstream.dense import DenseEventCoder
from snn_codec.bitstream.entropy import EntropyEventCoder
from snn_codec.bitstream.sparse import SparseEventCoder
from snn_codec.errors import ConfigError, FormatError

# A new coder (e.g. an entropy coder) is one EventCoder subclass plus one line here.
EVENT_CODERS: dict[str, EventCoder] = {
    coder.name: coder
    for coder in [
        DenseEventCoder(),
        SparseEventCoder(),
        EntropyEventCoder(),
    ]
}
_BY_ID: dict[int, EventCoder] = {coder.coder_id: coder for coder in EVENT_CODERS.values()}
assert len(_BY_ID) == len(EVENT_CODERS), "event coder ids must be unique"


def coder_by_id(coder_id: int) -> EventCoder:
    """The coder a .snnc header names.

    Raises:
        FormatError: no registered coder has this id (a newer snn_codec wrote the file, or it is damaged).
    """
    if coder_id not in _BY_ID:
        known = {coder.coder_id: name for name, coder in EVENT_CODERS.items()}
        raise FormatError(
            f"unknown event coder id {coder_id} (known: {known}); "
            "the file was written by a newer snn_codec or is damaged"
        )
    return _BY_ID[coder_id]


def coder_by_name(name: str) -> EventCoder:
    """The coder with this name, as given on the command line or in a config.

    Raises:
        ConfigError: unknown name; the message lists the choices.
    """
    if name not in EVENT_CODERS:
        raise ConfigError(f"unknown event coder {name!r}; choose from {sorted(EVENT_CODERS)} or 'auto'")
    return EVENT_CODERS[name]


def encode_events(events: np.ndarray, coder: str = "auto") -> tuple[EventCoder, bytes]:
    """Encode events with the named coder, or with the one giving the smallest payload.

    Args:
        events: (N, T) bool.
        coder: a name from EVENT_CODERS, or "auto": every coder is tried and the smallest payload
            wins; ties go to the lowest coder id (dense).

    Returns:
        The coder used (store its `coder_id`) and its payload.
    """
    if coder != "auto":
        chosen = coder_by_name(coder)
        return chosen, chosen.encode(events)
    candidates = [(candidate, candidate.encode(events)) for candidate in EVENT_CODERS.values()]
    return min(candidates, key=lambda pair: (len(pair[1]), pair[0].coder_id))


__all__ = [
    "CRC_SIZE",
    "EVENT_CODERS",
    "MAGIC",
    "MAX_FRAMES",
    "MAX_UNITS",
    "VERSION",
    "DenseEventCoder",
    "EventCoder",
    "Header",
    "SparseEventCoder",
    "coder_by_id",
    "coder_by_name",
    "encode_events",
    "header_size",
    "pack",
    "read_header",
    "unpack",
]
