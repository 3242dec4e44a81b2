"""The speed benchmark (benchmarks/speed.py): one tiny run end to end, and codecs that are not installed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import common  # noqa: E402
import speed  # noqa: E402
from peers import PeerUnavailable  # noqa: E402

from snn_codec.errors import CodecError  # noqa: E402

SYSTEMS = {"tiny-test", *speed.CLASSICAL, *speed.PEERS}


def no_eval_clip(*args, **kwargs):
    raise CodecError("the evaluation soundfont is not installed here")


def no_peer(name: str):
    raise PeerUnavailable(f"{name} is not installed here")


def check_rows(rows: list[dict]) -> None:
    """Every row's round trip is slower than encoding or decoding alone, and exactly their combination."""
    for row in rows:
        encode, decode, both = row["encode_x_realtime"], row["decode_x_realtime"], row["round_trip_x_realtime"]
        assert 0 < both <= min(encode, decode)
        assert 1 / both == pytest.approx(1 / encode + 1 / decode)


def test_tiny_run_writes_consistent_results(tmp_path, tiny_model_file, monkeypatch):
    # the bundled example instead of rendering the evaluation clip, and no EnCodec: a fast run
    monkeypatch.setattr(speed, "build_eval_set", no_eval_clip)
    monkeypatch.setattr(common, "load_peer", no_peer)
    argv = ["--model", str(tiny_model_file), "--seconds", "0.5", "--repeats", "1", "--out", str(tmp_path)]
    assert speed.main(argv) == 0

    payload = json.loads((tmp_path / "speed.json").read_text())
    rows, unavailable = payload["speed"], payload["unavailable"]
    assert payload["audio"]["name"] == "piano_example" and payload["audio"]["duration_s"] == pytest.approx(0.5)
    assert "snn_codec.EXAMPLE" in payload["audio"]["source"]
    assert {r["system"] for r in rows} | set(unavailable) == SYSTEMS
    assert all(reason for reason in unavailable.values()) and "encodec-24khz" in unavailable
    check_rows(rows)
    for threads in payload["threads"]:
        block = [r for r in rows if r["threads"] == threads]
        tiny = [r for r in block if r["system"] == "tiny-test"]
        assert [r["decode_precision"] for r in tiny] == ["float32", "auto"]
        assert tiny[0]["encode_x_realtime"] == tiny[1]["encode_x_realtime"] and tiny[0]["kbps"] > 0
        assert tiny[1]["decoded_in"] == payload["auto_precision"]
        opus = next((r for r in block if r["system"] == "opus-6"), None)
        for row in block:
            expected = None if opus is None else row["round_trip_x_realtime"] / opus["round_trip_x_realtime"]
            assert row["round_trip_vs_reference"] == pytest.approx(expected)

    startup = {r["command"]: r["wall_s"] for r in payload["startup"]}
    assert {"python -c pass", 'python -c "import snn_codec"', "snn-codec --help"} <= set(startup)
    assert all(seconds > 0 for seconds in startup.values())
    processes = [s for c, s in startup.items() if c.startswith(("snn-codec compress", "snn-codec decompress"))]
    assert len(processes) == 2 and startup["compress + decompress"] == pytest.approx(sum(processes))

    document = (tmp_path / "speed.md").read_text()
    assert document.startswith("# Speed") and f"`python benchmarks/speed.py {' '.join(argv)}`" in document
    assert "Machine: " in document and f"auto: {payload['auto_precision']}" in document
    assert "- encodec-24khz: not measured: encodec-24khz is not installed here" in document
    assert (tmp_path / "speed.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_programs_leave_their_codecs_out_with_the_reason(tiny_codec, make_audio, monkeypatch):
    monkeypatch.setattr("snn_codec.eval.classical.shutil.which", lambda tool: None)
    monkeypatch.setattr(common, "load_peer", no_peer)
    clip = speed.Clip("clip", "piano", make_audio(0.5, 16000)[0], 16000, "made up")
    rows, unavailable = speed.system_rows(clip, {"tiny-test": tiny_codec}, [1], repeats=1)
    assert {r["system"] for r in rows} == {"tiny-test"} and set(unavailable) == set(speed.CLASSICAL + speed.PEERS)
    assert "apt-get install opus-tools" in unavailable["opus-6"]
    assert all(r["round_trip_vs_reference"] is None for r in rows)
    check_rows(rows)


def test_bad_model_is_an_error(tmp_path, capsys):
    assert speed.main(["--model", str(tmp_path / "missing.safetensors"), "--out", str(tmp_path)]) == 1
    assert "speed.py: error:" in capsys.readouterr().err and not list(tmp_path.iterdir())


def test_fallback_audio_is_the_bundled_example_cut_to_length(monkeypatch):
    monkeypatch.setattr(speed, "build_eval_set", no_eval_clip)
    clip = speed.load_clip(0.25)
    assert clip.samples.ndim == 1 and clip.duration_s == pytest.approx(0.25)
    assert "snn_codec.EXAMPLE" in clip.source and "not installed here" in clip.source
