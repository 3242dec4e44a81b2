"""Reading a run's Lightning checkpoints without running code from them.

A checkpoint is a pickle, and unpickling an arbitrary one can execute code, so a run folder from
elsewhere must not be trusted. Every checkpoint load goes through torch's weights-only unpickler, which
builds tensors, numbers, strings and containers of them and nothing else. That is all `snn-codec train`
writes: the config is stored as a plain dict (see `CodecModule`), the rate controller's state as
buffers, the optimisers' and schedulers' states as tensors and numbers. A checkpoint that holds
anything else is refused.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from snn_codec.errors import CodecError

# Types beyond plain data that our checkpoints need, allow-listed for the weights-only unpickler. None
# today; a new one goes here (a class, never a function that runs on load).
CHECKPOINT_GLOBALS: list[type] = []


@contextmanager
def refusing_code(path: str | os.PathLike | None) -> Iterator[None]:
    """Around a call that loads `path` with `weights_only=True` (torch.load, Lightning's `Trainer.fit` or
    `load_from_checkpoint`): allow-lists CHECKPOINT_GLOBALS and turns a refused checkpoint into a CodecError.

    Raises:
        CodecError: the checkpoint holds objects other than plain data.
    """
    try:
        with torch.serialization.safe_globals(CHECKPOINT_GLOBALS):
            yield
    except pickle.UnpicklingError as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CodecError(
            f"{path}: refused to load this checkpoint: it holds objects other than weights and plain data, "
            f"which could run code ({reason}); train again, or load only checkpoints you wrote yourself"
        ) from None


def load_checkpoint(path: str | os.PathLike) -> dict:
    """The checkpoint at `path` as a dict, loaded on the CPU without running code from it.

    Raises:
        CodecError: it holds objects other than plain data, or cannot be read.
    """
    with refusing_code(path):
        try:
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        except (OSError, EOFError, RuntimeError) as err:
            raise CodecError(f"{path}: cannot read the checkpoint ({err}); it is damaged or incomplete") from None
    if not isinstance(checkpoint, dict):
        raise CodecError(f"{path}: not a training checkpoint (a {type(checkpoint).__name__}, not a dict)")
    return checkpoint
