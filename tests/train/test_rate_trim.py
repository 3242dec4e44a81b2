"""The rate probe and the trim that sets a trained model's coded rate to a target."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from snn_codec.codec import Codec
from snn_codec.rate import MAX_TRIM_FIRING, TRIM_MAX_OFFSET, TRIM_TOLERANCE, probe_kbps, trim_rate


@pytest.fixture
def probe(tiny_config, make_audio):
    """Four 4-second batches of piano-like audio at the tiny model's rate."""
    audio = torch.from_numpy(np.stack([make_audio(4.0, tiny_config.sample_rate, seed=seed) for seed in range(8)]))
    return list(audio.split(2))  # (2, 1, S) each


def sparse_codec(config, probe, kind: str = "threshold") -> Codec:
    """An untrained codec whose BatchNorm statistics are the probe's and whose units fire sparsely, as
    trained ones do (the trim assumes that more current means more bits, which holds below 50 % firing)."""
    torch.manual_seed(0)
    codec = Codec(replace(config, bottleneck={"kind": kind, "units": 8}))
    norm = codec.bottleneck.norm
    norm.reset_running_stats()
    norm.momentum = None  # a plain average over the probe
    with torch.no_grad():
        for batch in probe:
            codec.bottleneck(codec.encoder(batch))
        if kind == "threshold":
            norm.bias.fill_(-1.0)
    return codec.eval()


@pytest.mark.parametrize("kind", ["threshold", "snntorch_leaky", "norse_lif"])
@pytest.mark.parametrize("factor", [0.6, 1.5])
def test_trim_reaches_the_target_and_the_codec_codes_at_it(tiny_config, probe, kind, factor):
    codec = sparse_codec(tiny_config, probe, kind)
    before = probe_kbps(codec, probe)
    trim = trim_rate(codec, probe, factor * before)
    assert trim.kbps_before == pytest.approx(before)
    assert abs(trim.error) <= TRIM_TOLERANCE
    assert (trim.offset > 0) == (factor > 1)  # more bits: lower thresholds, i.e. a larger current
    assert probe_kbps(codec, probe) == pytest.approx(trim.kbps_after)  # the model keeps the trim
    assert not codec.training  # left in the mode it was in
    codec.train()
    trim_rate(codec, probe, before)
    assert codec.training


def test_trim_of_a_model_already_at_its_target_changes_nothing(tiny_config, probe):
    codec = sparse_codec(tiny_config, probe)
    weights = {k: v.clone() for k, v in codec.state_dict().items()}
    trim = trim_rate(codec, probe, probe_kbps(codec, probe))
    assert trim.offset == 0.0 and trim.error == 0.0
    assert all(torch.equal(v, codec.state_dict()[k]) for k, v in weights.items())


def test_trim_toward_an_unreachable_target_stops_at_the_closest_rate(tiny_config, probe):
    codec = sparse_codec(tiny_config, probe)
    trim = trim_rate(codec, probe, 1e4)
    assert trim.kbps_after > trim.kbps_before and trim.error < -0.5
    assert 0 < trim.offset <= TRIM_MAX_OFFSET


def test_the_trim_keeps_the_units_on_the_sparse_side(tiny_config, probe):
    """More current past half the time buys fewer bits, and a model pushed there stays dense: the trim
    never leaves the probe firing more than MAX_TRIM_FIRING, and brings a denser model back under it."""
    codec = sparse_codec(tiny_config, probe)
    trim_rate(codec, probe, 1e4)  # unreachable: as many bits as the sparse side allows
    assert firing(codec, probe) <= MAX_TRIM_FIRING
    with torch.no_grad():
        codec.bottleneck.norm.bias.fill_(3.0)  # nearly every unit fires
    assert firing(codec, probe) > 0.9
    dense_kbps = probe_kbps(codec, probe)
    trim = trim_rate(codec, probe, dense_kbps)  # the rate it has, but on the dense side
    assert trim.offset < 0 and firing(codec, probe) <= MAX_TRIM_FIRING
    assert trim.kbps_before == pytest.approx(dense_kbps)  # what it was, not the trim's stand-in


def firing(codec: Codec, probe) -> float:
    with torch.no_grad():
        return float(torch.cat([codec.bottleneck(codec.encoder(batch)).events.float().flatten() for batch in probe]).mean())


def test_retarget_command_writes_a_model_that_codes_at_the_asked_rate(tmp_path, tiny_config, probe, make_audio,
                                                                        tiny_vq_codec, capsys):
    import soundfile as sf

    from snn_codec.cli import main
    from snn_codec.model_io import load_model, save_model
    from snn_codec.rate import validation_probe

    data = tmp_path / "audio"
    data.mkdir()
    for seed in range(3):
        sf.write(data / f"clip{seed}.wav", make_audio(3.0, tiny_config.sample_rate, seed=seed)[0],
                 tiny_config.sample_rate)
    model = save_model(sparse_codec(tiny_config, probe), tmp_path / "model.safetensors")
    measured_on = validation_probe(f"folder:{data}", tiny_config.sample_rate, tiny_config.hop_length, crops=6,
                                   seconds=1.0)
    target = 0.7 * probe_kbps(load_model(model), measured_on)
    out = tmp_path / "slower.safetensors"
    args = ["retarget", str(model), str(out), "--target-kbps", f"{target:.4f}", "--data", f"folder:{data}",
            "--crops", "6", "--seconds", "1"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert f"for {float(f'{target:.4f}'):g}" in printed and "log-mel distance" in printed
    retargeted = load_model(out)
    assert retargeted.config.name == "slower" and out.with_suffix(".yaml").is_file()
    assert probe_kbps(retargeted, measured_on) == pytest.approx(target, rel=TRIM_TOLERANCE + 1e-3)

    assert main(args) == 1  # no overwrite without --force
    assert "--force" in capsys.readouterr().err
    vq = save_model(tiny_vq_codec, tmp_path / "vq.safetensors")
    assert main(["retarget", str(vq), str(tmp_path / "vq2"), "--target-kbps", "1", "--data", str(data)]) == 1
    assert "codebooks" in capsys.readouterr().err
    assert main(["retarget", str(model), str(tmp_path / "x"), "--target-kbps", "-1", "--data", str(data)]) == 1
    assert main(["retarget", str(model), str(tmp_path / "x"), "--target-kbps", "500", "--data", str(data)]) == 1
    assert "nothing was written" in capsys.readouterr().err  # out of reach: no model that misses the target
    assert main(["retarget", str(model), str(tmp_path / "x"), "--target-kbps", "1", "--data", str(data),
                 "--crops", "0"]) == 1
    assert not (tmp_path / "x.safetensors").exists() and not (tmp_path / "vq2.safetensors").exists()


@pytest.fixture
def sparse_model(tmp_path, tiny_config, probe):
    from snn_codec.model_io import save_model

    return save_model(sparse_codec(tiny_config, probe), tmp_path / "sparse.safetensors")


@pytest.mark.parametrize("factor", [0.7, 1.3])
def test_compress_to_a_target_bitrate_codes_the_file_at_it(sparse_model, tiny_config, make_audio, factor):
    from snn_codec import api
    from snn_codec.model_io import load_model

    audio, rate = make_audio(8.0, tiny_config.sample_rate, seed=11), tiny_config.sample_rate
    own = len(api.compress(audio, rate, model=sparse_model)) * 8 / 8.0 / 1000
    data = api.compress(audio, rate, model=sparse_model, target_kbps=factor * own)
    kbps = len(data) * 8 / 8.0 / 1000  # the whole file, header included
    assert kbps == pytest.approx(factor * own, rel=0.015)
    decoded = api.decompress(data, model=sparse_model)  # the file names the model itself, which decodes it
    assert decoded.samples.shape[-1] == audio.shape[-1]
    assert api.inspect(data).header.weight_hash == load_model(sparse_model).weight_hash()


def test_a_target_bitrate_is_measured_on_the_start_of_long_audio(sparse_model, tiny_config, make_audio,
                                                                  monkeypatch):
    from snn_codec import api

    monkeypatch.setattr(api, "TARGET_MEASURE_S", 3.0)
    # chunks of 1 s, so that the first 3 s are chunked as they are in the file (long files: 30 s chunks)
    monkeypatch.setattr(api, "chunk_frames_for", lambda units, window: tiny_config.frame_rate)
    rate = tiny_config.sample_rate
    audio = np.tile(make_audio(3.0, rate, seed=12), 3)  # 9 s: the first 3 s are like the rest
    own = len(api.compress(audio, rate, model=sparse_model)) * 8 / 9.0 / 1000
    measured = []
    original = api.bitrate_kbps
    monkeypatch.setattr(api, "bitrate_kbps", lambda size, seconds: measured.append(seconds) or original(size, seconds))
    kbps = len(api.compress(audio, rate, model=sparse_model, target_kbps=0.7 * own)) * 8 / 9.0 / 1000
    assert set(measured) == {3.0, 9.0}  # chunks of the first 3 s, the header over the whole 9 s
    assert kbps == pytest.approx(0.7 * own, rel=0.03)


def test_a_target_bitrate_out_of_reach_or_absurd_or_for_vq_is_refused(sparse_model, tiny_vq_codec, tiny_config,
                                                                      make_audio, tmp_path):
    import soundfile as sf

    from snn_codec import api
    from snn_codec.cli import main
    from snn_codec.errors import CodecError

    audio, rate = make_audio(4.0, tiny_config.sample_rate, seed=13), tiny_config.sample_rate
    for target in (500.0, 0.0, -1.0, float("nan")):
        with pytest.raises(CodecError):
            api.compress(audio, rate, model=sparse_model, target_kbps=target)
    with pytest.raises(CodecError, match="no closer to 500 kbps.*snn-codec models"):  # where to look instead
        api.compress(audio, rate, model=sparse_model, target_kbps=500.0)
    with pytest.raises(CodecError, match="codebooks"):
        api.compress(audio, rate, model=tiny_vq_codec, target_kbps=1.0)
    wav = tmp_path / "in.wav"
    sf.write(wav, audio[0], rate)
    assert main(["compress", str(wav), str(tmp_path / "out.snnc"), "--model", str(sparse_model),
                 "--kbps", "500"]) == 1
    assert not (tmp_path / "out.snnc").exists()  # no half-written or off-target file
