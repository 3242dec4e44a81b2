"""Ctrl-C (SIGINT) or SIGTERM during training: the run stops after the step in progress and keeps it.

The first signal asks to stop. The trainer finishes the step in progress (and a validation already
running), then stops as if `max_steps` had been reached there, which is the path a resumed run continues
from exactly; `run_training` then saves the checkpoint and raises `TrainingInterrupted`. A second signal
stops at once, without saving.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on a signal; `checkpoint` holds its last completed step, `step`."""

    def __init__(self, step: int, checkpoint: Path):
        super().__init__(f"interrupted at step {step}; saved {checkpoint}: run the same command again to resume")
        self.step, self.checkpoint = step, checkpoint


class StopOnSignal(Callback):
    """Turns SIGINT and SIGTERM during `fit` into a stop after the current step (see the module docstring).

    `stopped_at` is the step training stopped at on a signal (None while no signal came). `notify`
    prints a line when the first signal arrives, since the step (or validation) may take a while.
    """

    def __init__(self, notify: bool = True):
        self.notify = notify
        self.received: str | None = None  # the first signal's name
        self.stopped_at: int | None = None
        self._previous: dict[int, object] = {}

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # Installed here, after Lightning's own SIGTERM handler (set when fit starts), which would end the
        # run without a checkpoint. Lightning restores the handlers of before fit when it tears down.
        if threading.current_thread() is threading.main_thread():
            self._previous = {signum: signal.signal(signum, self._receive) for signum in SIGNALS}

    def _receive(self, signum: int, frame) -> None:
        if self.received is not None:
            raise KeyboardInterrupt
        self.received = signal.Signals(signum).name
        if self.notify:
            print(f"\n{self.received}: stopping after the current step (once more to quit without saving)",
                  file=sys.stderr, flush=True)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs, batch,
                           batch_idx: int) -> None:
        # Any rank's signal stops every rank at the same step (under DDP they all step together).
        if trainer.strategy.reduce_boolean_decision(self.received is not None, all=False):
            self.stopped_at = trainer.global_step
            trainer.fit_loop.epoch_loop.max_steps = trainer.global_step

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._restore()

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        self._restore()

    def _restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}
