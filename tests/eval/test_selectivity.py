"""Selectivity statistics on events built to be (or not to be) selective, and the analyze command."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from snn_codec.eval.selectivity import (
    PieceEvents, analyze_events, benjamini_hochberg, binary_mi, frame_labels, golomb_synchrony,
)

RATE = 50.0


def synthetic_pieces(seed=0, pieces=3, frames=1500):
    """Unit 0 fires at onsets, unit 1 at onsets of pitch class 0 only, units 2-5 fire at random."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(pieces):
        onsets = rng.random(frames) < 0.08
        pitch = np.where(onsets, rng.integers(0, 12, frames), -1)
        events = rng.random((6, frames)) < 0.3
        events[0] = onsets | (rng.random(frames) < 0.05)
        events[1] = (pitch == 0) | (rng.random(frames) < 0.02)
        out.append(PieceEvents(events, onsets, pitch))
    return out


def test_frame_labels_mark_onsets_with_the_lowest_pitch_class():
    onsets, pitch = frame_labels([[0.0, 1.0, 64, 80], [0.005, 1.0, 60, 80], [0.5, 0.9, 61, 70], [9.0, 9.5, 50, 60]],
                                 frames=50, frame_rate=RATE)
    assert np.nonzero(onsets)[0].tolist() == [0, 25]
    assert pitch[0] == 0 and pitch[25] == 1 and (pitch[~onsets] == -1).all()


def test_binary_mi_is_zero_for_independent_and_one_bit_for_identical():
    y = np.tile([True, False], 500)
    x = np.stack([y, ~y, np.tile([True, True, False, False], 250)])
    assert binary_mi(x, y) == pytest.approx([1.0, 1.0, 0.0], abs=1e-9)


def test_benjamini_hochberg():
    p = np.array([0.001, 0.02, 0.03, 0.5])
    assert benjamini_hochberg(p, 0.05).tolist() == [True, True, True, False]
    assert benjamini_hochberg(np.array([0.2, 0.3]), 0.05).tolist() == [False, False]


def test_selective_units_are_found_and_random_ones_are_not():
    result = analyze_events(synthetic_pieces(), RATE, controls=400, seed=1)  # p down to 1/401: < 0.05/6
    assert result.onset_significant[0] and result.onset_significant[1]
    assert not result.onset_significant[2:].any()
    assert result.pitch_significant[1] and not result.pitch_significant[2:].any()
    assert result.onset_p_shift[0] == pytest.approx(1 / 401) and result.onset_p_shuffle[0] == pytest.approx(1 / 401)
    assert result.peri_onset[0, list(range(-10, 21)).index(0)] == pytest.approx(1.0)
    assert result.onset_rate_ratio > 1.2


def test_synchrony_index_and_its_control():
    rng = np.random.default_rng(0)
    shared = rng.random(3000) < 0.2
    together = np.stack([shared | (rng.random(3000) < 0.02) for _ in range(8)])
    apart = rng.random((8, 3000)) < 0.2
    assert golomb_synchrony(together) > 0.8 and golomb_synchrony(apart) < 0.3
    no_onsets = np.zeros(3000, dtype=bool)
    no_onsets[::100] = True
    sync = analyze_events([PieceEvents(together, no_onsets, np.where(no_onsets, 0, -1))], RATE, controls=50)
    independent = analyze_events([PieceEvents(apart, no_onsets, np.where(no_onsets, 0, -1))], RATE, controls=50)
    assert sync.synchrony_p < 0.05 and independent.synchrony_p > 0.05


def test_analyze_command_writes_the_report(tmp_path, tiny_model_file, make_audio, capsys):
    from snn_codec.cli import main

    corpus = tmp_path / "corpus"
    pieces = []
    for index in range(2):
        path = corpus / "validation" / f"piece_{index:05d}-font.flac"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, make_audio(4.0, 8000, seed=index)[0], 8000)
        notes = [[0.25 * k, 0.25 * k + 0.2, 60 + k % 12, 80] for k in range(15)]
        path.with_suffix(".json").write_text(json.dumps({"notes": notes}))
        pieces.append({"name": path.stem, "split": "validation", "soundfont": "font", "audio": f"validation/{path.name}"})
    (corpus / "manifest.json").write_text(json.dumps({"pieces": pieces}))
    out = tmp_path / "report"
    code = main(["analyze", str(tiny_model_file), str(corpus), "--out", str(out), "--controls", "20",
                 "--soundfont", "font"])
    assert code in (0, None)
    # 2 pieces, not the 12 asked for: said, with where to find more
    assert "the validation split has 2 piece(s) with notes, not the 12 asked for; --split train" in capsys.readouterr().err
    report = json.loads((out / "report.json").read_text())
    (model,) = report["models"].values()
    assert len(model["onset_mi"]) == len(model["firing_rate"]) and 0 <= model["synchrony_p"] <= 1
    assert "| model |" in (out / "report.md").read_text()
    assert all((out / f).stat().st_size > 1000 for f in ("raster.png", "peri_onset.png", "mutual_information.png"))
    assert main(["analyze", str(tiny_model_file), str(corpus), "--out", str(out), "--controls", "5"]) == 1
