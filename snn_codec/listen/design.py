"""A MUSHRA test (ITU-R BS.1534-3) on disk: stimuli, the test description, and each listener's trial order.

```
TEST_DIR/
  test.json              clips, conditions, stimulus files, bitrates, seed (written last)
  stimuli/<token>.wav    every stimulus, loudness matched, at one sample rate; names reveal nothing
  encoded/<clip>/<system>.snnc   what the bitrates were measured on
  results/<listener>.json        ratings, saved as they are given
```
Every trial holds the hidden reference and two low-pass anchors (3.5 kHz, and the mid-range 7 kHz)
besides the systems under test.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from snn_codec.audio import atomic_output, fit_length, resample, save_audio
from snn_codec.errors import CodecError, ConfigError, FormatError
from snn_codec.listen.dsp import fade, gain_to, lowpass
from snn_codec.listen.systems import HIDDEN_REFERENCE, Clip, System

TEST_FILE = "test.json"
STIMULI_DIR = "stimuli"
ENCODED_DIR = "encoded"
RESULTS_DIR = "results"
ANCHORS = {"anchor-3.5kHz": 3500.0, "anchor-7kHz": 7000.0}
MID_ANCHOR = "anchor-7kHz"
TARGET_LUFS = -23.0
PEAK_LIMIT = 0.95  # a trial whose loudest stimulus would exceed this is turned down as a whole
FORMAT = "snn_codec-mushra"


@dataclass(frozen=True)
class TestClip:
    """One trial's material. Paths are relative to the test folder."""

    name: str
    reference: str
    stimuli: dict[str, str]  # condition name -> file (the hidden reference and anchors included)
    bitrate_kbps: dict[str, float]  # condition name -> kbps, where known


@dataclass(frozen=True)
class ListeningTest:
    """A built test: where it lives and what it holds."""

    folder: Path
    seed: int
    sample_rate: int
    conditions: dict[str, dict]  # condition name -> description ({"kind": "model", ...})
    clips: list[TestClip]

    @property
    def results_dir(self) -> Path:
        return self.folder / RESULTS_DIR

    def clip(self, name: str) -> TestClip:
        return next(c for c in self.clips if c.name == name)

    def save(self) -> None:
        record = {"format": FORMAT, "version": 1, "seed": self.seed, "sample_rate": self.sample_rate,
                  "conditions": self.conditions, "clips": [asdict(c) for c in self.clips]}
        with atomic_output(self.folder / TEST_FILE) as tmp:
            Path(tmp).write_text(json.dumps(record, indent=2))


def load_test(folder: str | os.PathLike) -> ListeningTest:
    """Reads TEST_DIR/test.json."""
    path = Path(folder) / TEST_FILE
    if not path.is_file():
        raise CodecError(f"{folder}: not a listening test (no {TEST_FILE}); build one with `snn-codec listen`")
    try:
        record = json.loads(path.read_text())
        if record.get("format") != FORMAT:
            raise ValueError("not a listening test description")
        clips = [TestClip(**c) for c in record["clips"]]
        return ListeningTest(Path(folder), int(record["seed"]), int(record["sample_rate"]),
                             dict(record["conditions"]), clips)
    except (ValueError, KeyError, TypeError) as err:
        raise FormatError(f"{path}: damaged test description ({err})") from None


@dataclass(frozen=True)
class Trial:
    """One trial as a listener meets it: the clip, and the conditions in the order of the blind slots."""

    clip: str
    order: list[str]


def listener_trials(test: ListeningTest, listener: str) -> list[Trial]:
    """The trial order and, per trial, the slot order for `listener`: random, but fixed by (seed, listener)."""
    rng = random.Random(f"{test.seed}/{listener}")
    clips = list(test.clips)
    rng.shuffle(clips)
    return [Trial(c.name, rng.sample(sorted(c.stimuli), len(c.stimuli))) for c in clips]


def _token(seed: int, clip: str, condition: str) -> str:
    return hashlib.sha256(f"{seed}/{clip}/{condition}".encode()).hexdigest()[:16]


def trial_signals(reference: np.ndarray, outputs: dict[str, np.ndarray], sample_rate: int) -> dict[str, np.ndarray]:
    """Reference, hidden reference, anchors and system outputs, loudness matched and faded.

    Args:
        reference: (channels, S) at `sample_rate`.
        outputs: system name -> (channels, S) at `sample_rate`.

    Returns:
        condition name -> (channels, S); the reference itself under the empty name "".
    """
    raw = {"": reference, HIDDEN_REFERENCE: reference, **outputs}
    raw.update({name: lowpass(reference, sample_rate, cutoff) for name, cutoff in ANCHORS.items()})
    matched = {name: x * gain_to(x, sample_rate, TARGET_LUFS) for name, x in raw.items()}
    peak = max(float(np.abs(x).max(initial=0.0)) for x in matched.values())
    scale = min(1.0, PEAK_LIMIT / peak) if peak > 0 else 1.0
    return {name: fade(x * scale, sample_rate) for name, x in matched.items()}


def _prepare_folder(folder: Path, force: bool) -> None:
    if (folder / TEST_FILE).exists() and not force:
        raise CodecError(f"{folder} already holds a listening test; pass --force to rebuild it")
    if any((folder / RESULTS_DIR).glob("*.json")) and not force:
        raise CodecError(f"{folder / RESULTS_DIR} holds ratings; use another folder or pass --force")
    for sub in (STIMULI_DIR, ENCODED_DIR):
        shutil.rmtree(folder / sub, ignore_errors=True)
        (folder / sub).mkdir(parents=True)
    (folder / RESULTS_DIR).mkdir(exist_ok=True)


def build_test(
    clips: list[Clip],
    systems: list[System],
    folder: str | os.PathLike,
    *,
    seed: int = 0,
    sample_rate: int = 48000,
    force: bool = False,
    progress: bool = False,
) -> ListeningTest:
    """Renders every clip through every system and writes a ready-to-serve MUSHRA test into `folder`.

    Args:
        clips: the references (see `systems.load_clips`).
        systems: the conditions under test (see `systems.load_systems`).
        seed: fixes each listener's randomised trial and slot order.
        sample_rate: rate of every stimulus (Hz); the anchors need at least 16 kHz to mean anything.
        force: rebuild over an existing test.
    """
    if sample_rate <= 2 * max(ANCHORS.values()):
        raise ConfigError(f"a sample rate of {sample_rate} Hz cannot hold the {max(ANCHORS.values()):g} Hz anchor; "
                          "use 16000 Hz or more")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _prepare_folder(folder, force)
    built = []
    for clip in tqdm(clips, desc="render", unit="clip", disable=not progress, leave=False):
        renderings = {system.name: system.render(clip) for system in systems}
        for name, rendering in renderings.items():
            if rendering.snnc is not None:
                (folder / ENCODED_DIR / clip.name).mkdir(exist_ok=True)
                (folder / ENCODED_DIR / clip.name / f"{name}.snnc").write_bytes(rendering.snnc)
        reference = resample(clip.audio.samples, clip.audio.sample_rate, sample_rate)
        at_rate = {name: fit_length(resample(r.audio.samples, clip.audio.sample_rate, sample_rate), reference.shape[-1])
                   for name, r in renderings.items()}
        files = {}
        for name, samples in trial_signals(reference, at_rate, sample_rate).items():
            files[name] = f"{STIMULI_DIR}/{_token(seed, clip.name, name or '(reference)')}.wav"
            save_audio(folder / files[name], samples, sample_rate)
        kbps = {name: r.bitrate_kbps for name, r in renderings.items() if r.bitrate_kbps is not None}
        built.append(TestClip(clip.name, files.pop(""), files, kbps))
    conditions = {HIDDEN_REFERENCE: {"kind": "hidden_reference"}}
    conditions.update({name: {"kind": "anchor", "cutoff_hz": cutoff} for name, cutoff in ANCHORS.items()})
    conditions.update({system.name: system.describe() for system in systems})
    test = ListeningTest(folder, seed, sample_rate, conditions, built)
    test.save()
    return test

