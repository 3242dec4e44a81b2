"""The VQ baseline trains through `snn-codec train` like any other model."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import soundfile as sf
import torch

import snn_codec
from snn_codec.cli import main
from snn_codec.config import Config, DataConfig, SparsityConfig, TrainConfig, save_config
from snn_codec.model_io import load_model


def test_a_tiny_vq_model_trains_through_the_cli(tmp_path, tiny_config, make_audio):
    data_dir = tmp_path / "audio"
    data_dir.mkdir()
    for i in range(2):
        sf.write(data_dir / f"clip{i}.wav", make_audio(1.0, 8000, seed=i)[0], 8000)
    # k-means initialisation on the first batch, as in configs/piano-rvq-*.yaml
    bottleneck = {"kind": "rvq", "codebook_size": 8, "num_quantizers": 2, "codebook_dim": 4}
    model = replace(tiny_config, name="tiny-rvq", bottleneck=bottleneck)
    data = DataConfig(train=f"folder:{data_dir}", validation=f"folder:{data_dir}", segment_s=0.2,
                      validation_crops=2, validation_segment_s=0.4)
    train = TrainConfig(steps=3, batch_size=2, warmup_steps=1, data=data, val_every=3, checkpoint_every=3,
                        sparsity=SparsityConfig(start=1.0, end=1.0))
    save_config(Config(model=model, train=train), tmp_path / "tiny-rvq.yaml")
    untrained = snn_codec.codec.Codec(model)

    argv = ["train", "--config", tmp_path / "tiny-rvq.yaml", "--run-dir", tmp_path / "run", "--accelerator", "cpu",
            "--threads", "1"]
    assert main([str(a) for a in argv]) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["step"] == 3 and metrics["val/payload_kbps"] > 0 and "val/log_mel_db" in metrics
    assert "val/firing_rate" not in metrics  # indices have no firing rate
    codec = load_model(tmp_path / "run" / "model.safetensors")
    codebooks = [value for name, value in codec.state_dict().items() if name.endswith("_codebook.embed")]
    assert all(not torch.equal(book, torch.zeros_like(book)) for book in codebooks)  # k-means ran
    assert codec.weight_hash() != untrained.weight_hash()

    audio = make_audio(1.0, 8000)
    data = snn_codec.compress(audio, 8000, model=codec)
    indices = codec.encode(torch.from_numpy(audio[0]))
    assert len(indices.unique()) > 1
    assert np.array_equal(snn_codec.decompress(data, model=codec).samples[0], codec.decode(indices).numpy())
