"""The bottleneck benchmark (benchmarks/bottlenecks.py): matched rates, one recipe for all, and statistics
on synthetic results whose answers are known."""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))

import bottleneck_plan as bp  # noqa: E402
import bottleneck_report as br  # noqa: E402
import bottlenecks  # noqa: E402

from snn_codec.codec import Codec  # noqa: E402
from snn_codec.config import to_dict  # noqa: E402
from snn_codec.errors import ConfigError  # noqa: E402
from snn_codec.model_io import save_model  # noqa: E402

DATA = bp.bench_data("folder:x", "", bp.SCALES["bench"])


@pytest.mark.parametrize("rate,bits", [(0.75, 15), (1.5, 30), (3.0, 60)])
def test_quantizers_are_sized_to_the_rate_from_bits_per_frame(rate, bits):
    assert bp.bits_per_frame(rate, 50) == bits
    for kind in ("rvq", "fsq", "lfq", "vq"):
        config = bp.run_config(kind, rate, 0, bp.SCALES["smoke"], DATA)
        if config is None:
            assert kind == "vq" and bits > bp.MAX_VQ_BITS
            continue
        bottleneck = Codec(config.model).bottleneck
        assert bottleneck.units * math.log2(bottleneck.alphabet_size) == bits  # exactly the target before coding
        assert bottleneck.output_channels == bp.SCALES["smoke"].units  # the decoder is the same for every kind


def test_codebook_split_and_fsq_levels():
    assert bp.codebook_bits(15) == (3, 5) and bp.codebook_bits(30) == (3, 10) and bp.codebook_bits(60) == (6, 10)
    assert bp.codebook_bits(7) == (1, 7) and bp.codebook_bits(11) == (11, 1)  # a prime above the limit: 1 bit each
    for bits in range(2, 17):
        assert math.prod(bp.fsq_levels(bits)) == 2**bits and min(bp.fsq_levels(bits)) >= 3
    with pytest.raises(ValueError, match="whole number of bits"):
        bp.bits_per_frame(0.71, 50)


def test_every_run_shares_the_recipe_but_the_bottleneck():
    runs, impossible = bp.plan([*bp.DEFAULT_KINDS, bp.CEILING], [0.75, 1.5, 3.0], [0, 1, 2], bp.SCALES["bench"], DATA)
    assert impossible == [("vq", 1.5), ("vq", 3.0)]
    assert len(runs) == 3 * (3 * (len(bp.DEFAULT_KINDS) - 1) + 1 + 1)
    assert len({run.name for run in runs}) == len(runs)
    reference = runs[0].config
    for run in runs:
        model, train = run.config.model, run.config.train
        assert (model.encoder, model.decoder, model.latent_dim) == (reference.model.encoder, reference.model.decoder,
                                                                   reference.model.latent_dim)
        assert (train.steps, train.batch_size, train.learning_rate, train.data) == (
            reference.train.steps, reference.train.batch_size, reference.train.learning_rate, reference.train.data)
        assert train.seed == run.seed and train.init_from == "" and train.data.augment.enabled
        controlled = train.rate_control.target_kbps
        assert controlled == (run.rate_kbps if run.family == "spiking" else 0.0)
    assert [r.rate_kbps for r in runs if r.kind == bp.CEILING] == [None] * 3


def synthetic_rows() -> list[dict]:
    """threshold 1 dB worse than adlif at every seed and clip, give or take 0.05 dB (seed and clip effects
    shared); fsq equal to adlif on average but noisy; the ceiling 2 dB better than adlif."""
    rng = np.random.default_rng(0)
    seed_effect, clip_effect = rng.normal(0, 0.5, 3), rng.normal(0, 1, 6)
    rows = []
    for kind, family, offset, noise in [("threshold", "spiking", 1.0, 0.05), ("adlif", "spiking", 0.0, 0.0),
                                        ("fsq", "quantizer", 0.0, 0.3), ("continuous", "reference", -2.0, 0.0)]:
        for seed in range(3):
            for clip in range(6):
                rows.append({"kind": kind, "family": family, "rate_kbps": None if kind == "continuous" else 1.5,
                             "seed": seed, "set": "in-domain", "clip": f"c{clip}", "kbps": 1.5,
                             "log_mel_db": 10 + offset + seed_effect[seed] + clip_effect[clip] + rng.normal(0, noise),
                             "firing_rate": 0.1 if family == "spiking" else None})
    return rows


def test_summary_intervals_are_over_seeds():
    summary = {(s["kind"], s["rate_kbps"]): s for s in br.summarize(synthetic_rows())}
    threshold = summary[("threshold", 1.5)]
    assert threshold["seeds"] == 3
    assert threshold["log_mel_db_low"] < threshold["log_mel_db"] < threshold["log_mel_db_high"]
    assert summary[("adlif", 1.5)]["log_mel_db"] == pytest.approx(threshold["log_mel_db"] - 1.0, abs=0.05)
    assert math.isnan(summary[("fsq", 1.5)]["firing_rate"])  # quantizers have no firing rate
    assert summary[("continuous", None)]["log_mel_db"] == pytest.approx(threshold["log_mel_db"] - 3.0, abs=0.05)


def test_paired_comparisons_find_the_shared_difference_and_not_the_noise():
    tests = br.comparisons(synthetic_rows())
    assert [(t["question"], t["a"], t["b"]) for t in tests] == [
        ("threshold vs neuron", "threshold", "adlif"), ("best spiking vs best quantizer", "adlif", "fsq")]
    neuron, families = tests
    assert neuron["difference"] == pytest.approx(1.0, abs=0.05) and neuron["p_seeds"] < 0.01
    assert neuron["p_clips"] < 1e-6
    assert neuron["seeds"] == 3 and neuron["clips"] == 6
    assert families["p_clips"] > 0.05 and abs(families["difference"]) < 0.5
    assert all(t["p_seeds_holm"] >= t["p_seeds"] for t in tests)
    markdown = br.markdown_tables(br.summarize(synthetic_rows()), tests, [("vq", 3.0)])
    assert "| threshold | spiking | 1.5 | 3 |" in markdown and "ceiling" in markdown and "vq at 3 kbps" in markdown
    assert "| in-domain | 1.5 | threshold vs neuron | threshold | adlif | " in markdown
    assert markdown.count("| yes |") == 1  # threshold vs adlif; adlif vs fsq is noise


def test_a_kind_whose_seeds_are_not_all_done_is_left_out_of_the_comparisons():
    rows = [row for row in synthetic_rows() if row["kind"] != "adlif" or row["seed"] == 0]
    tests = br.comparisons(rows)
    assert [(t["question"], t["a"], t["b"]) for t in tests] == [("best spiking vs best quantizer", "threshold", "fsq")]
    assert {s["kind"]: s["seeds"] for s in br.summarize(rows)}["adlif"] == 1  # still in the tables


def test_the_rate_table_has_a_column_per_set_and_rate_and_the_ceiling_in_each():
    rows = synthetic_rows()
    faster = [row | {"rate_kbps": 3.0, "log_mel_db": row["log_mel_db"] - 1} for row in rows
              if row["kind"] == "threshold"]
    summary = br.summarize(rows + faster)
    lines = br.rate_table(summary)
    assert lines[0] == "| bottleneck | 1.5 kbps, in-domain | 3 kbps, in-domain |"
    cells = {line.split(" | ")[0][2:]: line.strip("| ").split(" | ")[1:] for line in lines[2:]}
    assert list(cells) == ["fsq", "adlif", "threshold", "continuous (no rate)"]  # family, kind; the ceiling last
    at = {(s["kind"], s["rate_kbps"]): s["log_mel_db"] for s in summary}
    assert float(cells["threshold"][1].split(" ± ")[0]) == pytest.approx(at[("threshold", 3.0)], abs=0.05)
    assert float(cells["threshold"][0].split(" ± ")[0]) == pytest.approx(at[("threshold", 1.5)], abs=0.05)
    assert cells["adlif"][1] == "–"  # not run at 3 kbps
    assert cells["continuous (no rate)"][0] == cells["continuous (no rate)"][1]


def test_sets_keep_the_evaluation_order():
    rows = synthetic_rows()
    unseen = [row | {"set": "MuseScore General"} for row in rows]  # sorts before "in-domain" alphabetically
    summary = br.summarize(rows + unseen)
    assert [s["set"] for s in summary] == ["in-domain"] * 4 + ["MuseScore General"] * 4
    assert [t["set"] for t in br.comparisons(rows + unseen)] == ["in-domain"] * 2 + ["MuseScore General"] * 2


def test_the_plot_is_written(tmp_path):
    path = br.plot(br.summarize(synthetic_rows()), tmp_path / "b.png")
    assert path.stat().st_size > 1000


@pytest.mark.parametrize("bottleneck", [{"kind": "threshold", "units": 8},
                                        {"kind": "fsq", "levels": [4, 4], "num_codebooks": 2, "output_channels": 8},
                                        {"kind": "continuous", "units": 8}])
def test_a_clip_is_measured_from_its_bytes(tiny_config, make_audio, bottleneck):
    torch.manual_seed(0)
    codec = Codec(replace(tiny_config, bottleneck=bottleneck)).eval()
    clip = make_audio(1.0, 16000)[0]
    decoded, stats = bottlenecks.decoded_and_events(codec, clip, 16000)
    assert decoded.shape == clip.shape
    z = bottlenecks.bottleneck_output(codec, clip, 16000)
    assert z.shape == (1, 8, 50)
    if bottleneck["kind"] == "continuous":
        assert stats == {}
    elif bottleneck["kind"] == "fsq":
        assert stats["events_per_s"] == pytest.approx(2 * 50) and "firing_rate" not in stats
    else:
        assert stats["kbps"] > 0 and 0 <= stats["firing_rate"] <= 1
        assert stats["events_per_s"] == pytest.approx(stats["firing_rate"] * 8 * 50)


def test_a_run_is_evaluated_once_and_its_record_kept(tmp_path, tiny_codec, make_audio, monkeypatch):
    run = bp.Run("threshold", 1.5, 0, bp.run_config("threshold", 1.5, 0, bp.SCALES["smoke"], DATA))
    folder = bp.run_dir(tmp_path, run)
    folder.mkdir()
    save_model(tiny_codec, folder / "model.safetensors")
    (folder / "metrics.json").write_text('{"step": 2, "val/log_mel_db": 9.5}')
    clips = []
    for i in range(2):
        clips.append(tmp_path / f"clip{i}.wav")
        sf.write(clips[-1], make_audio(1.0, 16000, seed=i)[0], 16000)
    sets = {"in-domain": clips[:1], "unseen": clips[1:]}
    records = tmp_path / "records"
    rows = bottlenecks.evaluate(run, tmp_path, records, sets, seconds=0.5, visqol_pieces=0, visqol_seconds=1.0)
    assert [(r["set"], r["clip"], r["seed"], r["rate_kbps"]) for r in rows] == [
        ("in-domain", "clip0.wav", 0, 1.5), ("unseen", "clip1.wav", 0, 1.5)]
    assert {"kbps", "log_mel_db", "events_per_s", "firing_rate", "synops_per_s", "footprint_kib"} <= set(rows[0])
    record = json.loads((records / f"{run.name}.json").read_text())
    assert record["training"]["val/log_mel_db"] == 9.5
    assert record["config"]["model"]["bottleneck"]["kind"] == "threshold"
    assert record["seconds"]["train"] is None and record["seconds"]["evaluate"] > 0
    assert [p.name for p in records.iterdir()] == [f"{run.name}.json"]  # no partial file left behind

    # the record alone (no run folder: a fresh clone with committed records) skips training and evaluation
    shutil.rmtree(folder)
    monkeypatch.setattr(bottlenecks, "load_model", lambda path: pytest.fail("the evaluation was kept"))
    monkeypatch.setattr(bottlenecks, "train", lambda *a: pytest.fail("the run was trained again"))
    args = argparse.Namespace(seconds=0.5, visqol_pieces=0, visqol_seconds=1.0, accelerator="cpu", train_only=False)
    assert bottlenecks.process(run, tmp_path, records, sets, args, 1, deadline=0.0) == rows

    # another config or other evaluation settings make the record stale
    changed = bp.Run("threshold", 1.5, 0, bp.run_config("threshold", 1.5, 0, bp.SCALES["smoke"], DATA, steps=3))
    assert changed.name == run.name
    assert bottlenecks.load_record(records, changed, bottlenecks.eval_settings(sets, 0.5, 0, 1.0)) is None
    assert bottlenecks.load_record(records, run, bottlenecks.eval_settings(sets, 0.6, 0, 1.0)) is None
    # past the deadline a run without a matching record is not started
    assert bottlenecks.process(changed, tmp_path, records, sets, args, 1, deadline=0.0) is None


def test_a_record_outlives_an_option_added_at_its_default():
    run = bp.Run("threshold", 1.5, 0, bp.run_config("threshold", 1.5, 0, bp.SCALES["smoke"], DATA))
    saved = json.loads(json.dumps(to_dict(run.config)))  # as a record keeps it
    assert bottlenecks.same_config(saved, run.config)
    # a record made before `train.distill_from` existed: it reads as the default, which the run keeps
    del saved["train"]["distill_from"]
    assert bottlenecks.same_config(saved, run.config)
    # ... but not once the run sets the new option
    assert not bottlenecks.same_config(saved, replace(run.config, train=replace(run.config.train,
                                                                                 distill_from="piano-v6")))
    # an option the record names that no longer exists, a changed value, no config at all: stale
    assert not bottlenecks.same_config(saved | {"gone": 1}, run.config)
    saved["train"]["steps"] += 1
    assert not bottlenecks.same_config(saved, run.config)
    assert not bottlenecks.same_config(None, run.config)


def test_the_tables_name_the_runs_still_missing(tmp_path):
    runs, impossible = bp.plan(["threshold", "adlif", "fsq", bp.CEILING], [1.5], [0, 1, 2], bp.SCALES["smoke"], DATA)
    rows = [row for row in synthetic_rows() if row["kind"] != "fsq"]
    missing = [run for run in runs if run.kind == "fsq"]
    args = bottlenecks.parse_args(["--smoke", "--seeds", "0", "1", "2"])
    path = bottlenecks.write_results(tmp_path, rows, runs, missing, impossible, args)
    markdown = path.read_text()
    assert "**9 of 12 runs have results so far**" in markdown
    assert "fsq-1.5k-s0, fsq-1.5k-s1, fsq-1.5k-s2" in markdown
    assert "| fsq |" not in markdown and "| adlif | spiking | 1.5 | 3 |" in markdown
    assert json.loads((tmp_path / "bottlenecks.json").read_text())["missing"] == [r.name for r in missing]


def test_the_command_line_checks_kinds_before_training(tmp_path):
    args = bottlenecks.parse_args(["--smoke"])
    assert args.scale == "smoke" and args.runs == "runs/bottlenecks-smoke" and bp.CEILING in args.kinds
    with pytest.raises(ConfigError, match="cannot import module 'nowhere'"):
        bottlenecks.main(["--smoke", "--kinds", "nowhere:Neuron", "--runs", str(tmp_path)])
    assert not any(tmp_path.iterdir())  # nothing trained
