"""Training and evaluation data: generated piano MIDI, fluidsynth rendering, corpora and Datasets."""

from __future__ import annotations

from snn_codec.data.datasets import AudioCropDataset, dataset_files, list_audio_files, maestro_files
from snn_codec.data.midi_gen import Note, Piece, generate_piece
from snn_codec.data.render import RenderError, find_soundfonts, render_midi
from snn_codec.data.synth_piano import build_corpus, render_example

__all__ = [
    "AudioCropDataset",
    "Note",
    "Piece",
    "RenderError",
    "build_corpus",
    "dataset_files",
    "find_soundfonts",
    "generate_piece",
    "list_audio_files",
    "maestro_files",
    "render_example",
    "render_midi",
]
