"""Listener records: one JSON file per listener in TEST_DIR/results, rewritten atomically on every rating.

```json
{"format": "snn_codec-mushra-ratings", "listener": "ana", "seed": 0, "started": "...", "updated": "...",
 "trials": [{"clip": "etude", "order": ["anchor-7kHz", "reference", ...],
             "scores": {"anchor-7kHz": 41, ...}, "submitted": false}, ...]}
```
`order` is the order of the blind slots the listener saw; scores are stored by condition name.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timezone
from pathlib import Path

from snn_codec.audio import atomic_output
from snn_codec.errors import CodecError, FormatError
from snn_codec.listen.design import ListeningTest, listener_trials
from snn_codec.listen.systems import HIDDEN_REFERENCE

RECORD_FORMAT = "snn_codec-mushra-ratings"
LISTENER_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_SCORE = 100


class RatingError(CodecError):
    """A submission the server refuses: the message says what is wrong."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def check_listener(name: object) -> str:
    """A listener name is also a file name: 1 to 64 letters, digits, '-' or '_'."""
    if not isinstance(name, str) or not LISTENER_NAME.fullmatch(name):
        raise RatingError("listener name: use 1 to 64 letters, digits, '-' or '_'")
    return name


def _check_scores(scores: object, slots: int, submit: bool) -> list[int | None]:
    if not isinstance(scores, list) or len(scores) != slots:
        raise RatingError(f"scores: expected a list of {slots} values (a score or null per slot)")
    for score in scores:
        is_int = isinstance(score, int) and not isinstance(score, bool)
        if score is not None and not (is_int and 0 <= score <= MAX_SCORE):
            raise RatingError(f"scores: each must be an integer from 0 to {MAX_SCORE} or null, got {score!r}")
    if submit and None in scores:
        raise RatingError("rate every condition before submitting the trial")
    return scores


class SessionStore:
    """Creates, reads and updates listener records; safe to call from several server threads."""

    def __init__(self, test: ListeningTest):
        self.test = test
        self._lock = threading.Lock()

    def path(self, listener: str) -> Path:
        return self.test.results_dir / f"{check_listener(listener)}.json"

    def _read(self, listener: str) -> dict | None:
        path = self.path(listener)
        if not path.is_file():
            return None
        try:
            record = json.loads(path.read_text())
        except (ValueError, OSError) as err:
            raise FormatError(f"{path}: unreadable ratings ({err})") from None
        if record.get("format") != RECORD_FORMAT or [t["clip"] for t in record["trials"]] != [
            t.clip for t in listener_trials(self.test, listener)
        ]:
            raise FormatError(f"{path}: these ratings belong to another test; move the file away")
        return record

    def _write(self, record: dict) -> None:
        record["updated"] = _now()
        self.test.results_dir.mkdir(exist_ok=True)
        with atomic_output(self.path(record["listener"])) as tmp:
            Path(tmp).write_text(json.dumps(record, indent=2))

    def open(self, listener: str) -> dict:
        """The listener's record; a new one (with its randomised order, saved at once) on the first visit."""
        with self._lock:
            record = self._read(listener)
            if record is None:
                trials = [{"clip": t.clip, "order": t.order, "scores": {}, "submitted": False}
                          for t in listener_trials(self.test, listener)]
                record = {"format": RECORD_FORMAT, "listener": listener, "seed": self.test.seed,
                          "started": _now(), "trials": trials}
                self._write(record)
            return record

    def rate(self, listener: str, trial: object, scores: object, submit: bool = False) -> dict:
        """Stores the scores of one trial, given per slot in the listener's order; returns the record."""
        with self._lock:
            record = self._read(listener)
            if record is None:
                raise RatingError(f"unknown listener {listener!r}: open the test page first")
            trials = record["trials"]
            if not isinstance(trial, int) or isinstance(trial, bool) or not 0 <= trial < len(trials):
                raise RatingError(f"trial: expected an integer from 0 to {len(trials) - 1}")
            entry = trials[trial]
            checked = _check_scores(scores, len(entry["order"]), bool(submit))
            entry["scores"] = {name: s for name, s in zip(entry["order"], checked) if s is not None}
            entry["submitted"] = entry["submitted"] or bool(submit)
            self._write(record)
            return record


def next_trial(record: dict) -> int:
    """Index of the first trial not submitted yet (the number of trials when all are done)."""
    return next((i for i, t in enumerate(record["trials"]) if not t["submitted"]), len(record["trials"]))


def page_state(test: ListeningTest, record: dict) -> dict:
    """What the page needs for one listener: blind trials (file URLs per slot, saved scores), where to resume."""
    trials = []
    for entry in record["trials"]:
        clip = test.clip(entry["clip"])
        trials.append({
            "reference": "/" + clip.reference,
            "stimuli": ["/" + clip.stimuli[name] for name in entry["order"]],
            "scores": [entry["scores"].get(name) for name in entry["order"]],
            "submitted": entry["submitted"],
        })
    return {"listener": record["listener"], "trials": trials, "next": next_trial(record)}


def training_state(test: ListeningTest) -> list[dict]:
    """The training phase: every clip with its conditions by name (unblinded), the hidden reference left out."""
    return [{
        "clip": clip.name,
        "reference": "/" + clip.reference,
        "conditions": [{"name": name, "url": "/" + path} for name, path in sorted(clip.stimuli.items())
                       if name != HIDDEN_REFERENCE],
    } for clip in test.clips]
