"""Fixtures of the training tests."""

from __future__ import annotations

import pytest


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
