"""Error types. Every expected failure is a CodecError whose message says what to do."""

from __future__ import annotations


class CodecError(Exception):
    """Base class for every failure a user can cause (bad input, bad config, bad file)."""


class FormatError(CodecError):
    """A .snnc file (or another binary input) is damaged, truncated or foreign."""


class ConfigError(CodecError):
    """A config file or a parameter is invalid."""


class AudioError(CodecError):
    """An audio file cannot be read or written, or holds no audio."""
