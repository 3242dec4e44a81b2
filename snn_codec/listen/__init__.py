"""Listening tests: MUSHRA (ITU-R BS.1534-3) tests served on localhost, their aggregation, and a static
HTML report with players, bitrates, objective scores and spectrograms.

    >>> from snn_codec.listen import build_test, load_clips, load_systems, make_server, write_results
    >>> test = build_test(load_clips(["clips/"]), load_systems(["piano-v1"], []), "mushra")
    >>> make_server(test, port=8000).serve_forever()      # http://127.0.0.1:8000/
    >>> summary, markdown = write_results("mushra")      # after the listeners are done

The names are imported on first use (snn_codec.lazy), so building the command line does not load scipy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from snn_codec.lazy import lazy_exports

_SOURCES = {  # public name -> the module that defines it
    **dict.fromkeys(("ListeningTest", "build_test", "listener_trials", "load_test"), "snn_codec.listen.design"),
    "write_report": "snn_codec.listen.report",
    **dict.fromkeys(("Summary", "summarize", "write_results"), "snn_codec.listen.results"),
    "make_server": "snn_codec.listen.server",
    **dict.fromkeys(("Clip", "System", "load_clips", "load_systems"), "snn_codec.listen.systems"),
}
__all__ = sorted(_SOURCES)
__getattr__, __dir__ = lazy_exports(__name__, _SOURCES)

if TYPE_CHECKING:  # what type checkers and editors see
    from snn_codec.listen.design import ListeningTest, build_test, listener_trials, load_test
    from snn_codec.listen.report import write_report
    from snn_codec.listen.results import Summary, summarize, write_results
    from snn_codec.listen.server import make_server
    from snn_codec.listen.systems import Clip, System, load_clips, load_systems
