"""snn_codec: event-based neural audio compression with a spiking bottleneck.

    >>> import snn_codec
    >>> data = snn_codec.compress("piano.flac")            # bytes of a .snnc file
    >>> audio = snn_codec.decompress(data)                  # Audio(samples, sample_rate)
"""

from __future__ import annotations

__version__ = "0.1.0"

from snn_codec.api import FileInfo, compress, compress_file, decompress, decompress_file, inspect  # noqa: E402
from snn_codec.audio import Audio, load_audio, save_audio  # noqa: E402
from snn_codec.demo import EXAMPLE  # noqa: E402
from snn_codec.errors import AudioError, CodecError, ConfigError, FormatError  # noqa: E402
from snn_codec.model_io import load_model, save_model, shipped_models  # noqa: E402

__all__ = [
    "EXAMPLE",
    "Audio",
    "AudioError",
    "CodecError",
    "ConfigError",
    "FileInfo",
    "FormatError",
    "__version__",
    "compress",
    "compress_file",
    "decompress_file",
    "decompress",
    "inspect",
    "load_audio",
    "load_model",
    "save_audio",
    "save_model",
    "shipped_models",
]
