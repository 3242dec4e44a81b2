"""snn_codec: event-based neural audio compression with a spiking bottleneck.

    >>> import snn_codec
    >>> data = snn_codec.compress("piano.flac")            # bytes of a .snnc file
    >>> audio = snn_codec.decompress(data)                  # Audio(samples, sample_rate)

The public names are imported on first use (snn_codec.lazy), so `import snn_codec` and `snn-codec --help`
do not load torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from snn_codec.lazy import lazy_exports

__version__ = "0.1.0"

_SOURCES = {  # public name -> the module that defines it
    **dict.fromkeys(("FileInfo", "compress", "compress_file", "decompress", "decompress_file", "inspect"),
                    "snn_codec.api"),
    **dict.fromkeys(("Audio", "load_audio", "save_audio"), "snn_codec.audio"),
    "EXAMPLE": "snn_codec.demo",
    **dict.fromkeys(("AudioError", "CodecError", "ConfigError", "FormatError"), "snn_codec.errors"),
    **dict.fromkeys(("load_model", "save_model", "shipped_models"), "snn_codec.model_io"),
}
__all__ = sorted([*_SOURCES, "__version__"])
__getattr__, __dir__ = lazy_exports(__name__, _SOURCES)

if TYPE_CHECKING:  # what type checkers and editors see
    from snn_codec.api import FileInfo, compress, compress_file, decompress, decompress_file, inspect
    from snn_codec.audio import Audio, load_audio, save_audio
    from snn_codec.demo import EXAMPLE
    from snn_codec.errors import AudioError, CodecError, ConfigError, FormatError
    from snn_codec.model_io import load_model, save_model, shipped_models
