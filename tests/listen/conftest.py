"""Fixtures for the listening tests: a small built MUSHRA test and a server running it in a thread."""

from __future__ import annotations

import threading

import pytest
import soundfile as sf

from snn_codec.listen import build_test, load_clips, load_systems, make_server


@pytest.fixture
def reference_dir(tmp_path, make_audio):
    """Two stereo 44.1 kHz clips of 0.6 s, and a folder of 'decoded' versions of them."""
    refs, decoded = tmp_path / "refs", tmp_path / "decoded"
    refs.mkdir()
    decoded.mkdir()
    for i in range(2):
        audio = make_audio(0.6, 44100, channels=2, seed=i)
        sf.write(refs / f"clip{i}.wav", audio.T, 44100)
        sf.write(decoded / f"clip{i}.flac", 0.5 * audio[0], 22050)
    return refs


@pytest.fixture
def small_test(tmp_path, reference_dir, tiny_model_file):
    """A built test: two clips; the tiny model and a folder condition at 6 kbps."""
    systems = load_systems([str(tiny_model_file)], [f"classic@6={reference_dir.parent / 'decoded'}"])
    return build_test(load_clips([reference_dir]), systems, tmp_path / "test", seed=3)


@pytest.fixture
def server(small_test):
    """The small test served on a free port of 127.0.0.1, stopped after the test."""
    server = make_server(small_test, port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
