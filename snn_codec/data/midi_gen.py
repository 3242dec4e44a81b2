"""A generator of musically plausible solo-piano MIDI, for synthetic training corpora.

Each piece has a random key and mode, a constant tempo (60-160 bpm), a meter (4/4 or 3/4) and a repeating
chord progression. The music is built phrase by phrase (4 bars each); every phrase draws a texture for the
right hand (stepwise melody, fast runs, repeated notes, sparse slow notes, chords/octaves), a left-hand
accompaniment (block chords, broken chords, Alberti bass, bass + chords), a dynamic level with a
crescendo or diminuendo, and maybe sustain pedal, so a corpus spans sparse to dense playing.

All times are integer ticks at a single tempo, so the seconds in `Note` are exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mido
import numpy as np

TICKS_PER_BEAT = 480
SIXTEENTH = TICKS_PER_BEAT // 4
TAIL_S = 1.5  # silence after the last note so the renderer keeps the release and reverb tail

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 11)  # harmonic minor: the dominant chord is major
MAJOR_KEYS = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MINOR_KEYS = ("Cm", "C#m", "Dm", "Ebm", "Em", "Fm", "F#m", "Gm", "G#m", "Am", "Bbm", "Bm")
PROGRESSIONS = (  # scale degrees, 0 = tonic: I-IV-V-I, I-vi-IV-V, I-V-vi-IV, vi-IV-I-V, ii-V-I-I, I-IV-ii-V
    (0, 3, 4, 0), (0, 5, 3, 4), (0, 4, 5, 3), (5, 3, 0, 4), (1, 4, 0, 0), (0, 3, 1, 4),
)
RIGHT_TEXTURES = ("melody", "runs", "repeated", "sparse", "chordal")
RIGHT_WEIGHTS = (0.4, 0.15, 0.1, 0.15, 0.2)
LEFT_TEXTURES = ("block", "broken", "alberti", "bass_chord")


@dataclass(frozen=True)
class Note:
    """One played note; `offset_s` is the key release (the pedal may sustain it longer)."""

    onset_s: float
    offset_s: float
    pitch: int
    velocity: int


@dataclass
class Piece:
    """A generated piece: the MIDI file, its notes sorted by onset, and how it was made."""

    midi: mido.MidiFile
    notes: list[Note]
    tempo_bpm: float
    key: str
    meter: int  # beats per bar
    program: int
    textures: list[str] = field(default_factory=list)


class _Builder:
    """Collects notes and pedal events in ticks for one piece."""

    def __init__(self, rng: np.random.Generator, tonic: int, scale: tuple[int, ...], meter: int):
        self.rng, self.tonic, self.scale, self.meter = rng, tonic, scale, meter
        self.bar_ticks = meter * TICKS_PER_BEAT
        self.notes: list[tuple[int, int, int, int]] = []  # (start, end, pitch, velocity)
        self.pedal: list[tuple[int, int]] = []  # (tick, value)
        self.melody_degree = int(rng.integers(2, 9))

    def pitch(self, degree: int, base: int) -> int:
        """Scale degree (0 = tonic, may be negative or above 6) -> MIDI pitch above `base`."""
        octave, step = divmod(degree, 7)
        return base + self.tonic + 12 * octave + self.scale[step]

    def add(self, start: int, length: int, pitch: int, velocity: float) -> None:
        if length > 0 and 21 <= pitch <= 108:
            self.notes.append((start, start + length, pitch, int(np.clip(round(velocity), 30, 120))))

    def durations(self, total: int, choices: tuple[int, ...], weights: tuple[float, ...]) -> list[int]:
        """Random note lengths in sixteenths that fill `total` sixteenths exactly."""
        out: list[int] = []
        probs = np.asarray(weights) / np.sum(weights)
        while total > 0:
            length = int(self.rng.choice(choices, p=probs))
            length = min(length, total)
            out.append(length)
            total -= length
        return out

    def step_melody(self, chord: int, on_beat: bool, leap_prob: float) -> int:
        rng, degree = self.rng, self.melody_degree
        if rng.random() < leap_prob:
            degree += int(rng.choice([-5, -4, -3, 3, 4, 5]))
        else:
            degree += int(rng.choice([-2, -1, 0, 1, 2], p=[0.1, 0.35, 0.1, 0.35, 0.1]))
        if on_beat and rng.random() < 0.6:  # land on the nearest chord tone
            tones = [t for t in range(degree - 3, degree + 4) if (t - chord) % 7 in (0, 2, 4)]
            degree = min(tones, key=lambda t: abs(t - degree))
        if degree < 0 or degree > 12:  # keep the melody between about C4 and A5 (+ the key)
            degree = self.melody_degree - (degree - self.melody_degree)
        self.melody_degree = int(np.clip(degree, 0, 12))
        return self.melody_degree

    def right_bar(self, start: int, chord: int, texture: str, velocity: float) -> None:
        rng, sixteenths = self.rng, self.meter * 4
        if texture == "runs":
            direction = int(rng.choice([-1, 1]))
            for i in range(sixteenths):
                if rng.random() < 0.15 or not 0 < self.melody_degree + direction < 14:
                    direction = -direction
                self.melody_degree += direction
                self.add(start + i * SIXTEENTH, SIXTEENTH, self.pitch(self.melody_degree, 60),
                         velocity + (8 if i % 4 == 0 else 0))
            self.melody_degree = int(np.clip(self.melody_degree, 0, 12))
            return
        if texture == "repeated":
            lengths = [2] * (sixteenths // 2)
        elif texture == "sparse":
            lengths = self.durations(sixteenths, (4, 8, 12, 16), (0.2, 0.4, 0.2, 0.2))
        elif texture == "chordal":
            lengths = self.durations(sixteenths, (2, 4, 6, 8), (0.15, 0.5, 0.15, 0.2))
        else:
            lengths = self.durations(sixteenths, (1, 2, 3, 4, 6, 8), (0.05, 0.35, 0.1, 0.3, 0.1, 0.1))
        position = 0
        for i, length in enumerate(lengths):
            tick, ticks = start + position * SIXTEENTH, length * SIXTEENTH
            on_beat = position % 4 == 0
            position += length
            if texture != "sparse" and rng.random() < 0.08:
                continue  # a rest
            if texture == "repeated" and i % 4 != 0:
                degree = self.melody_degree
            else:
                degree = self.step_melody(chord, on_beat, 0.05 if texture == "repeated" else 0.12)
            top = self.pitch(degree, 60)
            accent = 10 if position - length == 0 else (5 if on_beat else 0)
            self.add(tick, ticks, top, velocity + accent)
            if texture == "chordal" or (texture == "melody" and on_beat and rng.random() < 0.15):
                if rng.random() < 0.4:
                    self.add(tick, ticks, top - 12, velocity + accent - 5)  # octave
                else:
                    for below in (2, 4) if rng.random() < 0.5 else (2,):  # third (and fifth) below
                        self.add(tick, ticks, self.pitch(degree - below, 60), velocity + accent - 8)

    def left_bar(self, start: int, chord: int, texture: str, velocity: float, sparse: bool) -> None:
        rng, beat = self.rng, TICKS_PER_BEAT
        base = 36 if self.tonic >= 6 else 48
        root = self.pitch(chord, base - 12)
        triad = [self.pitch(chord + k, base) for k in (0, 2, 4)]
        if sparse or texture == "block":
            hits = [(0, self.bar_ticks)] if sparse or rng.random() < 0.5 else [(b * beat, beat) for b in range(self.meter)]
            for tick, length in hits:
                self.add(start + tick, length, root, velocity + 5)
                for pitch in triad:
                    self.add(start + tick, length, pitch, velocity - 5)
        elif texture == "broken":
            pattern = [root] + triad + [triad[1] + 12, triad[2]] + triad[:2]
            step = beat // 2
            for i in range(self.bar_ticks // step):
                self.add(start + i * step, step, pattern[i % len(pattern)], velocity - (0 if i == 0 else 8))
        elif texture == "alberti":
            pattern = [triad[0], triad[2], triad[1], triad[2]]
            step = beat // 2 if rng.random() < 0.6 else beat // 4
            for i in range(self.bar_ticks // step):
                self.add(start + i * step, step, pattern[i % 4], velocity - (0 if i == 0 else 10))
        else:  # bass_chord: bass on the downbeat, chords on the other beats (a waltz in 3/4)
            self.add(start, beat, root, velocity + 5)
            self.add(start, beat, root + 12, velocity - 5)
            for b in range(1, self.meter):
                for pitch in triad[1:] + [triad[0] + 12]:
                    self.add(start + b * beat, beat // 2 + beat // 4, pitch, velocity - 12)


def _phrase_velocities(rng: np.random.Generator, texture: str, bars: int) -> np.ndarray:
    level = rng.uniform(40, 100) - (15 if texture == "sparse" else 0)
    swell = rng.uniform(-20, 20)  # crescendo (> 0) or diminuendo (< 0) over the phrase
    return level + swell * np.linspace(0, 1, bars)


def _remove_overlaps(notes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """One pitch sounds once at a time: a note is cut where the next note of the same pitch starts."""
    notes = sorted(set(notes))
    out: list[tuple[int, int, int, int]] = []
    last: dict[int, int] = {}  # pitch -> index in `out`
    for start, end, pitch, velocity in notes:
        if pitch in last:
            i = last[pitch]
            prev = out[i]
            if prev[0] == start:
                continue  # the same pitch struck twice at once: keep the first
            out[i] = (prev[0], min(prev[1], start), prev[2], prev[3])
        last[pitch] = len(out)
        out.append((start, end, pitch, velocity))
    return out


def generate_piece(rng: np.random.Generator, duration_s: float) -> Piece:
    """Generates a solo-piano piece of about `duration_s` seconds (notes end by then).

    Args:
        rng: the randomness; the same seed gives the same piece.
        duration_s: length of the music in seconds (the MIDI file adds a short silent tail).

    Returns:
        The Piece, with notes sorted by onset then pitch.
    """
    if not duration_s > 0:
        raise ValueError(f"duration_s must be positive, got {duration_s}")
    tempo_bpm = float(rng.integers(60, 161))
    tempo = mido.bpm2tempo(tempo_bpm)
    meter = int(rng.choice([4, 3], p=[0.75, 0.25]))
    tonic, minor = int(rng.integers(0, 12)), bool(rng.random() < 0.4)
    key = (MINOR_KEYS if minor else MAJOR_KEYS)[tonic]
    program = int(rng.choice([0, 1], p=[0.7, 0.3]))
    progression = PROGRESSIONS[int(rng.integers(len(PROGRESSIONS)))]
    if minor:  # avoid the diminished ii in minor
        progression = tuple(4 if d == 1 else d for d in progression)
    builder = _Builder(rng, tonic, MINOR if minor else MAJOR, meter)
    end_tick = int(duration_s * 1e6 * TICKS_PER_BEAT / tempo + 1e-6)  # floor: no note ends after duration_s
    num_bars = -(-end_tick // builder.bar_ticks)
    textures = []
    for phrase_start in range(0, num_bars, 4):
        right = str(rng.choice(RIGHT_TEXTURES, p=RIGHT_WEIGHTS))
        left = str(rng.choice(LEFT_TEXTURES[:3] + (("bass_chord",) if meter == 3 or rng.random() < 0.3 else ())))
        textures.append(f"{right}/{left}")
        pedal = rng.random() < (0.8 if right == "sparse" or left == "broken" else 0.35)
        bars = range(phrase_start, min(phrase_start + 4, num_bars))
        velocities = _phrase_velocities(rng, right, len(bars))
        for bar, velocity in zip(bars, velocities):
            start = bar * builder.bar_ticks
            chord = progression[bar % len(progression)]
            builder.right_bar(start, chord, right, velocity)
            builder.left_bar(start, chord, left, velocity - 10, sparse=right == "sparse")
            if pedal:
                builder.pedal += [(start, 0), (start + SIXTEENTH, 127)]
        if pedal:
            builder.pedal.append((bars[-1] * builder.bar_ticks + builder.bar_ticks - SIXTEENTH, 0))
    ticks = [(s, min(e, end_tick), p, v) for s, e, p, v in builder.notes if s < end_tick]
    ticks = [n for n in _remove_overlaps(ticks) if n[1] > n[0]]
    midi = _to_midi(ticks, [(t, v) for t, v in builder.pedal if t < end_tick], tempo, meter, key, program,
                    end_tick + int(mido.second2tick(TAIL_S, TICKS_PER_BEAT, tempo)))
    seconds = lambda tick: mido.tick2second(tick, TICKS_PER_BEAT, tempo)  # noqa: E731
    notes = [Note(seconds(s), seconds(e), p, v) for s, e, p, v in ticks]
    return Piece(midi, notes, tempo_bpm, key, meter, program, textures)


def _to_midi(notes, pedal, tempo: int, meter: int, key: str, program: int, last_tick: int) -> mido.MidiFile:
    events: list[tuple[int, int, mido.Message]] = []  # (tick, order, message): offs before ons
    for start, end, pitch, velocity in notes:
        events.append((end, 0, mido.Message("note_off", note=pitch, velocity=0)))
        events.append((start, 2, mido.Message("note_on", note=pitch, velocity=velocity)))
    for tick, value in pedal:
        events.append((tick, 1, mido.Message("control_change", control=64, value=value)))
    events.sort(key=lambda e: (e[0], e[1], e[2].bytes()))
    track = mido.MidiTrack([
        mido.MetaMessage("set_tempo", tempo=tempo, time=0),
        mido.MetaMessage("time_signature", numerator=meter, denominator=4, time=0),
        mido.MetaMessage("key_signature", key=key, time=0),
        mido.Message("program_change", program=program, time=0),
    ])
    now = 0
    for tick, _, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, last_tick - now)))
    midi = mido.MidiFile(ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(track)
    return midi
