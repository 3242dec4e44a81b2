"""The static report, and the `listen` command's build mode and errors, through main([...])."""

from __future__ import annotations

import re

import pytest

from snn_codec.cli import main
from snn_codec.errors import CodecError
from snn_codec.listen import load_clips, load_systems, load_test, write_report


def test_report_has_players_bitrates_scores_and_figures(tmp_path, reference_dir, tiny_model_file):
    systems = load_systems([f"tiny={tiny_model_file}"], [f"classic@6={reference_dir.parent / 'decoded'}"])
    index = write_report(load_clips([reference_dir], max_duration_s=0.5), systems, tmp_path / "report")
    page = index.read_text()
    for clip in ("clip0", "clip1"):
        for name in ("reference", "tiny", "classic"):
            assert f'src="audio/{clip}/{name}.wav"' in page
            assert (index.parent / "audio" / clip / f"{name}.wav").is_file()
            assert (index.parent / "figures" / clip / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
        snnc = index.parent / "encoded" / clip / "tiny.snnc"
        assert f"{snnc.stat().st_size * 8 / 0.5 / 1000:.2f} kbps" in page  # bitrate from the bytes on disk
    assert page.count("dB log-mel distance") == 4 and page.count("dB SI-SDR") == 4 and "6.00 kbps" in page
    with pytest.raises(CodecError, match="--force"):
        write_report(load_clips([reference_dir]), systems, tmp_path / "report")


def test_spiking_models_get_an_event_raster(tmp_path, reference_dir, tiny_model_file):
    from PIL import Image

    systems = load_systems([str(tiny_model_file)], [f"classic={reference_dir.parent / 'decoded'}"])
    index = write_report(load_clips([reference_dir / "clip0.wav"]), systems, tmp_path / "report")
    heights = {name: Image.open(index.parent / "figures" / "clip0" / f"{name}.png").size[1]
               for name in ("reference", "tiny-test", "classic")}
    assert heights["tiny-test"] > 1.5 * heights["classic"] and heights["classic"] == heights["reference"]


def test_report_and_build_commands(tmp_path, reference_dir, tiny_model_file, capsys):
    code = main(["listen", "--report", str(tmp_path / "r"), str(reference_dir), "--model", str(tiny_model_file)])
    assert code == 0 and "report written" in capsys.readouterr().out
    code = main(["listen", str(reference_dir / "clip1.wav"), "--model", str(tiny_model_file),
                 "--test-dir", str(tmp_path / "t"), "--no-serve", "--seed", "7", "--sample-rate", "32000"])
    out = capsys.readouterr().out
    assert code == 0 and re.search(r"1 trials, conditions reference, anchor-3.5kHz, anchor-7kHz, tiny-test", out)
    test = load_test(tmp_path / "t")
    assert test.seed == 7 and test.sample_rate == 32000


@pytest.mark.parametrize("argv, message", [
    (["listen", "--test-dir", "nowhere", "--no-serve"], "not a listening test"),
    (["listen", "--model", "piano-v1", "--no-serve"], "need reference clips"),
    (["listen", "missing.wav", "--model", "piano-v1"], "no such file or folder"),
    (["listen", "REFS", "--condition", "broken"], "NAME=DIR"),
    (["listen", "REFS", "--model", "no-such-model"], "unknown model"),
    (["listen", "--report", "out"], "give the reference clips"),
    (["listen", "REFS", "--results", "x"], "--results takes only"),
    (["listen", "REFS", "--model", "piano-v1", "--max-duration", "0"], "must be positive"),
    (["listen", "REFS", "--model", "piano-v1", "--sample-rate", "8000", "--no-serve"], "cannot hold the 7000 Hz"),
    (["listen", "--test-dir", "TEST", "--port", "70000"], "out of range"),
])
def test_listen_errors_are_one_line(tmp_path, reference_dir, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    if "TEST" in argv:
        (tmp_path / "TEST").mkdir()
        (tmp_path / "TEST" / "test.json").write_text('{"format": "snn_codec-mushra", "seed": 0, "sample_rate": 48000, '
                                                     '"conditions": {}, "clips": []}')
    argv = [str(reference_dir) if a == "REFS" else a for a in argv]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("snn-codec: error:") and message in err and err.count("\n") == 1
