"""A VQ model through the library: its codebook indices go through the container bit-exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import snn_codec
from snn_codec.api import read_events
from snn_codec.bitstream import INDEX_CODERS
from snn_codec.errors import ConfigError


def test_decompress_of_compress_equals_decoding_the_in_memory_indices(tiny_vq_codec, make_audio):
    audio = make_audio(2.0, 8000)
    # float32: the random tiny encoder's latents barely vary, and bfloat16 would round most of that away
    indices = tiny_vq_codec.encode(torch.from_numpy(audio[0]), precision="float32")
    assert indices.dtype == torch.int64 and indices.shape == (2, 100)
    assert len(indices.unique()) > 4  # the codebooks are used, so the test says something
    data = snn_codec.compress(audio, 8000, model=tiny_vq_codec, precision="float32")
    header, stored = read_events(data)
    assert header.num_units == 2 and np.array_equal(stored, indices.numpy())
    restored = snn_codec.decompress(data, model=tiny_vq_codec).samples[0]
    assert np.array_equal(restored, tiny_vq_codec.decode(indices).numpy())


@pytest.mark.parametrize("coder", sorted(INDEX_CODERS))
def test_every_index_coder_round_trips(tiny_vq_codec, make_audio, coder):
    audio = make_audio(1.0, 8000)
    data = snn_codec.compress(audio, 8000, model=tiny_vq_codec, coder=coder)
    info = snn_codec.api.inspect(data)
    assert info.coders == {coder: 1} and info.stores_indices and info.codebook_size == 32
    assert np.array_equal(read_events(data)[1], tiny_vq_codec.encode(torch.from_numpy(audio[0])).numpy())


def test_windowed_encoding_equals_whole_file_encoding(tiny_vq_codec, make_audio):
    audio = make_audio(3.0, 8000)
    whole = read_events(snn_codec.compress(audio, 8000, model=tiny_vq_codec))[1]
    tiny_vq_codec.window_frames = 7  # many windows and chunks, each with its context
    data = snn_codec.compress(audio, 8000, model=tiny_vq_codec)
    assert snn_codec.api.inspect(data).chunks == 22
    assert np.array_equal(read_events(data)[1], whole)
    part = snn_codec.decompress(data, model=tiny_vq_codec, start_s=1.0, duration_s=0.5).samples
    full = snn_codec.decompress(data, model=tiny_vq_codec).samples
    assert np.allclose(part, full[:, 8000:12000], atol=1e-5)


def test_event_coders_are_refused_for_indices(tiny_vq_codec, make_audio):
    with pytest.raises(ConfigError, match="for codebook indices"):
        snn_codec.compress(make_audio(0.5, 8000), 8000, model=tiny_vq_codec, coder="dense")


def test_bitrate_is_frame_rate_times_bits_per_frame_before_entropy_coding(tiny_vq_codec, make_audio):
    audio = make_audio(2.0, 8000)
    info = snn_codec.api.inspect(snn_codec.compress(audio, 8000, model=tiny_vq_codec, coder="index-fixed"))
    assert info.payload_kbps == pytest.approx((2 * 100 * 5 / 8 + 4) * 8 / 2.0 / 1000)  # 2 x 5 bits x 50 Hz + u32
    assert info.bits_per_index == pytest.approx(5 + 32 / 200)
