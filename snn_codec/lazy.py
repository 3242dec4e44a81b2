"""Package names imported on first use (PEP 562), so that importing a package costs only what it uses.

`import snn_codec` and `snn-codec --help` need none of torch, scipy or the models; a package's
`__init__` lists where each public name lives and imports its module when the name is first read.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable


def lazy_exports(package: str, sources: dict[str, str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The module-level `__getattr__` and `__dir__` of a package whose public names are imported on first use.

    Args:
        package: the package's `__name__`.
        sources: public name -> the module that defines it.

    Returns:
        `(__getattr__, __dir__)`, to assign at the package's top level. A name read once is stored in the
        package, so later reads are plain attribute lookups.
    """

    def __getattr__(name: str) -> object:
        if name not in sources:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(sources[name]), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *sources})

    return __getattr__, __dir__
