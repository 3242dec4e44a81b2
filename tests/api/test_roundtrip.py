"""compress/decompress through the Python API: rates, lengths, channels, bytes and determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import snn_codec
from snn_codec.bitstream import unpack
from snn_codec.errors import AudioError, CodecError, FormatError


@pytest.mark.parametrize("sample_rate,channels,seconds", [(44100, 2, 1.3), (8000, 1, 0.5), (22050, 1, 0.004)])
def test_roundtrip_preserves_rate_length_and_channels(tiny_codec, make_audio, sample_rate, channels, seconds):
    audio = make_audio(seconds, sample_rate, channels)
    data = snn_codec.compress(audio, sample_rate, model=tiny_codec)
    decoded = snn_codec.decompress(data, model=tiny_codec)
    assert decoded.sample_rate == sample_rate
    assert decoded.samples.shape == audio.shape
    assert decoded.samples.dtype == np.float32 and np.all(np.isfinite(decoded.samples))


def test_bitrate_is_computed_from_the_bytes(tiny_codec, make_audio):
    data = snn_codec.compress(make_audio(2.0, 8000), 8000, model=tiny_codec)
    info = snn_codec.inspect(data)
    assert info.total_bytes == len(data)
    assert info.bitrate_kbps == pytest.approx(len(data) * 8 / 2.0 / 1000)
    assert info.overhead_bytes + info.payload_bytes == len(data)
    assert info.header.num_frames == 100 and info.header.num_units == 8 and info.version == 3
    assert 0 < info.events <= 800 and info.firing_rate == pytest.approx(info.events / 800)


def test_same_input_gives_identical_bytes(tiny_codec, make_audio):
    audio = make_audio(1.0, 16000)
    first = snn_codec.compress(audio, 16000, model=tiny_codec)
    again = snn_codec.compress(torch.from_numpy(audio.copy()), 16000, model=tiny_codec)
    assert first == again


def test_coder_can_be_chosen_and_auto_takes_the_smallest(tiny_codec, make_audio):
    from snn_codec.bitstream import EVENT_CODERS

    audio = make_audio(1.0, 8000)
    forced = {name: snn_codec.inspect(snn_codec.compress(audio, 8000, model=tiny_codec, coder=name))
              for name in EVENT_CODERS}
    auto = snn_codec.inspect(snn_codec.compress(audio, 8000, model=tiny_codec))
    assert {name: info.coder for name, info in forced.items()} == {name: name for name in EVENT_CODERS}
    assert {info.events for info in forced.values()} == {auto.events}
    assert auto.total_bytes == min(info.total_bytes for info in forced.values())


def test_empty_audio_is_refused(tiny_codec):
    with pytest.raises(AudioError, match="empty"):
        snn_codec.compress(np.zeros(0, dtype=np.float32), 8000, model=tiny_codec)


def test_arrays_need_a_sample_rate(tiny_codec):
    with pytest.raises(AudioError, match="sample_rate"):
        snn_codec.compress(np.zeros(100, dtype=np.float32), model=tiny_codec)


@pytest.mark.parametrize("rate", [0, -5, 10**9])
def test_absurd_sample_rates_are_refused(tiny_codec, rate):
    with pytest.raises(AudioError, match="sample rate"):
        snn_codec.compress(np.zeros(100, dtype=np.float32), rate, model=tiny_codec)


def test_nan_audio_is_refused(tiny_codec):
    with pytest.raises(AudioError, match="NaN"):
        snn_codec.compress(np.full(100, np.nan, dtype=np.float32), 8000, model=tiny_codec)


def test_a_file_decoded_with_another_model_is_refused(tiny_codec, make_audio):
    data = snn_codec.compress(make_audio(0.5, 8000), 8000, model=tiny_codec)
    other = type(tiny_codec)(tiny_codec.config).eval()  # same config, different random weights
    with pytest.raises(CodecError, match="written by model 'tiny-test'"):
        snn_codec.decompress(data, model=other)


def test_a_file_from_an_unshipped_model_needs_that_model(tiny_codec, make_audio):
    data = snn_codec.compress(make_audio(0.5, 8000), 8000, model=tiny_codec)
    with pytest.raises(CodecError, match="does not ship"):
        snn_codec.decompress(data)


def test_inconsistent_frame_count_is_a_format_error(tiny_codec, make_audio):
    import io

    from snn_codec.bitstream.stream import ContainerWriter, StreamHeader

    header = snn_codec.inspect(snn_codec.compress(make_audio(0.5, 8000), 8000, model=tiny_codec)).header
    forged_header = type(header)(**{**header.__dict__, "num_samples": 10**11})
    out = io.BytesIO()
    writer = ContainerWriter(out, StreamHeader(forged_header, 1500), [])
    forged = out.getvalue()
    with pytest.raises(FormatError, match="cannot hold"):
        snn_codec.decompress(forged, model=tiny_codec)


def test_model_files_round_trip(tiny_codec, tiny_model_file):
    loaded = snn_codec.load_model(tiny_model_file)
    assert loaded.weight_hash() == tiny_codec.weight_hash()
    assert loaded.config == tiny_codec.config
    assert tiny_model_file.with_suffix(".yaml").is_file()


def test_unknown_model_names_list_the_shipped_ones():
    with pytest.raises(CodecError, match="unknown model 'no-such-model'; shipped models"):
        snn_codec.load_model("no-such-model")


def test_a_non_model_file_is_refused(tmp_path):
    bogus = tmp_path / "bogus.safetensors"
    bogus.write_bytes(b"\x00" * 64)
    with pytest.raises(CodecError, match="not a readable model file"):
        snn_codec.load_model(bogus)


@pytest.mark.parametrize("block", [1000, 4096, 1 << 16])
def test_the_bitstream_does_not_depend_on_how_the_input_is_read(tiny_codec, make_audio, tmp_path, monkeypatch, block):
    import soundfile as sf

    import snn_codec.streaming as streaming

    audio = make_audio(7.0, 22050, channels=2)
    sf.write(tmp_path / "in.flac", audio.T, 22050)
    reference = snn_codec.compress(audio, 22050, model=tiny_codec)
    monkeypatch.setattr(streaming, "BLOCK_SAMPLES", block)
    tiny_codec.window_frames = 60  # several windows and chunks in 7 s
    snn_codec.compress_file(tmp_path / "in.flac", tmp_path / "out.snnc", model=tiny_codec)
    streamed = (tmp_path / "out.snnc").read_bytes()
    assert snn_codec.inspect(streamed).events == snn_codec.inspect(reference).events
    assert snn_codec.decompress(streamed, model=tiny_codec).samples.shape == audio.shape
    tiny_codec.window_frames = 1500
    snn_codec.compress_file(tmp_path / "in.flac", tmp_path / "out.snnc", model=tiny_codec)
    assert (tmp_path / "out.snnc").read_bytes() == reference


@pytest.mark.parametrize("sample_rate", [8000, 22050])
@pytest.mark.parametrize("start_s,duration_s", [(0.0, 0.5), (1.37, 0.8), (2.9, 5.0), (4.0, 0.0)])
def test_a_part_decodes_like_the_same_samples_of_the_whole(tiny_codec, make_audio, sample_rate, start_s, duration_s):
    tiny_codec.window_frames = 10  # 0.2 s windows and chunks, so a part skips many of them
    audio = make_audio(3.3, sample_rate, channels=2)
    data = snn_codec.compress(audio, sample_rate, model=tiny_codec)
    whole = snn_codec.decompress(data, model=tiny_codec).samples
    part = snn_codec.decompress(data, model=tiny_codec, start_s=start_s, duration_s=duration_s).samples
    first = min(round(start_s * sample_rate), whole.shape[1])
    expected = whole[:, first : first + round(duration_s * sample_rate)]
    assert part.shape == expected.shape
    tolerance = 1e-5 if sample_rate == tiny_codec.config.sample_rate else 2e-3
    assert np.allclose(part, expected, atol=tolerance)


def test_seeking_skips_chunks_without_reading_them(tiny_codec, make_audio):
    import io

    from snn_codec.bitstream import coder_by_id
    from snn_codec.bitstream.stream import ContainerReader

    tiny_codec.window_frames = 10
    data = snn_codec.compress(make_audio(3.0, 8000), 8000, model=tiny_codec)
    reader = ContainerReader(io.BytesIO(data), coder_by_id)
    _, events = snn_codec.api.read_events(data)
    tail = [chunk for _, chunk in reader.chunks(first=12)]
    assert np.array_equal(np.concatenate(tail, axis=1), events[:, 120:])
    assert reader.payload_bytes < snn_codec.inspect(data).payload_bytes / 2  # skipped chunks were not read


def test_half_precision_files_round_only_the_decoder(tiny_codec, tmp_path):
    from safetensors import safe_open

    path = snn_codec.save_model(tiny_codec, tmp_path / "half.safetensors", half="decoder")
    with safe_open(str(path), framework="pt") as handle:
        dtypes = {name: handle.get_tensor(name).dtype for name in handle.keys()}
    assert {d for n, d in dtypes.items() if n.startswith("decoder.")} == {torch.float16}
    assert torch.float16 not in {d for n, d in dtypes.items() if not n.startswith("decoder.")}
    loaded = snn_codec.load_model(path)
    audio = torch.randn(8000)
    assert torch.equal(loaded.encode(audio), tiny_codec.encode(audio))  # events are untouched


def test_half_precision_networks_keep_the_bottleneck_in_float32(tiny_codec, tmp_path):
    from safetensors import safe_open

    path = snn_codec.save_model(tiny_codec, tmp_path / "small.safetensors", half="networks")
    with safe_open(str(path), framework="pt") as handle:
        dtypes = {name: handle.get_tensor(name).dtype for name in handle.keys()}
    for name, dtype in dtypes.items():
        part = name.split(".")[0]
        assert (dtype == torch.float16) == (part in ("encoder", "decoder") and dtype.is_floating_point), name
    assert any(n.startswith("bottleneck.") and d == torch.float32 for n, d in dtypes.items())
    loaded = snn_codec.load_model(path)
    assert loaded.weight_hash() != tiny_codec.weight_hash()  # the rounded model is another model
    assert loaded.encode(torch.randn(8000)).shape == tiny_codec.encode(torch.randn(8000)).shape
    with pytest.raises(CodecError, match="half"):
        snn_codec.save_model(tiny_codec, tmp_path / "bad.safetensors", half="bottleneck")


def test_a_version_1_file_still_decompresses(tiny_codec, make_audio):
    from snn_codec.bitstream import EVENT_CODERS, Header, pack

    audio = make_audio(1.0, 8000)
    events = tiny_codec.encode(torch.from_numpy(audio[0])).numpy()
    header = Header(sample_rate=8000, num_samples=8000, channels=1, model_id="tiny-test",
                    weight_hash=tiny_codec.weight_hash(), coder_id=EVENT_CODERS["sparse"].coder_id,
                    num_units=events.shape[0], num_frames=events.shape[1])
    old = pack(header, EVENT_CODERS["sparse"].encode(events))
    restored = snn_codec.decompress(old, model=tiny_codec).samples
    assert np.array_equal(restored, snn_codec.decompress(snn_codec.compress(audio, 8000, model=tiny_codec),
                                                         model=tiny_codec).samples)
    assert snn_codec.api.inspect(old).codebook_size is None


def test_decoder_precision_changes_the_audio_only_slightly(tiny_codec, make_audio):
    from snn_codec.codec import native_bfloat16

    audio = make_audio(1.0, 8000)
    data = snn_codec.compress(audio, 8000, model=tiny_codec)
    decoded = {p: snn_codec.decompress(data, model=tiny_codec, precision=p).samples
               for p in ("auto", "float32", "bfloat16")}
    assert not np.array_equal(decoded["float32"], decoded["bfloat16"])
    error = np.sqrt(np.mean((decoded["float32"] - decoded["bfloat16"]) ** 2) / np.mean(decoded["float32"] ** 2))
    assert error < 0.05
    assert np.array_equal(decoded["auto"], decoded["bfloat16" if native_bfloat16() else "float32"])
    with pytest.raises(CodecError, match="precision"):
        snn_codec.decompress(data, model=tiny_codec, precision="float8")


def test_the_bfloat16_decoder_follows_the_weights_and_stays_out_of_the_model(tiny_codec):
    events = torch.rand(tiny_codec.units, 40) < 0.3
    before = tiny_codec.decode(events, precision="bfloat16")
    state = set(tiny_codec.state_dict())
    assert tiny_codec.decoder_at("bfloat16") is tiny_codec.decoder_at("bfloat16")  # kept, not rebuilt
    assert set(tiny_codec.state_dict()) == state  # the copy is no part of the saved model or its hash
    assert tiny_codec.decoder_at("float32") is tiny_codec.decoder
    with torch.no_grad():
        next(tiny_codec.decoder.parameters()).mul_(2.0)
    after = tiny_codec.decode(events, precision="bfloat16")
    assert not torch.equal(before, after)
    assert torch.allclose(after, tiny_codec.decode(events, precision="float32"), atol=0.05)


def test_encoder_precision_is_deterministic_and_auto_asks_the_model(tiny_codec, make_audio):
    """Each precision gives the same bytes every time; "auto" is float32 unless the model allows bfloat16,
    and then bfloat16 exactly where the CPU has it natively; float32 gives the training model's events;
    every file decodes with the same model."""
    from dataclasses import replace

    from snn_codec.codec import native_bfloat16

    # a clip where bfloat16 flips at least one event (which clips do depends on the CPU's bfloat16 arithmetic),
    # else this test could not tell the precisions apart
    for seed in range(10):
        audio = make_audio(2.0, 8000, seed=seed)
        files = {p: snn_codec.compress(audio, 8000, model=tiny_codec, precision=p)
                 for p in ("auto", "float32", "bfloat16")}
        if files["float32"] != files["bfloat16"]:
            break
    else:
        pytest.fail("bfloat16 changed no event of ten clips")
    for precision, data in files.items():
        assert snn_codec.compress(audio, 8000, model=tiny_codec, precision=precision) == data
        assert snn_codec.decompress(data, model=tiny_codec).samples.shape == audio.shape
    assert files["auto"] == files["float32"]
    tiny_codec.config = replace(tiny_codec.config, encoder=replace(tiny_codec.config.encoder, auto_bfloat16=True))
    auto = snn_codec.compress(audio, 8000, model=tiny_codec, precision="auto")
    assert auto == files["bfloat16" if native_bfloat16() else "float32"]
    _, events = snn_codec.api.read_events(files["float32"])
    forward = tiny_codec(torch.from_numpy(audio[0]).float().view(1, 1, -1)).bottleneck.events[0].numpy()
    assert np.array_equal(events, forward)
    with pytest.raises(CodecError, match="precision"):
        snn_codec.compress(audio, 8000, model=tiny_codec, precision="float8")


def test_the_weight_hash_follows_every_change_of_the_weights(tiny_codec):
    from snn_codec.codec import Codec

    def fresh_hash(codec) -> bytes:  # a new model with the same weights: nothing cached
        twin = Codec(codec.config)
        twin.load_state_dict(codec.state_dict())
        return twin.weight_hash()

    first = tiny_codec.weight_hash()
    assert tiny_codec.weight_hash() == first == fresh_hash(tiny_codec)
    with torch.no_grad():
        tiny_codec.decoder.head.bias[0] += 1.0  # in place
    assert tiny_codec.weight_hash() != first and tiny_codec.weight_hash() == fresh_hash(tiny_codec)
    tiny_codec.decoder.head.bias = torch.nn.Parameter(tiny_codec.decoder.head.bias.detach() - 1.0)  # replaced
    assert tiny_codec.weight_hash() == fresh_hash(tiny_codec)


def test_the_stft_encoder_gives_identical_bytes_whatever_the_blocks(tiny_config, make_audio, tmp_path):
    """The frame-rate encoder keeps the bitstream honest: the same input gives the same bytes, through the
    array API and through a file read in blocks."""
    import dataclasses

    import soundfile as sf

    from snn_codec.codec import Codec

    torch.manual_seed(0)
    encoder = dataclasses.replace(tiny_config.encoder, kind="stft", dim=16, layers=1, stft_frames=2)
    codec = Codec(dataclasses.replace(tiny_config, encoder=encoder)).eval()
    audio = make_audio(3.0, 16000)
    first = snn_codec.compress(audio, 16000, model=codec)
    assert snn_codec.compress(torch.from_numpy(audio.copy()), 16000, model=codec) == first
    sf.write(tmp_path / "in.wav", audio[0], 16000, subtype="FLOAT")
    snn_codec.compress_file(tmp_path / "in.wav", tmp_path / "out.snnc", model=codec)
    assert (tmp_path / "out.snnc").read_bytes() == first


def test_the_weight_hash_reads_only_the_saved_tensors(tiny_codec):
    """A non-persistent buffer made under inference mode (some neurons keep state that way) keeps no
    version counter; the hash, and the key that caches it, must not need one."""
    before = tiny_codec.weight_hash()
    with torch.inference_mode():
        tiny_codec.bottleneck.register_buffer("scratch", torch.zeros(3), persistent=False)
    assert tiny_codec.weight_hash() == before
