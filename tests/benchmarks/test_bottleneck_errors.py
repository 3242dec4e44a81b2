"""Where the bottlenecks' errors lie (benchmarks/bottleneck_errors.py): the diagnostics of the benchmark's
trained runs, on the clips of their records."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import soundfile as sf

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))

import bottleneck_errors  # noqa: E402
import bottleneck_plan as bp  # noqa: E402
import bottlenecks  # noqa: E402

from snn_codec.model_io import save_model  # noqa: E402

DATA = bp.bench_data("folder:x", "", bp.SCALES["smoke"])


def recorded_run(tmp_path: Path, codec, seed: int, clips: list[Path]) -> bp.Run:
    """A run of `codec` with its model in tmp_path's runs folder and its record in tmp_path/records."""
    run = bp.Run("threshold", 1.5, seed, bp.run_config("threshold", 1.5, seed, bp.SCALES["smoke"], DATA))
    folder = bp.run_dir(tmp_path, run)
    folder.mkdir()
    save_model(codec, folder / "model.safetensors")
    sets = {"in-domain": clips[:1], "unseen": clips[1:]}
    bottlenecks.evaluate(run, tmp_path, tmp_path / "records", sets, seconds=0.5, visqol_pieces=0, visqol_seconds=1.0)
    return run


def test_the_diagnostics_cover_the_records_clips_and_name_runs_without_a_model(tmp_path, tiny_codec, make_audio):
    clips = []
    for i in range(2):
        clips.append(tmp_path / f"clip{i}.wav")
        sf.write(clips[-1], make_audio(1.0, 16000, seed=i)[0], 16000)
    kept = recorded_run(tmp_path, tiny_codec, 0, clips)
    gone = recorded_run(tmp_path, tiny_codec, 1, clips)
    shutil.rmtree(bp.run_dir(tmp_path, gone))
    out = tmp_path / "out"
    bottleneck_errors.main(["--rate", "1.5", "--runs", str(tmp_path), "--records", str(tmp_path / "records"),
                            "--results", str(out)])

    payload = json.loads((out / "bottleneck_errors.json").read_text())
    assert payload["left_out"] == [gone.name]
    record = json.loads((tmp_path / "records" / f"{kept.name}.json").read_text())
    assert [(r["set"], r["clip"]) for r in payload["clips"]] == [(r["set"], r["clip"]) for r in record["rows"]]
    for row, measured in zip(payload["clips"], record["rows"]):
        # the same model on the same clip: the benchmark's own log-mel distance
        assert row["log_mel_db"] == pytest.approx(measured["log_mel_db"], rel=1e-5)
        assert 0 <= row["quiet_share"] <= 100 and 0 <= row["quiet_error_share"] <= 100
        assert {"log_mel_low_db", "log_mel_high_db", "quiet_excess_db", "partial_contrast_loss_db"} <= set(row)
    markdown = (out / "bottleneck_errors.md").read_text()
    assert "## in-domain" in markdown and "## unseen" in markdown and "| threshold | spiking | 1 |" in markdown
    assert gone.name in markdown
    assert (out / "bottleneck_errors.png").stat().st_size > 1000
    assert (out / "bottleneck_errors_spectrograms.png").stat().st_size > 1000  # threshold: a default kind


def test_no_spectrogram_without_a_run_of_the_kinds_asked_for(tmp_path):
    assert bottleneck_errors.plot_spectrograms([], ["lfq"], tmp_path / "s.png") is None
    assert not (tmp_path / "s.png").exists()


def test_no_trained_run_at_the_rate_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="no trained run at 3 kbps"):
        bottleneck_errors.main(["--rate", "3", "--runs", str(tmp_path), "--records", str(tmp_path)])
