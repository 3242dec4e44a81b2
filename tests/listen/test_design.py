"""Building a MUSHRA test: stimuli, hidden reference and anchors, bitrates, blinding per listener."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import soundfile as sf

from snn_codec.errors import CodecError
from snn_codec.listen import build_test, listener_trials, load_clips, load_systems, load_test
from snn_codec.listen.design import ANCHORS, TARGET_LUFS
from snn_codec.listen.dsp import loudness_lufs
from snn_codec.listen.systems import HIDDEN_REFERENCE


def test_every_trial_has_the_reference_hidden_reference_anchors_and_systems(small_test):
    assert [c.name for c in small_test.clips] == ["clip0", "clip1"]
    expected = {HIDDEN_REFERENCE, *ANCHORS, "tiny-test", "classic"}
    for clip in small_test.clips:
        assert set(clip.stimuli) == expected
        files = [clip.reference, *clip.stimuli.values()]
        assert len(set(files)) == len(files)  # the hidden reference is its own file: URLs reveal nothing
        lengths = set()
        for file in files:
            audio, rate = sf.read(small_test.folder / file, always_2d=True)
            assert rate == 48000 and audio.shape[1] == 2
            lengths.add(len(audio))
            assert loudness_lufs(audio.T, rate) == pytest.approx(TARGET_LUFS, abs=0.5)
        assert lengths == {int(0.6 * 48000)}
        reference, _ = sf.read(small_test.folder / clip.reference)
        hidden, _ = sf.read(small_test.folder / clip.stimuli[HIDDEN_REFERENCE])
        assert np.array_equal(reference, hidden)


def test_bitrates_come_from_the_snnc_bytes_on_disk(small_test):
    for clip in small_test.clips:
        snnc = small_test.folder / "encoded" / clip.name / "tiny-test.snnc"
        assert clip.bitrate_kbps["tiny-test"] == pytest.approx(snnc.stat().st_size * 8 / 0.6 / 1000)
        assert clip.bitrate_kbps["classic"] == 6.0
    assert load_test(small_test.folder) == small_test


def test_blind_order_is_reproducible_per_listener_and_seed(small_test):
    ana = listener_trials(small_test, "ana")
    assert ana == listener_trials(small_test, "ana")
    for trial in ana:
        assert sorted(trial.order) == sorted(small_test.clip(trial.clip).stimuli)
    names = ("ana", "ben", "cy", "dee")
    orders = {tuple((t.clip, *t.order) for t in listener_trials(small_test, name)) for name in names}
    assert len(orders) > 1
    reseeded = dataclasses.replace(small_test, seed=4)
    assert [listener_trials(reseeded, n) for n in names] != [listener_trials(small_test, n) for n in names]


def test_an_existing_test_is_not_rebuilt_without_force(small_test, reference_dir, tiny_model_file):
    clips, systems = load_clips([reference_dir]), load_systems([str(tiny_model_file)], [])
    with pytest.raises(CodecError, match="--force"):
        build_test(clips, systems, small_test.folder)
    rebuilt = build_test(clips, systems, small_test.folder, force=True)
    assert set(rebuilt.clips[0].stimuli) == {HIDDEN_REFERENCE, *ANCHORS, "tiny-test"}
    assert len(list((small_test.folder / "stimuli").iterdir())) == 2 * 5


def test_bad_systems_and_references_are_clear_errors(tmp_path, reference_dir, tiny_model_file):
    with pytest.raises(CodecError, match="NAME=DIR"):
        load_systems([], ["no-folder-given"])
    with pytest.raises(CodecError, match="not a folder"):
        load_systems([], [f"x={tmp_path / 'missing'}"])
    with pytest.raises(CodecError, match="reserved"):
        load_systems([f"reference={tiny_model_file}"], [])
    with pytest.raises(CodecError, match="two systems"):
        load_systems([str(tiny_model_file), str(tiny_model_file)], [])
    with pytest.raises(CodecError, match="at least one"):
        load_systems([], [])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CodecError, match="no decoded file for clip 'clip0'"):
        build_test(load_clips([reference_dir]), load_systems([], [f"x={empty}"]), tmp_path / "t")
    with pytest.raises(CodecError, match="no .* files"):
        load_clips([empty])
    (tmp_path / "other").mkdir()
    sf.write(tmp_path / "other" / "clip0.wav", np.zeros(800), 8000)
    with pytest.raises(CodecError, match="distinct names"):
        load_clips([reference_dir, tmp_path / "other"])


def test_a_damaged_description_is_a_format_error(small_test):
    (small_test.folder / "test.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(CodecError, match="damaged"):
        load_test(small_test.folder)
