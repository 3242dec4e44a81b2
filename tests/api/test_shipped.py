"""The models that ship inside the package: each loads, has its card and config, fits the size budget,
and compresses real audio offline."""

from __future__ import annotations

import json

import pytest

import snn_codec
from snn_codec.cli import main
from snn_codec.model_io import DEFAULT_MODEL, PRETRAINED_DIR, model_card_summary, shipped_models

MAX_BYTES = 10 * 1024 * 1024


def test_the_default_model_ships():
    assert DEFAULT_MODEL in shipped_models()


@pytest.mark.parametrize("name", shipped_models())
def test_each_shipped_model_has_a_card_a_config_and_fits_the_budget(name):
    card = (PRETRAINED_DIR / f"{name}.md").read_text()
    assert card.startswith(f"# Model card: {name}\n")
    for section in ("## Training", "## Measured", "## Limits"):
        assert section in card
    assert (PRETRAINED_DIR / f"{name}.yaml").is_file()
    assert (PRETRAINED_DIR / f"{name}.safetensors").stat().st_size <= MAX_BYTES
    assert snn_codec.load_model(name).config.name == name


@pytest.mark.parametrize("name", shipped_models())
def test_each_shipped_model_round_trips_audio(name, make_audio):
    audio = make_audio(2.0, 24000)
    data = snn_codec.compress(audio, sample_rate=24000, model=name)
    info = snn_codec.inspect(data)
    assert info.header.model_id == name and 0 < info.bitrate_kbps < 10
    assert snn_codec.decompress(data).samples.shape == audio.shape


@pytest.mark.parametrize("name", shipped_models())
def test_each_card_summary_is_its_first_paragraph_on_one_line(name):
    summary = model_card_summary(name)
    assert summary and "\n" not in summary and not summary.startswith("#")
    assert " ".join(summary.split()[:6]) in " ".join((PRETRAINED_DIR / f"{name}.md").read_text().split())


def test_a_model_that_does_not_ship_has_no_card_summary():
    assert model_card_summary("no-such-model") == ""


def test_models_lists_every_shipped_model_and_marks_the_default(capsys):
    assert main(["models", "--json"]) == 0
    models = json.loads(capsys.readouterr().out)
    assert [m["name"] for m in models] == shipped_models()
    assert [m["name"] for m in models if m["default"]] == [DEFAULT_MODEL]
    assert all(m["summary"] and m["units"] and m["file_mb"] > 0 for m in models)
    assert main(["models"]) == 0
    text = capsys.readouterr().out
    assert f"{DEFAULT_MODEL} (default):" in text and "--model NAME" in text
