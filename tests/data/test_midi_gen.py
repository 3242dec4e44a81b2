"""The piano MIDI generator: deterministic, in range, exact timing, valid MIDI."""

from __future__ import annotations

import mido
import numpy as np
import pytest

from snn_codec.data.midi_gen import TICKS_PER_BEAT, generate_piece


def piece(seed: int, duration_s: float = 20.0):
    return generate_piece(np.random.default_rng(seed), duration_s)


def test_same_seed_same_piece_other_seed_other_piece():
    a, b, c = piece(7), piece(7), piece(8)
    assert a.notes == b.notes and a.tempo_bpm == b.tempo_bpm and a.key == b.key
    assert a.notes != c.notes


@pytest.mark.parametrize("seed", range(12))
def test_notes_are_valid_sorted_and_within_duration(seed):
    p = piece(seed)
    assert len(p.notes) > 20
    assert 60 <= p.tempo_bpm <= 160 and p.meter in (3, 4) and p.program in (0, 1)
    onsets = [n.onset_s for n in p.notes]
    assert onsets == sorted(onsets) and onsets[0] >= 0
    for n in p.notes:
        assert 21 <= n.pitch <= 108 and 30 <= n.velocity <= 120
        assert n.onset_s < n.offset_s <= 20.0 + 1e-9
    velocities = [n.velocity for n in p.notes]
    assert max(velocities) - min(velocities) >= 10  # dynamics vary


def test_seconds_match_ticks_and_tempo_exactly(tmp_path):
    p = piece(3, 10.0)
    path = tmp_path / "p.mid"
    p.midi.save(path)
    midi = mido.MidiFile(path)
    tempo = mido.bpm2tempo(p.tempo_bpm)
    now, starts = 0, []
    for msg in midi.tracks[0]:
        now += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            starts.append((mido.tick2second(now, TICKS_PER_BEAT, tempo), msg.note))
    assert len(starts) == len(p.notes)
    assert sorted(starts) == sorted((n.onset_s, n.pitch) for n in p.notes)
    assert midi.length == pytest.approx(p.notes[-1].offset_s, abs=3.0)


def test_midi_reads_back_with_the_same_notes_and_no_overlaps(tmp_path):
    p = piece(11)
    path = tmp_path / "p.mid"
    p.midi.save(path)
    sounding: set[int] = set()
    count = 0
    for msg in mido.MidiFile(path):
        if msg.type == "note_on" and msg.velocity > 0:
            assert msg.note not in sounding  # one pitch never restarts while it sounds
            sounding.add(msg.note)
            count += 1
        elif msg.type in ("note_off", "note_on"):
            sounding.discard(msg.note)
    assert count == len(p.notes) and not sounding


def test_corpus_spans_sparse_to_dense():
    densities = [len(piece(s, 30.0).notes) / 30.0 for s in range(15)]
    assert min(densities) < 7 and max(densities) > 10


def test_bad_duration_is_refused():
    with pytest.raises(ValueError):
        generate_piece(np.random.default_rng(0), 0.0)
