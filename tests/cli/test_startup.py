"""The command line starts without torch: the package's names and the CLI's heavy modules load on use."""

from __future__ import annotations

import subprocess
import sys

NO_TORCH = """
import sys
import snn_codec
import snn_codec.cli
snn_codec.cli.build_parser()
from snn_codec import CodecError, __version__
heavy = sorted(m for m in ("torch", "scipy", "matplotlib") if m in sys.modules)
assert not heavy, heavy
"""


def test_import_and_parser_do_not_load_torch():
    result = subprocess.run([sys.executable, "-c", NO_TORCH], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_help_exits_zero():
    result = subprocess.run([sys.executable, "-m", "snn_codec", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "compress" in result.stdout and "decompress" in result.stdout
