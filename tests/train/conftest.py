"""Fixtures of the training tests."""

from __future__ import annotations

import pytest
import soundfile as sf


@pytest.fixture
def audio_dir(tmp_path, make_audio):
    """Two 1 s piano-like clips at 8 kHz, the tiny model's rate."""
    folder = tmp_path / "audio"
    folder.mkdir()
    for i in range(2):
        sf.write(folder / f"clip{i}.wav", make_audio(1.0, 8000, seed=i)[0], 8000)
    return folder


@pytest.fixture
def training_figure(tmp_path, monkeypatch):
    """`draw(csv_text)`: writes a run's logs/version_0/metrics.csv and returns the figure that
    `plot_training` draws from it (captured instead of saved)."""
    from snn_codec.eval import plots

    figures = []
    monkeypatch.setattr(plots, "save_png", lambda fig, path, dpi=100: figures.append(fig))
    logs = tmp_path / "logs" / "version_0"
    logs.mkdir(parents=True)

    def draw(csv_text: str):
        (logs / "metrics.csv").write_text(csv_text)
        plots.plot_training(tmp_path)
        return figures[-1]

    return draw
