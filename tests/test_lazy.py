"""Public names imported on first use (snn_codec.lazy): the same names work, unknown ones still fail."""

from __future__ import annotations

import sys

import pytest

import snn_codec
import snn_codec.listen
from snn_codec.lazy import lazy_exports


def test_every_public_name_resolves_to_its_module():
    from snn_codec import compress  # the form the README uses

    from snn_codec import api, errors

    assert compress is api.compress and snn_codec.CodecError is errors.CodecError
    for package in (snn_codec, snn_codec.listen):
        for name in package.__all__:
            assert getattr(package, name) is not None
        assert set(package.__all__) <= set(dir(package))


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'compres'"):
        snn_codec.compres  # noqa: B018
    with pytest.raises(ImportError):
        from snn_codec import compres  # noqa: F401


def test_a_name_is_imported_once_and_then_kept(monkeypatch):
    module = type(snn_codec)("lazy_test_package")
    monkeypatch.setitem(sys.modules, "lazy_test_package", module)
    module.__getattr__, module.__dir__ = lazy_exports("lazy_test_package", {"dedent": "textwrap"})
    import textwrap

    assert "dedent" not in vars(module)
    assert module.dedent is textwrap.dedent and vars(module)["dedent"] is textwrap.dedent
    assert "dedent" in dir(module)
