"""Checkpoints are read as data only: a run folder's checkpoint cannot run code when resumed or exported."""

from __future__ import annotations

import pathlib

import pytest
import torch

from snn_codec.errors import CodecError
from snn_codec.train.checkpoints import load_checkpoint
from snn_codec.train.run import export_checkpoint, run_training


class RunsCode:
    """Unpickling this creates the marker file: what a hostile checkpoint would do."""

    def __init__(self, marker: pathlib.Path):
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (self.marker,)


def hostile_checkpoint(path: pathlib.Path, marker: pathlib.Path) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"global_step": 1, "state_dict": {}, "payload": RunsCode(marker)}, path)
    return path


def test_a_checkpoint_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "ran"
    path = hostile_checkpoint(tmp_path / "evil.ckpt", marker)
    with pytest.raises(CodecError, match="refused to load this checkpoint"):
        load_checkpoint(path)
    assert not marker.exists()
    torch.load(path, weights_only=False)  # the check above is real: unpickling it the old way runs the code
    assert marker.exists()


def test_resume_and_export_refuse_a_hostile_run_folder(tmp_path, tiny_config):
    from snn_codec.config import Config, DataConfig, TrainConfig

    marker = tmp_path / "ran"
    run_dir = tmp_path / "run"
    hostile_checkpoint(run_dir / "checkpoints" / "last.ckpt", marker)
    data = DataConfig(train=f"folder:{tmp_path}", validation=f"folder:{tmp_path}")
    config = Config(model=tiny_config, train=TrainConfig(steps=1, data=data))
    with pytest.raises(CodecError, match="refused to load this checkpoint"):
        run_training(config, run_dir, progress=False)
    with pytest.raises(CodecError, match="refused to load this checkpoint"):
        export_checkpoint(run_dir, tmp_path / "out.safetensors")
    assert not marker.exists()


def test_damaged_checkpoints_are_codec_errors(tmp_path):
    path = tmp_path / "cut.ckpt"
    torch.save({"global_step": 3}, path)
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(CodecError, match="cannot read the checkpoint"):
        load_checkpoint(path)
    torch.save([1, 2], path)
    with pytest.raises(CodecError, match="not a training checkpoint"):
        load_checkpoint(path)
