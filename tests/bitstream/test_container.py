"""The .snnc container: layout, round trip, and every way a file can be damaged or foreign."""

from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snn_codec.bitstream import CRC_SIZE, MAGIC, VERSION, Header, header_size, pack, read_header, unpack
from snn_codec.errors import ConfigError, FormatError

HEADER = Header(
    sample_rate=24000,
    num_samples=48000,
    channels=2,
    model_id="piano-v1",
    weight_hash=bytes(range(16)),
    coder_id=2,
    num_units=128,
    num_frames=100,
)
PAYLOAD = b"\x80\x01spikes\xff"


def forge(version: int = VERSION, model_id: bytes = b"piano-v1", payload: bytes = PAYLOAD, **values) -> bytes:
    """Build .snnc bytes by hand, with a valid CRC, from any field values (even absurd ones)."""
    fields = {
        "sample_rate": 24000, "num_samples": 48000, "channels": 2, "coder_id": 2,
        "num_units": 128, "num_frames": 100, "payload_length": len(payload),
    }
    fields.update(values)
    body = (
        MAGIC
        + struct.pack("<BIQHBHI", version, fields["sample_rate"], fields["num_samples"], fields["channels"],
                      fields["coder_id"], fields["num_units"], fields["num_frames"])
        + bytes(range(16))
        + bytes([len(model_id)]) + model_id
        + struct.pack("<Q", fields["payload_length"])
        + payload
    )
    return body + struct.pack("<I", zlib.crc32(body))


def test_round_trip():
    data = pack(HEADER, PAYLOAD)
    assert unpack(data) == (HEADER, PAYLOAD)
    assert unpack(bytearray(data)) == (HEADER, PAYLOAD)
    assert read_header(data) == HEADER
    assert len(data) == header_size(HEADER) + len(PAYLOAD) + CRC_SIZE


def test_byte_layout_matches_the_documented_one():
    data = pack(HEADER, PAYLOAD)
    assert data == forge()
    assert data[:4] == b"SNNC" and data[4] == 1
    assert struct.unpack_from("<I", data, 5)[0] == 24000
    assert struct.unpack_from("<Q", data, 9)[0] == 48000
    assert struct.unpack_from("<HBHI", data, 17) == (2, 2, 128, 100)
    assert data[26:42] == bytes(range(16))
    assert data[42] == 8 and data[43:51] == b"piano-v1"
    assert struct.unpack_from("<Q", data, 51)[0] == len(PAYLOAD)
    assert data[59:-4] == PAYLOAD
    assert struct.unpack("<I", data[-4:])[0] == zlib.crc32(data[:-4])


def test_read_header_needs_only_the_header_bytes():
    data = pack(HEADER, PAYLOAD)
    assert read_header(data[: header_size(HEADER)]) == HEADER
    with pytest.raises(FormatError, match="truncated"):
        read_header(data[: header_size(HEADER) - 1])


@settings(max_examples=80, deadline=None, database=None)
@given(
    sample_rate=st.integers(1, 768000),
    num_samples=st.integers(0, 2**40),
    channels=st.integers(1, 64),
    model_id=st.text(max_size=60),
    weight_hash=st.binary(min_size=16, max_size=16),
    coder_id=st.integers(0, 255),
    num_units=st.integers(1, 65535),
    num_frames=st.integers(0, 2**31),
    payload=st.binary(max_size=200),
)
def test_round_trip_any_valid_header(payload, **fields):
    header = Header(**fields)
    assert unpack(pack(header, payload)) == (header, payload)


def test_empty_payload_round_trips():
    assert unpack(pack(HEADER, b"")) == (HEADER, b"")


@pytest.mark.parametrize(
    "change",
    [
        {"sample_rate": 0}, {"channels": 65}, {"num_units": 0}, {"num_units": 65536},
        {"num_frames": 2**31 + 1}, {"num_samples": -1}, {"weight_hash": b"short"},
        {"model_id": "x" * 256}, {"coder_id": 256},
    ],
)
def test_pack_rejects_out_of_range_headers(change):
    fields = {**HEADER.__dict__, **change}
    with pytest.raises(ConfigError, match="cannot write .snnc header"):
        pack(Header(**fields), PAYLOAD)


def test_truncation_at_every_offset_raises():
    data = pack(HEADER, PAYLOAD)
    for cut in range(len(data)):
        with pytest.raises(FormatError, match="truncated|empty"):
            unpack(data[:cut])


def test_every_single_bit_flip_raises():
    data = pack(HEADER, PAYLOAD)
    for bit in range(8 * len(data)):
        damaged = bytearray(data)
        damaged[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(FormatError):
            unpack(bytes(damaged))


def test_checksum_mismatch_message():
    data = bytearray(pack(HEADER, PAYLOAD))
    data[-6] ^= 0x10  # inside the payload
    with pytest.raises(FormatError, match="corrupted: checksum mismatch"):
        unpack(bytes(data))


def test_trailing_bytes_raise():
    with pytest.raises(FormatError, match="trailing bytes"):
        unpack(pack(HEADER, PAYLOAD) + b"\0")


@pytest.mark.parametrize(
    "data",
    [
        b"RIFF\x24\x08\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\xbb\x00\x00",
        b"fLaC\x00\x00\x00\x22",
        b"ID3\x04",
        b"\x89PNG\r\n\x1a\n",
        b"X",
        bytes(range(256)),
    ],
)
def test_foreign_bytes_are_not_a_snnc_file(data):
    with pytest.raises(FormatError, match="not a .snnc file"):
        unpack(data)
    with pytest.raises(FormatError, match="not a .snnc file"):
        read_header(data)


def test_empty_input():
    with pytest.raises(FormatError, match="empty"):
        unpack(b"")


@pytest.mark.parametrize("version", [0, 2, 255])
def test_unsupported_version(version):
    message = f"unsupported .snnc version {version}; this snn_codec reads version 1"
    with pytest.raises(FormatError, match=message):
        unpack(forge(version=version))
    with pytest.raises(FormatError, match=message):
        read_header(forge(version=version))


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"sample_rate": 0}, "sample_rate"),
        ({"sample_rate": 768001}, "sample_rate"),
        ({"channels": 0}, "channels"),
        ({"channels": 65}, "channels"),
        ({"num_units": 0}, "num_units"),
        ({"num_frames": 2**31 + 1}, "num_frames"),
        ({"num_samples": 2**40 + 1}, "num_samples"),
    ],
)
def test_absurd_header_values_with_a_valid_checksum(values, field):
    with pytest.raises(FormatError, match=f"corrupted: .snnc header value {field}"):
        unpack(forge(**values))


def test_bad_utf8_model_id_with_a_valid_checksum():
    with pytest.raises(FormatError, match="utf-8"):
        unpack(forge(model_id=b"piano\xff"))


@pytest.mark.parametrize("payload_length", [len(PAYLOAD) + 1, 2**40, 2**64 - 1])
def test_payload_length_beyond_the_data_is_truncated(payload_length):
    with pytest.raises(FormatError, match="truncated"):
        unpack(forge(payload_length=payload_length))


@settings(max_examples=300, deadline=None, database=None)
@given(data=st.binary(max_size=120))
def test_random_bytes_raise_only_format_error(data):
    with pytest.raises(FormatError):
        unpack(data)


@settings(max_examples=300, deadline=None, database=None)
@given(tail=st.binary(max_size=120))
def test_random_bytes_after_a_valid_prefix_raise_only_format_error(tail):
    with pytest.raises(FormatError):
        unpack(MAGIC + bytes([VERSION]) + tail)
    try:
        read_header(MAGIC + bytes([VERSION]) + tail)
    except FormatError:
        pass
