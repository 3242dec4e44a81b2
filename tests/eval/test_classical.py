"""Classical codecs through their real tools (opus-tools, lame, codec2: scripts/install_system_deps.sh)."""

from __future__ import annotations

import numpy as np
import pytest

from snn_codec.errors import CodecError
from snn_codec.eval.classical import CLASSICAL_CODECS, check_tools, estimate_delay, run_classical
from snn_codec.eval.metrics import si_sdr

RATE = 16000
CONTAINER_ALLOWANCE_BYTES = 1000  # Ogg pages and tags weigh a lot on a 2-second clip


@pytest.mark.parametrize("name", sorted(CLASSICAL_CODECS))
def test_round_trip_has_the_input_length_and_a_sane_bitrate(name, make_audio):
    samples = make_audio(2.0, RATE)[0]
    result = run_classical(name, samples, RATE)
    nominal = CLASSICAL_CODECS[name].nominal_kbps
    assert result.audio.shape == samples.shape and result.audio.dtype == np.float32
    assert result.sample_rate == RATE and result.duration_s == pytest.approx(2.0)
    assert result.bitrate_kbps == pytest.approx(result.num_bytes * 8 / 2.0 / 1000)
    # constant-rate codecs land near nominal; Opus is variable-rate and may overshoot by half
    assert 0.5 * nominal <= result.bitrate_kbps <= 1.6 * nominal + CONTAINER_ALLOWANCE_BYTES * 8 / 2.0 / 1000
    assert np.isfinite(result.audio).all() and np.abs(result.audio).max() > 0.01


@pytest.mark.parametrize("name", ["opus-12", "mp3-16"])
def test_waveform_codecs_come_back_aligned(name, make_audio):
    samples = make_audio(2.0, RATE)[0]
    result = run_classical(name, samples, RATE)
    assert si_sdr(samples, result.audio) > 5.0  # a few samples of misalignment would drop far below 0 dB


@pytest.mark.parametrize("lag", [0, 37, -21, 640])
def test_estimate_delay_finds_a_known_shift(lag):
    rng = np.random.default_rng(0)
    reference = rng.standard_normal(RATE).astype(np.float32)
    decoded = np.roll(reference, lag)
    assert estimate_delay(reference, decoded, max_lag=RATE // 10, sample_rate=RATE) == lag


def test_a_missing_tool_names_its_debian_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CodecError, match="apt-get install opus-tools"):
        check_tools(CLASSICAL_CODECS["opus-6"])
    with pytest.raises(CodecError, match="codec2"):
        run_classical("codec2-1200", np.zeros(RATE, np.float32), RATE)


def test_a_failing_tool_is_a_codec_error(tmp_path, monkeypatch):
    for tool in ("c2enc", "c2dec"):
        fake = tmp_path / tool
        fake.write_text("#!/bin/sh\necho 'bad mode' >&2\nexit 3\n")
        fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CodecError, match="c2enc failed .exit 3.: bad mode"):
        run_classical("codec2-3200", np.zeros(RATE, np.float32), RATE)


def test_unknown_codec_lists_the_known_ones():
    with pytest.raises(CodecError, match="opus-6"):
        run_classical("aac-64", np.zeros(RATE, np.float32), RATE)
