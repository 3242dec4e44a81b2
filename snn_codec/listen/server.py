"""The MUSHRA test page, served on 127.0.0.1 only with the standard library's threading HTTP server.

Routes: `GET /` (the page), `GET /app.js`, `GET /api/training`, `GET /api/session?listener=NAME`,
`GET /stimuli/<file>.wav` (only files of the test) and `POST /api/rate` with JSON
`{"listener": NAME, "trial": i, "scores": [score or null per slot], "submit": bool}`.
Bad requests get a 4xx status and `{"error": "..."}`; no request can stop the server.
"""

from __future__ import annotations

import json
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from snn_codec.errors import CodecError
from snn_codec.listen.design import ListeningTest
from snn_codec.listen.page import APP_JS, INDEX_HTML
from snn_codec.listen.sessions import RatingError, SessionStore, check_listener, next_trial, page_state, training_state

HOST = "127.0.0.1"
MAX_BODY_BYTES = 64 * 1024
DRAIN_BYTES = 1024 * 1024  # an oversized body up to this size is read and dropped, so the client sees the 413


class HttpError(Exception):
    """Ends a request with `status` and a one-line message for the page."""

    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status


class MushraServer(ThreadingHTTPServer):
    """Holds the test and its listener records for the request handlers."""

    daemon_threads = True

    def __init__(self, test: ListeningTest, port: int):
        super().__init__((HOST, port), MushraHandler)
        self.test = test
        self.store = SessionStore(test)
        self.files = {"/" + path for clip in test.clips for path in (clip.reference, *clip.stimuli.values())}

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}/"


class MushraHandler(BaseHTTPRequestHandler):
    server: MushraServer
    server_version = "snn_codec-listen"

    def log_message(self, message_format: str, *args) -> None:
        """Quiet: only errors reach stderr."""

    def do_GET(self) -> None:
        self._handle(self._get)

    def do_POST(self) -> None:
        self._handle(self._post)

    def _handle(self, route) -> None:
        try:
            self._check_host()
            route(urlsplit(self.path))
        except HttpError as err:
            self._send_json({"error": str(err)}, err.status)
        except RatingError as err:
            self._send_json({"error": str(err)}, HTTPStatus.BAD_REQUEST)
        except CodecError as err:
            self._send_json({"error": str(err)}, HTTPStatus.CONFLICT)
        except Exception as err:  # a bug must not take the test down with it
            print(f"snn-codec listen: {self.command} {self.path}: {err!r}", file=sys.stderr)
            self._send_json({"error": "internal error; the ratings saved so far are safe"},
                            HTTPStatus.INTERNAL_SERVER_ERROR)

    def _check_host(self) -> None:
        """Refuses other host names, so a web page elsewhere cannot reach the server by DNS rebinding."""
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        if host not in (HOST, "localhost"):
            raise HttpError(HTTPStatus.MISDIRECTED_REQUEST, f"unexpected host {host!r}; open {self.server.url}")

    def _get(self, url) -> None:
        path = unquote(url.path)
        if path in ("/", "/index.html"):
            self._send(INDEX_HTML.encode(), "text/html; charset=utf-8")
        elif path == "/app.js":
            self._send(APP_JS.encode(), "text/javascript; charset=utf-8")
        elif path == "/api/training":
            self._send_json({"clips": training_state(self.server.test)})
        elif path == "/api/session":
            names = parse_qs(url.query).get("listener", [])
            if len(names) != 1:
                raise HttpError(HTTPStatus.BAD_REQUEST, "give exactly one ?listener=NAME")
            record = self.server.store.open(check_listener(names[0]))
            self._send_json(page_state(self.server.test, record))
        elif ".." in path.split("/") or "\\" in path or "\0" in path:
            raise HttpError(HTTPStatus.BAD_REQUEST, "path traversal refused")
        elif path in self.server.files:
            self._send((self.server.test.folder / path.lstrip("/")).read_bytes(), "audio/wav")
        else:
            raise HttpError(HTTPStatus.NOT_FOUND, f"no such page or file: {path}")

    def _post(self, url) -> None:
        if url.path != "/api/rate":
            raise HttpError(HTTPStatus.NOT_FOUND, f"no such endpoint: {url.path}")
        body = self._json_body()
        listener = check_listener(body.get("listener"))
        record = self.server.store.rate(listener, body.get("trial"), body.get("scores"), body.get("submit") is True)
        self._send_json({"saved": True, "next": next_trial(record)})

    def _json_body(self) -> dict:
        """The request's JSON object; the content type forces a browser preflight that other sites fail."""
        if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
            raise HttpError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send Content-Type: application/json")
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise HttpError(HTTPStatus.LENGTH_REQUIRED, "a Content-Length header is required") from None
        if not 0 <= length <= MAX_BODY_BYTES:
            if MAX_BODY_BYTES < length <= DRAIN_BYTES:
                self.rfile.read(length)
            self.close_connection = True
            raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                            f"request bodies are limited to {MAX_BODY_BYTES} bytes")
        try:
            body = json.loads(self.rfile.read(length))
        except (ValueError, UnicodeDecodeError):
            raise HttpError(HTTPStatus.BAD_REQUEST, "the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise HttpError(HTTPStatus.BAD_REQUEST, "the request body must be a JSON object")
        return body

    def _send(self, data: bytes, content_type: str, status: HTTPStatus = HTTPStatus.OK) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(data)

    def _send_json(self, payload: dict, status: HTTPStatus = HTTPStatus.OK) -> None:
        self._send(json.dumps(payload).encode(), "application/json", status)


def make_server(test: ListeningTest, port: int = 8000) -> MushraServer:
    """A server for `test` on 127.0.0.1:`port` (0 picks a free port); call `serve_forever()` on it."""
    if not 0 <= port <= 65535:
        raise CodecError(f"port {port} is out of range; pick one from 1024 to 65535, or 0 for any free port")
    try:
        return MushraServer(test, port)
    except OSError as err:
        raise CodecError(f"cannot listen on {HOST}:{port} ({err.strerror}); pick another --port") from None
