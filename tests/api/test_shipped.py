"""The models that ship inside the package: each loads, has its card and config, fits the size budget,
and compresses real audio offline."""

from __future__ import annotations

import pytest

import snn_codec
from snn_codec.model_io import DEFAULT_MODEL, PRETRAINED_DIR, shipped_models

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
