"""A small OpenAI-compatible images server on 127.0.0.1, for the openai-images painter's tests.

It answers POST /v1/images/generations as LocalAI and OpenAI do: {"created", "data": [{"b64_json"
or "url"}]}, with a real PNG or JPEG picture, a gradient whose colours come from the prompt (so a
test can tell pictures apart), at the requested size unless `fixed_size` says otherwise. A `url`
answer points at GET /generated-images/<n>.png on the same server (as LocalAI's does), or at
another host when asked. It misbehaves on request: answer garbage, JSON without data, base64
that is no picture, a decompression bomb, 503 for a while, refuse the fields beyond OpenAI's,
or ask for an API key. Every request is kept (body and headers) in `requests`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import socket
import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

MODES = ("b64", "url", "url_elsewhere", "data_url", "not_json", "no_data", "not_an_image",
         "bomb", "error")


def prompt_colours(prompt: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """The two colours of the gradient painted for a prompt (top and bottom)."""
    digest = hashlib.sha256(prompt.encode("utf-8")).digest()
    return tuple(digest[0:3]), tuple(digest[3:6])


def gradient(prompt: str, size: tuple[int, int]) -> Image.Image:
    """A vertical gradient between the prompt's two colours."""
    top, bottom = prompt_colours(prompt)
    width, height = size
    column = Image.new("RGB", (1, height))
    for y in range(height):
        t = y / max(1, height - 1)
        column.putpixel((0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom)))
    return column.resize((width, height))


def bomb_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A PNG whose header claims width x height pixels, with almost no data behind it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def closed_port_url() -> str:
    """A base URL where nothing listens (a port that was just bound and closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


class FakeImages:
    """A scripted images server. Use as a context manager or call start()/stop().

    Args:
        mode: how to answer (MODES): b64 (default), url (same server), url_elsewhere (a URL
            on another host), data_url, not_json, no_data, not_an_image, bomb, error.
        models: the model ids it serves; others get a 404 "model ... does not exist".
        api_key: when set, requests without `Authorization: Bearer <api_key>` get a 401.
        image_format: "PNG" or "JPEG".
        fixed_size: paint this (width, height) whatever the request asks (as servers that
            support only some sizes do); None paints the requested size.
        fail_first: answer 503 to this many requests before behaving.
        refuse_extras: answer 400 "Unrecognized request argument supplied: seed" to a body
            with fields beyond OpenAI's.
        bomb_size: the pixels the "bomb" picture claims (5000 x 5000: over Dreamreel's limit,
            under PIL's own).
    """

    def __init__(self, mode: str = "b64", *, models=("sd-turbo",), api_key: str | None = None,
                 image_format: str = "PNG", fixed_size: tuple[int, int] | None = None,
                 fail_first: int = 0, refuse_extras: bool = False,
                 bomb_size: tuple[int, int] = (5000, 5000)):
        assert mode in MODES, mode
        self.mode, self.models, self.api_key = mode, tuple(models), api_key
        self.image_format, self.fixed_size = image_format, fixed_size
        self.fail_first, self.refuse_extras = fail_first, refuse_extras
        self.bomb_size = bomb_size
        self.requests: list[dict] = []         # {"path", "body", "headers"} per request
        self.files: dict[str, bytes] = {}      # pictures served at /generated-images/<name>
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def generations(self) -> list[dict]:
        """The bodies of the image generation requests, in order."""
        return [r["body"] for r in self.requests if r["path"] == "/v1/images/generations"]

    def start(self) -> "FakeImages":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeImages":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def picture(self, body: dict) -> bytes:
        """The encoded picture for a request body."""
        width, height = self.fixed_size or tuple(int(v) for v in body["size"].split("x"))
        out = io.BytesIO()
        gradient(body.get("prompt", ""), (width, height)).save(out, self.image_format)
        return out.getvalue()

    def _item(self, body: dict, base: str) -> dict:
        if self.mode == "not_an_image":
            return {"b64_json": base64.b64encode(b"this is not a picture at all").decode()}
        if self.mode == "bomb":
            return {"b64_json": base64.b64encode(bomb_png(*self.bomb_size)).decode()}
        data = self.picture(body)
        if self.mode in ("url", "url_elsewhere"):
            name = f"{len(self.files)}.png"
            self.files[name] = data
            host = base if self.mode == "url" else "http://images.example.invalid"
            return {"url": f"{host}/generated-images/{name}"}
        if self.mode == "data_url":
            kind = "jpeg" if self.image_format == "JPEG" else "png"
            return {"url": f"data:image/{kind};base64,{base64.b64encode(data).decode()}"}
        return {"b64_json": base64.b64encode(data).decode()}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):   # keep test output quiet
                pass

            def _send(self, code: int, body: bytes, kind: str = "application/json") -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, code: int, value: dict) -> None:
                self._send(code, json.dumps(value).encode())

            def _error(self, code: int, message: str) -> None:
                self._json(code, {"error": {"message": message, "type": "invalid_request_error",
                                            "param": None, "code": None}})

            def _authorised(self) -> bool:
                return not fake.api_key or \
                    self.headers.get("Authorization") == f"Bearer {fake.api_key}"

            def do_GET(self):
                fake.requests.append({"path": self.path, "body": None,
                                      "headers": dict(self.headers)})
                name = self.path.rpartition("/")[2]
                if self.path.startswith("/generated-images/") and name in fake.files:
                    return self._send(200, fake.files[name], "image/png")
                self._json(404, {"error": {"message": "Not Found"}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append({"path": self.path, "body": body,
                                      "headers": dict(self.headers)})
                if self.path != "/v1/images/generations":
                    return self._json(404, {"error": {"message": "Not Found"}})
                if not self._authorised():
                    return self._error(401, "Incorrect API key provided")
                if fake.fail_first > 0:
                    fake.fail_first -= 1
                    return self._error(503, "Loading model")
                if body.get("model") not in fake.models:
                    return self._json(404, {"error": {
                        "message": f"The model `{body.get('model')}` does not exist.",
                        "code": "model_not_found"}})
                if fake.refuse_extras:
                    extra = next((k for k in ("seed", "steps", "step", "negative_prompt")
                                  if k in body), None)
                    if extra:
                        return self._error(400, f"Unrecognized request argument supplied: "
                                                f"{extra}")
                if fake.mode == "not_json":
                    return self._send(200, b"<html><body>Bad gateway</body></html>",
                                      "text/html")
                if fake.mode == "no_data":
                    return self._json(200, {"created": 1, "images": []})
                if fake.mode == "error":
                    return self._json(200, {"error": {"message": "CUDA out of memory"}})
                base = f"http://127.0.0.1:{fake._server.server_address[1]}"
                self._json(200, {"created": 1, "data": [fake._item(body, base)]})

        return Handler


__all__ = ["FakeImages", "MODES", "gradient", "prompt_colours", "bomb_png", "closed_port_url"]
