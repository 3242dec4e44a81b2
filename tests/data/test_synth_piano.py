"""fluidsynth rendering and the synthetic corpus builder."""

from __future__ import annotations

import json
import shutil

import mido
import numpy as np
import pytest
import soundfile as sf

from snn_codec.audio import load_audio
from snn_codec.data import synth_piano
from snn_codec.data.midi_gen import generate_piece
from snn_codec.data.render import RenderError, find_soundfonts, render_midi
from snn_codec.data.synth_piano import build_corpus, render_example
from snn_codec.errors import CodecError, ConfigError

needs_fluidsynth = pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="fluidsynth is not installed")


@pytest.fixture(scope="module")
def midi_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("midi") / "p.mid"
    generate_piece(np.random.default_rng(1), 3.0).midi.save(path)
    return path


@needs_fluidsynth
def test_render_gives_non_silent_audio_at_the_asked_rate(midi_file):
    audio = render_midi(midi_file, "fluidr3_gm", None, 24000, reverb={"room-size": 0.5, "level": 0.4}, chorus=True)
    assert audio.sample_rate == 24000 and audio.channels == 2
    assert audio.duration_s >= 3.0
    assert np.sqrt(np.mean(audio.samples**2)) > 1e-3


@needs_fluidsynth
def test_render_errors_are_codec_errors(midi_file, tmp_path):
    with pytest.raises(CodecError, match="install_system_deps"):
        render_midi(midi_file, "musescore_general" if "musescore_general" not in find_soundfonts()
                    else tmp_path / "none.sf2", None, 24000)
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not a midi file")
    with pytest.raises(RenderError):
        render_midi(bad, "timgm6mb", None, 24000)


def test_missing_fluidsynth_gives_an_install_hint(midi_file, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(CodecError, match="install_system_deps"):
        render_midi(midi_file, "fluidr3_gm", None, 24000)


def test_find_soundfonts_lists_only_existing_files():
    for path in find_soundfonts().values():
        assert path.is_file()


def test_reserved_soundfont_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="reserved"):
        build_corpus(tmp_path, num_pieces=2, soundfonts=("musescore_general",), progress=False)
    with pytest.raises(ConfigError, match="unknown soundfont"):
        build_corpus(tmp_path, num_pieces=2, soundfonts=("nope",), progress=False)


@needs_fluidsynth
def test_build_corpus_writes_both_splits_and_resumes(tmp_path, monkeypatch):
    fonts = ("fluidr3_gm", "timgm6mb")
    out = build_corpus(tmp_path / "c", num_pieces=3, duration_s=3.0, sample_rate=16000, soundfonts=fonts, seed=5,
                       progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert [len(manifest["splits"][s]) for s in ("train", "validation")] == [2, 2]
    assert [p["soundfont"] for p in manifest["pieces"]] == ["fluidr3_gm", "timgm6mb", "fluidr3_gm", "timgm6mb"]
    # the validation piece is rendered with every soundfont: the same music, another timbre
    validation = [json.loads((out / p["meta"]).read_text()) for p in manifest["pieces"] if p["split"] == "validation"]
    assert validation[0]["notes"] == validation[1]["notes"]
    assert load_audio(out / "validation/piece_00002-fluidr3_gm.flac").samples.shape == \
        load_audio(out / "validation/piece_00002-timgm6mb.flac").samples.shape
    for entry in manifest["pieces"]:
        info = sf.info(out / entry["audio"])
        assert info.samplerate == 16000 and info.channels == 1 and info.subtype == "PCM_16"
        meta = json.loads((out / entry["meta"]).read_text())
        assert meta["soundfont"] == entry["soundfont"] and meta["sample_rate"] == 16000
        assert all(0 <= on < off <= 3.0 + 1e-9 for on, off, _, _ in meta["notes"])
        midi_notes = sum(m.type == "note_on" and m.velocity > 0 for m in mido.MidiFile(out / entry["midi"]))
        assert midi_notes == len(meta["notes"])
        peak = np.abs(load_audio(out / entry["audio"]).samples).max()
        assert 10 ** (-12.5 / 20) < peak < 10 ** (-0.9 / 20)
    assert not (out / ".tmp").exists()
    before = {p: p.stat().st_mtime_ns for p in out.rglob("piece_*")}

    def no_render(*args, **kwargs):
        raise AssertionError("a complete piece was rendered again")

    monkeypatch.setattr(synth_piano, "render_midi", no_render)
    build_corpus(tmp_path / "c", num_pieces=3, duration_s=3.0, sample_rate=16000, soundfonts=fonts, seed=5,
                 progress=False)
    assert before == {p: p.stat().st_mtime_ns for p in out.rglob("piece_*")}


def test_a_grown_or_shrunk_corpus_keeps_validation_music_out_of_training(tmp_path, monkeypatch):
    """Growing a corpus moves its last validation pieces into training: their validation files must go."""
    from pathlib import Path
    from types import SimpleNamespace

    from snn_codec.data.datasets import dataset_files

    def render(midi_path, soundfont, _, rate, reverb=None, chorus=False):  # noise instead of fluidsynth
        rng = np.random.default_rng(len(Path(midi_path).read_bytes()))
        return SimpleNamespace(samples=rng.uniform(-0.5, 0.5, (2, rate)).astype(np.float32))

    monkeypatch.setattr(synth_piano, "render_midi", render)
    monkeypatch.setattr(synth_piano, "resolve_soundfont", lambda name: f"/soundfonts/{name}.sf2")
    root = tmp_path / "corpus"

    def build(pieces):
        build_corpus(root, num_pieces=pieces, duration_s=1.0, sample_rate=8000, soundfonts=("fluidr3_gm", "timgm6mb"),
                     progress=False)

    def midi(split):
        return {path.with_suffix(".mid").read_bytes() for path in dataset_files(f"synth:{root}", split)}

    def on_disk(split):
        return sorted(path.name for path in (root / split).iterdir())

    build(6)  # piece 5 is the validation piece
    assert on_disk("validation")[0].startswith("piece_00005-")
    (root / "validation" / "notes.txt").write_text("not a piece: left alone")
    build(12)  # piece 11 is; piece 5 moves to training
    assert not midi("train") & midi("validation")
    assert on_disk("validation") == ["notes.txt"] + [f"piece_00011-{font}.{ext}" for font in ("fluidr3_gm", "timgm6mb")
                                                     for ext in ("flac", "json", "mid")]
    assert len(dataset_files(f"synth:{root}", "train")) == 11
    build(6)  # and back: pieces 6 to 11 leave the corpus, piece 5 is validation again
    assert not midi("train") & midi("validation")
    assert on_disk("train") == [f"piece_{i:05d}.{ext}" for i in range(5) for ext in ("flac", "json", "mid")]
    assert {name.split("-")[0] for name in on_disk("validation")} == {"notes.txt", "piece_00005"}


@needs_fluidsynth
def test_render_example_writes_stereo_flac(tmp_path):
    path = render_example(tmp_path / "demo.flac", seconds=2.0, sample_rate=22050, seed=3, soundfont="timgm6mb")
    audio = load_audio(path)
    assert audio.channels == 2 and audio.sample_rate == 22050 and audio.num_samples == 44100
    assert np.abs(audio.samples).max() == pytest.approx(10 ** (-3 / 20), abs=2e-3)


@needs_fluidsynth
def test_a_render_without_sound_is_an_error(tmp_path):
    """A soundfont without presets for the piece (or a piece without notes) must not yield silent data."""
    midi = mido.MidiFile()
    track = mido.MidiTrack([mido.Message("program_change", program=0, time=0),
                            mido.MetaMessage("end_of_track", time=960)])
    midi.tracks.append(track)
    midi.save(tmp_path / "empty.mid")
    with pytest.raises(RenderError, match="rendered empty.mid as silence"):
        render_midi(tmp_path / "empty.mid", "timgm6mb", None, 16000)
