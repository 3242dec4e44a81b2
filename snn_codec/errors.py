"""Error types. Every expected failure is a CodecError whose message says what to do."""

from __future__ import annotations

import errno


class CodecError(Exception):
    """Base class for every failure a user can cause (bad input, bad config, bad file)."""


class FormatError(CodecError):
    """A .snnc file (or another binary input) is damaged, truncated or foreign."""


class ConfigError(CodecError):
    """A config file or a parameter is invalid."""


class AudioError(CodecError):
    """An audio file cannot be read or written, or holds no audio."""


_OS_ERROR_ADVICE = {
    errno.ENOSPC: "no space left on the device; free some space or write elsewhere (-o DIR)",
    errno.EDQUOT: "disk quota exceeded; free some space or write elsewhere (-o DIR)",
    errno.EACCES: "permission denied; write to a folder you may write to (-o DIR)",
    errno.EPERM: "operation not permitted; write to a folder you may write to (-o DIR)",
    errno.EROFS: "read-only file system; write elsewhere (-o DIR)",
    errno.ENOTDIR: "a part of this path is a file, not a folder",
    errno.EISDIR: "this is a folder; name a file",
    errno.ENOENT: "no such file or folder",
    errno.EEXIST: "exists; pass --force to overwrite it, or choose another name",
    errno.ENAMETOOLONG: "the name is too long; choose a shorter one",
}


def describe_os_error(err: OSError) -> str:
    """One line for an operating-system error a user can cause (a full disk, a read-only folder, ...)."""
    advice = _OS_ERROR_ADVICE.get(err.errno) or err.strerror or str(err) or type(err).__name__
    return f"{err.filename}: {advice}" if err.filename else advice
