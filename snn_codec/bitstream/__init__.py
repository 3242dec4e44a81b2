"""Coders (binary events or codebook indices <-> bytes) and the .snnc container (header + payload + CRC32)."""

from __future__ import annotations

import numpy as np

from snn_codec.bitstream.base import MAX_ALPHABET, MAX_FRAMES, MAX_UNITS, Coder, EventCoder, IndexCoder
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
from snn_codec.bitstream.index_entropy import EntropyIndexCoder
from snn_codec.bitstream.indices import FixedIndexCoder
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
# Coders of codebook indices (VQ models): one IndexCoder subclass plus one line here.
INDEX_CODERS: dict[str, IndexCoder] = {
    coder.name: coder
    for coder in [
        FixedIndexCoder(),
        EntropyIndexCoder(),
    ]
}
CODERS: dict[str, Coder] = {**EVENT_CODERS, **INDEX_CODERS}
_BY_ID: dict[int, Coder] = {coder.coder_id: coder for coder in CODERS.values()}
assert len(CODERS) == len(EVENT_CODERS) + len(INDEX_CODERS), "coder names must be unique"
assert len(_BY_ID) == len(CODERS), "coder ids must be unique"


def coder_by_id(coder_id: int) -> Coder:
    """The coder a .snnc header or chunk names.

    Raises:
        FormatError: no registered coder has this id (a newer snn_codec wrote the file, or it is damaged).
    """
    if coder_id not in _BY_ID:
        known = {coder.coder_id: name for name, coder in CODERS.items()}
        raise FormatError(
            f"unknown event coder id {coder_id} (known: {known}); "
            "the file was written by a newer snn_codec or is damaged"
        )
    return _BY_ID[coder_id]


def coders_for(stores_indices: bool) -> dict[str, Coder]:
    """The coders of a payload kind: codebook indices (VQ models) or binary events (spiking models)."""
    return dict(INDEX_CODERS) if stores_indices else dict(EVENT_CODERS)


def coder_by_name(name: str, stores_indices: bool = False) -> Coder:
    """The coder with this name, as given on the command line or in a config.

    Args:
        name: a coder name.
        stores_indices: the payload is codebook indices (a VQ model) rather than binary events.

    Raises:
        ConfigError: unknown name, or a coder of the other payload kind; the message lists the choices.
    """
    choices = coders_for(stores_indices)
    if name not in choices:
        kind = "codebook indices" if stores_indices else "binary events"
        raise ConfigError(f"unknown event coder {name!r} for {kind}; choose from {sorted(choices)} or 'auto'")
    return choices[name]


def encode_events(events: np.ndarray, coder: str = "auto", alphabet_size: int = 2) -> tuple[Coder, bytes]:
    """Encode events with the named coder, or with the one giving the smallest payload.

    Args:
        events: (N, T) bool spikes, or (Q, T) integer codebook indices below `alphabet_size`.
        coder: a name from the coders of that kind, or "auto": every such coder is tried and the
            smallest payload wins; ties go to the lowest coder id (dense).
        alphabet_size: the codebook size K of integer indices (ignored for bool events).

    Returns:
        The coder used (store its `coder_id`) and its payload.
    """
    stores_indices = isinstance(events, np.ndarray) and events.dtype != np.bool_

    def encode(candidate: Coder) -> bytes:
        return candidate.encode(events, alphabet_size) if stores_indices else candidate.encode(events)

    if coder != "auto":
        chosen = coder_by_name(coder, stores_indices)
        return chosen, encode(chosen)
    candidates = [(candidate, encode(candidate)) for candidate in coders_for(stores_indices).values()]
    return min(candidates, key=lambda pair: (len(pair[1]), pair[0].coder_id))


__all__ = [
    "CODERS",
    "CRC_SIZE",
    "EVENT_CODERS",
    "INDEX_CODERS",
    "MAX_ALPHABET",
    "MAGIC",
    "MAX_FRAMES",
    "MAX_UNITS",
    "VERSION",
    "Coder",
    "DenseEventCoder",
    "EntropyIndexCoder",
    "EventCoder",
    "FixedIndexCoder",
    "Header",
    "IndexCoder",
    "SparseEventCoder",
    "coder_by_id",
    "coder_by_name",
    "coders_for",
    "encode_events",
    "header_size",
    "pack",
    "read_header",
    "unpack",
]
