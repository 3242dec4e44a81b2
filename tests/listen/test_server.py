"""The test server: ratings saved as given, resumption, and clear 4xx answers to bad requests."""

from __future__ import annotations

import http.client
import json

import pytest

from snn_codec.listen.server import MAX_BODY_BYTES


def request(server, method, path, body=None, headers=None):
    """Sends one raw request (paths are not normalised) and returns (status, decoded JSON or bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    payload = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    all_headers = {"Content-Type": "application/json"} if payload is not None else {}
    conn.request(method, path, body=payload, headers={**all_headers, **(headers or {})})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    is_json = response.getheader("Content-Type", "").startswith("application/json")
    return response.status, json.loads(data) if is_json else data


def rate(server, trial, scores, submit=False, listener="ana"):
    body = {"listener": listener, "trial": trial, "scores": scores, "submit": submit}
    return request(server, "POST", "/api/rate", body)


def test_page_stimuli_and_session(server, small_test):
    status, page = request(server, "GET", "/")
    assert status == 200 and b"MUSHRA" in page and b"Excellent" in page
    assert request(server, "GET", "/app.js")[0] == 200
    status, session = request(server, "GET", "/api/session?listener=ana")
    assert status == 200 and session["next"] == 0 and len(session["trials"]) == 2
    trial = session["trials"][0]
    assert trial["scores"] == [None] * 5
    status, wav = request(server, "GET", trial["stimuli"][0])
    assert status == 200 and wav[:4] == b"RIFF"
    assert (small_test.results_dir / "ana.json").is_file()  # the order is saved at the first visit
    status, training = request(server, "GET", "/api/training")
    assert [c["clip"] for c in training["clips"]] == ["clip0", "clip1"]
    names = {c["name"] for c in training["clips"][0]["conditions"]}
    assert names == {"anchor-3.5kHz", "anchor-7kHz", "classic", "tiny-test"}


def test_ratings_are_saved_as_given_and_a_new_visit_resumes(server, small_test):
    request(server, "GET", "/api/session?listener=ana")
    record = json.loads((small_test.results_dir / "ana.json").read_text())
    order = record["trials"][0]["order"]
    assert rate(server, 0, [10, None, None, None, None]) == (200, {"saved": True, "next": 0})
    saved = json.loads((small_test.results_dir / "ana.json").read_text())["trials"][0]
    assert saved["scores"] == {order[0]: 10} and not saved["submitted"]
    assert rate(server, 0, [10, 20, 30, 40, 100], submit=True) == (200, {"saved": True, "next": 1})
    saved = json.loads((small_test.results_dir / "ana.json").read_text())["trials"][0]
    assert saved["scores"] == dict(zip(order, [10, 20, 30, 40, 100])) and saved["submitted"]
    rate(server, 1, [None, 55, None, None, None])
    status, session = request(server, "GET", "/api/session?listener=ana")
    assert session["next"] == 1 and session["trials"][1]["scores"] == [None, 55, None, None, None]
    assert session["trials"][0]["submitted"] and session["trials"][0]["scores"] == [10, 20, 30, 40, 100]


@pytest.mark.parametrize("path", [
    "/stimuli/../test.json", "/stimuli/%2e%2e/test.json", "/../results/ana.json", "/stimuli/..%2ftest.json",
    "/stimuli/..\\test.json",
])
def test_path_traversal_is_refused(server, path):
    status, reply = request(server, "GET", path)
    assert status == 400 and "traversal" in reply["error"]


@pytest.mark.parametrize("path", ["/test.json", "/results/ana.json", "/stimuli/", "/stimuli/unknown.wav", "/encoded"])
def test_only_the_page_and_the_tests_stimuli_are_served(server, path):
    assert request(server, "GET", path)[0] == 404


def test_bad_submissions_get_clear_4xx_answers_and_the_server_goes_on(server, small_test):
    request(server, "GET", "/api/session?listener=ana")
    bad = [
        (request(server, "POST", "/api/rate", b"x" * (MAX_BODY_BYTES + 1)), 413, "limited"),
        (request(server, "POST", "/api/rate", b"{not json"), 400, "not valid JSON"),
        (request(server, "POST", "/api/rate", b"\xff\xfe"), 400, "not valid JSON"),
        (request(server, "POST", "/api/rate", [1, 2]), 400, "JSON object"),
        (request(server, "POST", "/api/rate", b"{}", {"Content-Type": "text/plain"}), 415, "application/json"),
        (request(server, "POST", "/api/other", {}), 404, "no such endpoint"),
        (rate(server, 0, [1, 2, 3, 4, 5], listener="../evil"), 400, "listener name"),
        (rate(server, 0, [1, 2, 3, 4, 5], listener="nobody"), 400, "open the test page first"),
        (rate(server, 7, [1, 2, 3, 4, 5]), 400, "trial"),
        (rate(server, True, [1, 2, 3, 4, 5]), 400, "trial"),
        (rate(server, 0, [1, 2, 3]), 400, "list of 5"),
        (rate(server, 0, "12345"), 400, "list of 5"),
        (rate(server, 0, [1, 2, 3, 4, 101]), 400, "0 to 100"),
        (rate(server, 0, [1, 2, 3, 4, 5.5]), 400, "integer"),
        (rate(server, 0, [1, 2, 3, 4, None], submit=True), 400, "rate every condition"),
        (request(server, "GET", "/api/session"), 400, "listener"),
        (request(server, "GET", "/api/session?listener=a/b"), 400, "listener name"),
        (request(server, "GET", "/api/session?listener=bob%0A"), 400, "listener name"),  # a name ending in a newline
        (rate(server, 0, [1, 2, 3, 4, 5], listener="ana\n"), 400, "listener name"),
        (request(server, "GET", "/", headers={"Host": "attacker.example"}), 421, "unexpected host"),
    ]
    for (status, reply), expected, message in bad:
        assert status == expected and message in reply["error"], (status, reply)
    assert json.loads((small_test.results_dir / "ana.json").read_text())["trials"][0]["scores"] == {}
    assert sorted(p.name for p in small_test.results_dir.iterdir()) == ["ana.json"]
    assert request(server, "GET", "/")[0] == 200


def test_the_server_listens_on_loopback_only(server):
    assert server.server_address[0] == "127.0.0.1"


def test_broken_http_does_not_stop_the_server(server):
    import socket

    head = b"POST /api/rate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    broken = (b"BREW /pot HTTP/1.1\r\n\r\n", head + b"Content-Length: nope\r\n\r\n",
              head + b"Content-Length: -5\r\n\r\n")
    for raw in broken:
        with socket.create_connection(server.server_address, timeout=10) as sock:
            sock.sendall(raw)
            status_line = sock.makefile("rb").readline()
        assert status_line.startswith(b"HTTP/") and 400 <= int(status_line.split()[1]) < 600, status_line
    assert request(server, "GET", "/")[0] == 200
