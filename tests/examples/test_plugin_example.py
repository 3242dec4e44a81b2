"""examples/plugin_neuron: a neuron from outside the package trains, compresses and decompresses, at tiny scale."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

import snn_codec
from snn_codec.cli import main
from snn_codec.codec import Codec
from snn_codec.config import load_config, save_config
from snn_codec.errors import ConfigError
from snn_codec.model_io import load_model, save_model

EXAMPLE = Path(__file__).parents[2] / "examples" / "plugin_neuron"


def test_the_plugin_example_trains_compresses_and_decompresses(tmp_path, monkeypatch, tiny_config, make_audio):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    monkeypatch.delitem(sys.modules, "my_neurons", raising=False)
    data_dir = tmp_path / "audio"
    data_dir.mkdir()
    for i in range(2):
        sf.write(data_dir / f"clip{i}.wav", make_audio(1.0, 8000, seed=i)[0], 8000)
    example = load_config(EXAMPLE / "config.yaml")
    assert example.model.bottleneck["kind"] == "my_neurons:ResonateAndFire"
    # the example's bottleneck and training recipe (rate controller included) around the tiny test model
    model = replace(tiny_config, name="tiny-plugin", bottleneck={**example.model.bottleneck, "units": 8})
    data = replace(example.train.data, train=f"folder:{data_dir}", validation=f"folder:{data_dir}", segment_s=0.2,
                   validation_crops=2, validation_segment_s=0.4, holdout_soundfont="")
    train = replace(example.train, steps=2, batch_size=2, warmup_steps=1, data=data, val_every=2, checkpoint_every=2)
    save_config(replace(example, model=model, train=train), tmp_path / "plugin.yaml")

    argv = ["train", "--config", tmp_path / "plugin.yaml", "--run-dir", tmp_path / "run", "--accelerator", "cpu",
            "--threads", "1"]
    assert main([str(a) for a in argv]) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["step"] == 2 and metrics["val/payload_kbps"] > 0 and "val/firing_rate" in metrics

    codec = load_model(tmp_path / "run" / "model.safetensors")  # the model file names the plug-in's class
    assert type(codec.bottleneck).__name__ == "ResonateAndFire"
    audio = make_audio(1.0, 8000)
    data = snn_codec.compress(audio, 8000, model=codec)
    events = codec.encode(torch.from_numpy(audio[0]))
    assert events.dtype == torch.bool and events.shape[0] == 8
    assert np.array_equal(snn_codec.decompress(data, model=codec).samples[0], codec.decode(events).numpy())


def test_a_model_file_whose_plugin_is_not_importable_says_so(tmp_path, monkeypatch, tiny_config, make_audio, capsys):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    monkeypatch.delitem(sys.modules, "my_neurons", raising=False)
    torch.manual_seed(0)
    codec = Codec(replace(tiny_config, bottleneck={"kind": "my_neurons:ResonateAndFire", "units": 8}))
    path = save_model(codec, tmp_path / "plugin.safetensors")
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(EXAMPLE)])
    monkeypatch.delitem(sys.modules, "my_neurons")
    with pytest.raises(ConfigError, match="cannot import module 'my_neurons'.*PYTHONPATH"):
        load_model(path)
    sf.write(tmp_path / "in.wav", make_audio(0.5, 8000)[0], 8000)
    assert main(["compress", str(tmp_path / "in.wav"), "--model", str(path)]) == 1
    assert "cannot import module 'my_neurons'" in capsys.readouterr().err
