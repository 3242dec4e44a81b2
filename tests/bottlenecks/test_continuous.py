"""The unquantized reference: continuous, differentiable, threshold-compatible, and never a bitstream."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import snn_codec
from snn_codec.bottlenecks import BOTTLENECKS, build_bottleneck
from snn_codec.codec import Codec
from snn_codec.errors import CodecError


def test_latents_stay_continuous_and_gradients_flow():
    torch.manual_seed(0)
    bottleneck = build_bottleneck("continuous", latent_dim=8, units=6)
    latent = torch.randn(2, 8, 20, requires_grad=True)
    out = bottleneck(latent)
    assert out.z.shape == (2, 6, 20)
    assert 0 < out.z.min() and out.z.max() < 1
    assert len(torch.unique(out.z)) > 100  # not binary: nothing is quantized
    out.z.sum().backward()
    assert latent.grad.abs().sum() > 0
    assert torch.equal(bottleneck.eval().decode(bottleneck(latent).events), bottleneck(latent).z)


def test_it_is_a_reference_not_a_codec():
    assert "continuous" not in BOTTLENECKS  # the registry holds what can be stored
    assert not build_bottleneck("continuous", latent_dim=4).has_bitstream
    assert all(cls.has_bitstream for cls in BOTTLENECKS.values())


def test_compressing_with_it_is_a_clear_error(tiny_config):
    torch.manual_seed(0)
    codec = Codec(dataclasses.replace(tiny_config, name="tiny-ceiling",
                                      bottleneck={"kind": "continuous", "units": 8})).eval()
    with pytest.raises(CodecError, match="no bitstream"):
        snn_codec.compress(np.zeros(8000, np.float32), sample_rate=8000, model=codec)


def test_it_shares_the_threshold_bottlenecks_tensors(tiny_codec, tiny_config):
    reference = Codec(dataclasses.replace(tiny_config, bottleneck={"kind": "continuous", "units": 8}))
    reference.load_state_dict(tiny_codec.state_dict())  # strict: the same names and shapes


def test_it_trains_from_a_threshold_model(tmp_path, tiny_config, tiny_model_file, make_audio):
    import json

    import soundfile as sf

    from snn_codec.config import Config, DataConfig, TrainConfig
    from snn_codec.train.run import run_training

    folder = tmp_path / "audio"
    folder.mkdir()
    sf.write(folder / "clip.wav", make_audio(1.0, 8000)[0], 8000)
    data = DataConfig(train=f"folder:{folder}", validation=f"folder:{folder}", segment_s=0.2, validation_crops=2,
                      validation_segment_s=0.4)
    model = dataclasses.replace(tiny_config, name="tiny-ceiling", bottleneck={"kind": "continuous", "units": 8})
    train = TrainConfig(steps=2, batch_size=2, warmup_steps=1, data=data, val_every=2, checkpoint_every=1,
                        init_from=str(tiny_model_file))
    run_training(Config(model=model, train=train), tmp_path / "run", progress=False)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert "val/log_mel_db" in metrics
    assert not any(key.endswith(("payload_kbps", "firing_rate")) for key in metrics)  # nothing is coded
