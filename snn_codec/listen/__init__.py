"""Listening tests: MUSHRA (ITU-R BS.1534-3) tests served on localhost, their aggregation, and a static
HTML report with players, bitrates, objective scores and spectrograms.

    >>> from snn_codec.listen import build_test, load_clips, load_systems, make_server, write_results
    >>> test = build_test(load_clips(["clips/"]), load_systems(["piano-v1"], []), "mushra")
    >>> make_server(test, port=8000).serve_forever()      # http://127.0.0.1:8000/
    >>> summary, markdown = write_results("mushra")      # after the listeners are done
"""

from __future__ import annotations

from snn_codec.listen.design import ListeningTest, build_test, listener_trials, load_test
from snn_codec.listen.report import write_report
from snn_codec.listen.results import Summary, summarize, write_results
from snn_codec.listen.server import make_server
from snn_codec.listen.systems import Clip, System, load_clips, load_systems

__all__ = [
    "Clip", "ListeningTest", "Summary", "System", "build_test", "listener_trials", "load_clips", "load_systems",
    "load_test", "make_server", "summarize", "write_report", "write_results",
]
