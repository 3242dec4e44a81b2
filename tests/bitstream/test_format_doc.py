"""docs/format.md describes the code: its constants, field tables and coder ids are parsed and checked here,
and a file is rebuilt field by field from the tables alone."""

from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from snn_codec.bitstream import CODERS, EVENT_CODERS, Header
from snn_codec.bitstream import container as v1
from snn_codec.bitstream import entropy, stream
from snn_codec.bitstream.base import MAX_ALPHABET, MAX_CHUNK_CELLS, MAX_FRAMES, MAX_UNITS

DOC = (Path(__file__).parents[2] / "docs" / "format.md").read_text()
TYPES = {"u8": "B", "u16": "H", "u32": "I", "u64": "Q"}


def constant(name: str) -> str:
    match = re.search(rf"^{name}: `?([^`\n]+)`?$", DOC, re.MULTILINE)
    assert match, f"docs/format.md does not state {name}"
    return match.group(1)


def table(section: str) -> list[dict[str, str]]:
    """The first table after the heading `## section`, as rows of {column: cell}."""
    body = DOC.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in body.splitlines() if line.startswith("|")]
    columns = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [dict(zip(columns, (cell.strip() for cell in line.strip("|").split("|")))) for line in lines[2:]]


def fixed_format(rows: list[dict[str, str]]) -> str:
    """The struct format of a table's leading fixed-size fields, checking that the offsets add up."""
    fmt, offset = "<", 0
    for row in rows:
        if not row["size"].isdigit():
            break
        assert int(row["offset"]) == offset, row
        fmt += TYPES.get(row["type"], f"{row['size']}s")
        offset += int(row["size"])
        assert struct.calcsize(fmt) == offset
    return fmt


def test_constants_match_the_code():
    assert constant("MAGIC").encode() == v1.MAGIC
    assert int(constant("VERSION")) == stream.VERSION
    assert int(constant("CHUNK_HEAD_SIZE")) == stream._CHUNK.size
    assert int(constant("LAST_FLAG")) == stream.LAST
    assert int(constant("PRECISION_BITS")) == entropy.PRECISION_BITS
    assert int(constant("COUNT_LIMIT")) == entropy.COUNT_LIMIT
    versions = {int(row["version"]) for row in table("Versions")}
    assert versions == set(stream.READ_VERSIONS)


def test_field_tables_match_the_structs():
    assert fixed_format(table("Header (versions 2 and 3)")) == stream._FIXED.format
    assert fixed_format(table("Chunks (version 3)")) == stream._CHUNK.format
    assert fixed_format(table("Chunks (version 2)")) == stream._CHUNK_V2.format
    assert fixed_format(table("Version 1")) == v1._FIXED.format


def test_stated_ranges_match_the_limits():
    meaning = {row["field"]: row["meaning"] for row in table("Header (versions 2 and 3)")}
    assert f"1..{v1.MAX_SAMPLE_RATE}" in meaning["sample_rate"]
    assert f"1..{v1.MAX_CHANNELS}" in meaning["channels"]
    assert f"0..2^{v1.MAX_SAMPLES.bit_length() - 1}" in meaning["num_samples"]
    assert f"1..{MAX_UNITS}" in meaning["num_units"]
    assert f"0..2^{MAX_FRAMES.bit_length() - 1}" in meaning["num_frames"]
    assert f"1..{stream.MAX_CHUNK_FRAMES}" in meaning["chunk_frames"]
    assert f"N x F <= 2^{MAX_CHUNK_CELLS.bit_length() - 1}" in meaning["chunk_frames"]
    assert f"2 <= K <= {MAX_ALPHABET}" in DOC


def test_coder_table_matches_the_registry():
    documented = {int(row["coder_id"]): (row["name"], row["payload kind"]) for row in table("Coders")}
    assert documented == {
        coder.coder_id: (name, "codebook indices" if coder.stores_indices else "binary events")
        for name, coder in CODERS.items()
    }


def test_a_file_built_from_the_tables_alone_equals_what_the_writer_writes():
    events = np.random.default_rng(0).random((5, 9)) < 0.4  # N = 5, T = 9, F = 4: chunks of 4, 4 and 1 frames
    header = Header(sample_rate=8000, num_samples=9 * 160, channels=2, model_id="doc", weight_hash=bytes(range(16)),
                    coder_id=1, num_units=5, num_frames=9)
    out = io.BytesIO()
    writer = stream.ContainerWriter(out, stream.StreamHeader(header, 4), [EVENT_CODERS["dense"]])
    writer.write_events(events)
    writer.close()

    values = {"magic": b"SNNC", "version": 3, "sample_rate": 8000, "num_samples": 9 * 160, "channels": 2,
              "coder_id": 1, "num_units": 5, "num_frames": 9, "chunk_frames": 4, "weight_hash": bytes(range(16)),
              "model_id_length": 3}
    rows = table("Header (versions 2 and 3)")
    fixed = rows[: [row["size"].isdigit() for row in rows].index(False)]  # the fields before model_id
    head = struct.pack(fixed_format(rows), *(values[row["field"]] for row in fixed))
    head += b"doc"
    built = head + struct.pack("<I", zlib.crc32(head))
    link = built[-4:]
    for index, start in enumerate(range(0, 9, 4)):
        frames = events[:, start : start + 4]
        payload = np.packbits(frames.T.ravel()).tobytes()  # dense: frame-major, MSB first
        chunk = struct.pack(fixed_format(table("Chunks (version 3)")), index, 1 if start + 4 >= 9 else 0, 1,
                            len(payload)) + payload
        link = struct.pack("<I", zlib.crc32(link + chunk))
        built += chunk + link
    assert built == out.getvalue()


@pytest.mark.parametrize("section", ["Header (versions 2 and 3)", "Chunks (version 3)", "Chunks (version 2)",
                                     "Version 1"])
def test_every_table_field_is_described(section):
    assert all(row["meaning"] for row in table(section))
