"""The encoder candidates' benchmark (benchmarks/encoders.py): a tiny run end to end, Opus missing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import encoders  # noqa: E402
from eval_set import Clip  # noqa: E402

from snn_codec.errors import CodecError  # noqa: E402


@pytest.fixture
def offline(make_audio, monkeypatch):
    """Generated clips instead of rendered ones, no Opus and a short encoder timing: a fast, offline run."""

    def clip(work, seed, seconds, sample_rate):
        return Clip(f"piano_{seed}", "piano", make_audio(seconds, sample_rate, seed=seed)[0], sample_rate, "test")

    def no_opus(*args, **kwargs):
        raise CodecError("opusenc is not installed here")

    monkeypatch.setattr(encoders, "piano_clip", clip)
    monkeypatch.setattr(encoders, "classical_speed_row", no_opus)
    monkeypatch.setattr(encoders, "ENCODER_SECONDS", 0.5)


def test_tiny_run_reports_speed_quality_and_event_sensitivity(tmp_path, tiny_model_file, offline):
    argv = ["--model", str(tiny_model_file), "--clips", "2", "--seconds", "1", "--visqol-seconds", "0",
            "--out", str(tmp_path)]
    assert encoders.main(argv) == 0
    payload = json.loads((tmp_path / "encoders.json").read_text())
    (row,) = payload["summary"]
    assert row["system"] == "tiny-test" and row["encoder"].startswith("waveform conv")
    assert row["round_trip_x_realtime"] <= min(row["encode_x_realtime"], row["decode_x_realtime"])
    assert 0.0 <= row["flipped_by_polarity"] <= 1.0 and 0.0 <= row["flipped_by_1ms_delay"] <= 1.0
    assert row["kbps"] > 0 and row["log_mel_db"] > 0 and "round_trip_vs_opus_6" not in row
    assert len(payload["rows"]) == 2  # one quality row per clip
    markdown = (tmp_path / "encoders.md").read_text()
    assert "opusenc is not installed here" in markdown and "| tiny-test |" in markdown


def test_an_encoder_of_magnitude_spectra_ignores_polarity(tiny_config, make_audio):
    from dataclasses import replace

    import torch

    from snn_codec.codec import Codec

    torch.manual_seed(0)
    stft = replace(tiny_config.encoder, kind="stft", dim=16, layers=1)
    codec = Codec(replace(tiny_config, encoder=stft)).eval()
    samples = make_audio(1.0, encoders.CLIP_RATE)[0]
    assert encoders.event_sensitivity(codec, samples)["flipped_by_polarity"] == 0.0
    torch.manual_seed(0)
    waveform = Codec(tiny_config).eval()
    assert encoders.event_sensitivity(waveform, samples)["flipped_by_polarity"] > 0.0


def test_a_common_rate_codes_every_clip_at_it(tmp_path, tiny_model_file, offline):
    common = ["--model", str(tiny_model_file), "--clips", "1", "--seconds", "2", "--visqol-seconds", "0",
              "--out", str(tmp_path)]
    assert encoders.main(common) == 0
    native = json.loads((tmp_path / "encoders.json").read_text())["rows"][0]["kbps"]
    assert encoders.main([*common, "--kbps", f"{native * 0.8:.3f}"]) == 0
    (written,) = tmp_path.glob("encoders-*kbps.json")
    coded = json.loads(written.read_text())["rows"][0]["kbps"]
    assert abs(coded - native * 0.8) < abs(native - native * 0.8) / 2  # the thresholds moved for the clip
    assert "coded at" in written.with_suffix(".md").read_text()


def test_matched_rates_code_each_clip_at_the_first_models_rate(tmp_path, tiny_codec, offline):
    from dataclasses import replace

    from snn_codec.model_io import save_model

    first = save_model(tiny_codec, tmp_path / "first.safetensors")
    tiny_codec.config = replace(tiny_codec.config, name="tiny-twin")
    twin = save_model(tiny_codec, tmp_path / "twin.safetensors")
    argv = ["--model", str(first), "--model", str(twin), "--clips", "2", "--seconds", "2", "--visqol-seconds", "0",
            "--match-rate", "--out", str(tmp_path)]
    assert encoders.main(argv) == 0
    rows = json.loads((tmp_path / "encoders-matched.json").read_text())["rows"]
    by_clip = {}
    for row in rows:
        by_clip.setdefault(row["clip"], {})[row["system"]] = row["kbps"]
    assert len(by_clip) == 2
    for rates in by_clip.values():
        assert abs(rates["tiny-twin"] - rates["tiny-test"]) < 0.1 * rates["tiny-test"]
    assert encoders.main([*argv, "--kbps", "1"]) == 2


def test_two_models_of_one_name_are_refused(tmp_path, tiny_model_file, offline, capsys):
    """Rows are named by model, so a second model of the same name would silently replace the first."""
    argv = ["--model", str(tiny_model_file), "--model", str(tiny_model_file), "--out", str(tmp_path)]
    assert encoders.main(argv) == 2
    assert "two models are named 'tiny-test'" in capsys.readouterr().err
    assert not (tmp_path / "encoders.md").exists()


def test_a_clip_a_model_cannot_code_at_the_rate_is_left_out_for_every_model(tmp_path, tiny_model_file, offline,
                                                                             monkeypatch, capsys):
    real_evaluate = encoders.evaluate

    def evaluate(clips, models, visqol_seconds, target_kbps=None):
        if target_kbps is not None and clips[0].name == "piano_102":
            raise CodecError("tiny-test codes this audio at 1.0 kbps; moving its thresholds gets no closer")
        return real_evaluate(clips, models, visqol_seconds, target_kbps=target_kbps)

    common = ["--model", str(tiny_model_file), "--clips", "2", "--seconds", "2", "--visqol-seconds", "0",
              "--out", str(tmp_path)]
    assert encoders.main(common) == 0
    native = json.loads((tmp_path / "encoders.json").read_text())["rows"][0]["kbps"]
    monkeypatch.setattr(encoders, "evaluate", evaluate)
    argv = [*common, "--kbps", f"{native * 0.9:.3f}"]
    assert encoders.main(argv) == 0
    (written,) = tmp_path.glob("encoders-*kbps.json")
    payload = json.loads(written.read_text())
    assert {row["clip"] for row in payload["rows"]} == {"piano_101"}
    assert payload["left_out"][0].startswith("piano_102 (tiny-test codes this audio")
    assert "Left out of the means" in written.with_suffix(".md").read_text()
    argv[argv.index("--clips") + 1] = "1"
    monkeypatch.setattr(encoders, "evaluate", lambda *a, **k: (_ for _ in ()).throw(CodecError("unreachable")))
    assert encoders.main(argv) == 1
    assert "no clip could be coded at the rate asked" in capsys.readouterr().err
