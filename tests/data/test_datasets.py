"""File discovery, data specs, MAESTRO splits and AudioCropDataset."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from snn_codec.data.datasets import AudioCropDataset, dataset_files, list_audio_files, maestro_files
from snn_codec.errors import CodecError


def write(path, seconds, rate=8000, channels=1, seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.random.default_rng(seed).uniform(-0.5, 0.5, (int(seconds * rate), channels)).astype(np.float32)
    sf.write(path, data, rate)
    return path


@pytest.fixture
def files(tmp_path):
    return [write(tmp_path / "a.wav", 1.0, channels=2), write(tmp_path / "sub" / "b.flac", 0.5, rate=16000, seed=1)]


def test_list_audio_files_is_recursive_and_sorted(tmp_path, files):
    (tmp_path / "notes.txt").write_text("x")
    assert list_audio_files(tmp_path) == sorted(files)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CodecError, match="no audio files"):
        list_audio_files(tmp_path / "empty")


def test_random_crops_have_the_right_shape_and_are_deterministic(files):
    ds = AudioCropDataset(files, 8000, 1000, items_per_epoch=7, seed=3)
    assert len(ds) == 7
    item = ds[2]
    assert item.shape == (1, 1000) and item.dtype == torch.float32
    assert torch.equal(item, AudioCropDataset(files, 8000, 1000, items_per_epoch=7, seed=3)[2])
    assert not torch.equal(item, AudioCropDataset(files, 8000, 1000, items_per_epoch=7, seed=4)[2])
    with pytest.raises(IndexError):
        ds[7]


def test_fixed_crops_cover_every_file(files):
    ds = AudioCropDataset(files, 8000, 1000, random_crops=False)
    assert len(ds) == 8 + 4  # 1 s and 0.5 s at 8 kHz
    assert all(ds[i].shape == (1, 1000) for i in range(len(ds)))
    assert torch.equal(ds[5], AudioCropDataset(files, 8000, 1000, random_crops=False)[5])


def test_short_files_are_zero_padded(tmp_path):
    ds = AudioCropDataset([write(tmp_path / "s.wav", 0.01)], 8000, 200, random_crops=False)
    assert len(ds) == 1
    item = ds[0]
    assert item.shape == (1, 200) and torch.all(item[0, 80:] == 0) and torch.any(item[0, :80] != 0)


MAESTRO_CSV = """canonical_composer,canonical_title,split,year,midi_filename,audio_filename,duration
A,One,train,2004,2004/one.midi,2004/one.wav,1.0
B,Two,validation,2004,2004/two.midi,2004/two.wav,1.0
C,"Three, Op. 3",test,2006,2006/three.midi,2006/three.wav,1.0
D,Four,train,2006,2006/four.midi,2006/four.wav,1.0
E,Missing,train,2006,2006/gone.midi,2006/gone.wav,1.0
"""


def test_maestro_files_per_split(tmp_path):
    (tmp_path / "maestro-v3.0.0.csv").write_text(MAESTRO_CSV)
    for name in ("2004/one", "2004/two", "2006/three", "2006/four"):
        write(tmp_path / f"{name}.wav", 0.1)
    assert maestro_files(tmp_path, "train") == [tmp_path / "2004/one.wav", tmp_path / "2006/four.wav"]
    assert maestro_files(tmp_path, "validation") == [tmp_path / "2004/two.wav"]
    assert dataset_files(f"maestro:{tmp_path}", "test") == [tmp_path / "2006/three.wav"]
    with pytest.raises(CodecError, match="unknown MAESTRO split"):
        maestro_files(tmp_path, "dev")
    with pytest.raises(CodecError, match="maestro-v3.0.0.csv"):
        maestro_files(tmp_path / "2004", "train")


def test_dataset_specs(tmp_path, files):
    import json

    synth = tmp_path / "corpus"
    train = write(synth / "train" / "piece_00000.flac", 0.1)
    val = write(synth / "validation" / "piece_00001.flac", 0.1)
    with pytest.raises(CodecError, match="snn-codec data synth-piano --out"):
        dataset_files(f"synth:{synth}", "train")  # no manifest: no splits
    pieces = [{"name": p.stem, "split": split, "soundfont": "a", "audio": f"{split}/{p.name}"}
              for p, split in ((train, "train"), (val, "validation"))]
    (synth / "manifest.json").write_text(json.dumps({"version": 2, "pieces": pieces}))
    write(synth / "validation" / "piece_00002.flac", 0.1)  # not in the manifest: not in any split
    assert dataset_files(f"synth:{synth}", "train") == [train]
    assert dataset_files(f"synth:{synth}", "validation") == [val]
    assert dataset_files(f"folder:{tmp_path / 'sub'}", "train") == [files[1]]
    assert dataset_files(str(tmp_path / "sub"), "validation") == [files[1]]
    with pytest.raises(CodecError, match="no 'test' split .*snn-codec data synth-piano"):
        dataset_files(f"synth:{synth}", "test")
    val.unlink()
    with pytest.raises(CodecError, match="listed in .* but missing"):
        dataset_files(f"synth:{synth}", "validation")


def corpus_with_soundfonts(root):
    """A tiny corpus manifest: two training pieces and one validation piece rendered with two soundfonts."""
    import json

    pieces = [("train", "piece_00000", "font_a"), ("train", "piece_00001", "font_b"),
              ("validation", "piece_00002-font_a", "font_a"), ("validation", "piece_00002-font_b", "font_b")]
    entries = []
    for split, name, font in pieces:
        write(root / split / f"{name}.flac", 0.2)
        entries.append({"name": name, "split": split, "soundfont": font, "audio": f"{split}/{name}.flac"})
    (root / "manifest.json").write_text(json.dumps({"version": 2, "pieces": entries}))
    return root


def test_leave_one_soundfont_out_selection(tmp_path):
    root = corpus_with_soundfonts(tmp_path / "c")
    spec = f"synth:{root}"
    assert dataset_files(spec, "train", exclude_soundfont="font_b") == [root / "train/piece_00000.flac"]
    assert dataset_files(spec, "validation", soundfont="font_b") == [root / "validation/piece_00002-font_b.flac"]
    assert dataset_files(spec, "validation", exclude_soundfont="font_b") == [
        root / "validation/piece_00002-font_a.flac"]
    with pytest.raises(CodecError, match="no pieces rendered with soundfont 'font_c'"):
        dataset_files(spec, "train", exclude_soundfont="font_c")
    with pytest.raises(CodecError, match="only synthetic corpora"):
        dataset_files(f"folder:{root}", "train", soundfont="font_a")
    (root / "manifest.json").write_text("{not json")
    with pytest.raises(CodecError, match="manifest.json: missing or unreadable"):
        dataset_files(spec, "train", soundfont="font_a")


def test_augmented_crops_are_deterministic_and_differ_from_plain_ones(files):
    from snn_codec.config import AugmentConfig
    from snn_codec.data.augment import Augmenter

    augment = Augmenter(AugmentConfig(enabled=True, reverb_probability=1.0, rt60_s=(0.1, 0.2)), 8000)
    plain = AudioCropDataset(files, 8000, 1000, items_per_epoch=4, seed=3)
    augmented = AudioCropDataset(files, 8000, 1000, items_per_epoch=4, seed=3, augment=augment)
    assert augmented[1].shape == (1, 1000)
    assert torch.equal(augmented[1], AudioCropDataset(files, 8000, 1000, items_per_epoch=4, seed=3,
                                                      augment=augment)[1])
    assert not torch.equal(augmented[1], plain[1])
