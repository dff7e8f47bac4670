"""A small OpenAI-compatible chat-completions server on 127.0.0.1, for narrator tests.

It speaks the wire format (JSON bodies, chunked SSE streaming with `data:` lines and `[DONE]`,
error objects, GET /v1/models) and misbehaves on request: reject json_schema with 400, ask for
an API key, fail with 503 a few times, answer garbage, stream slowly, reset the connection
mid-stream, end a stream before any data, or refuse extra sampler fields as OpenAI's API does.

`flavour="llama-cpp-python"` copies llama-cpp-python 0.3.36's server as observed:
- `response_format: json_schema` gets HTTP 500 with FastAPI's validation message and the
  server's traceback lines in it;
- `{"type": "json_object", "schema": ...}` and a `grammar` field are accepted;
- a grammar llama.cpp cannot parse (an unknown escape such as `\\s`), or a json_object schema
  with a `pattern` (its converter copies `\\s` into the grammar), kills the server: the
  connection closes without an answer and nothing listens afterwards;
- unknown fields (dry_*, repetition_penalty) are ignored, and any model name is served.
Every request body is kept in `requests` so tests can check what the narrator sent.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VALID_SCENE = {
    "title": "The Bell Tolls",
    "narration": ("You wade into the cold surf until the water reaches your knees.\nA bell "
                  "answers from somewhere below the waves: \"again\" — é 🔔. The lantern on "
                  "the point flickers once, as if it heard."),
    "choices": [{"label": "Dive after the sound", "intent": "investigate"},
                {"label": "Run back to the light", "intent": "flee"}],
    "image_prompt": "a figure in the surf at dusk",
    "mood": "eerie",
    "effects": {"set_flags": {"heard_bell": True}},
}

# llama-cpp-python 0.3.36 answers json_schema with this (status 500), traceback lines included.
LLAMA_CPP_PYTHON_SCHEMA_ERROR = (
    "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', "
    "'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', "
    "'ctx': {'expected': \"'text' or 'json_object'\"}}\n\n  File \"/venv/lib/python3.11/"
    "site-packages/llama_cpp/server/app.py\", line 376, in create_chat_completion\n    "
    "POST /v1/chat/completions")
_GBNF_ESCAPES = set('xuUtrn\\"[]-')


def gbnf_parses(grammar: str) -> bool:
    """A rough stand-in for llama.cpp's grammar parser: every escape is one it knows, and
    brackets, parentheses and quotes balance. Enough to catch what crashed the real server."""
    index, depth, in_literal, in_class = 0, 0, False, False
    while index < len(grammar):
        ch = grammar[index]
        if ch == "\\" and (in_literal or in_class):
            if grammar[index + 1:index + 2] not in _GBNF_ESCAPES:
                return False
            index += 2
            continue
        if in_literal:
            in_literal = ch != '"'
        elif in_class:
            in_class = ch != "]"
        elif ch == '"':
            in_literal = True
        elif ch == "[":
            in_class = True
        elif ch in "()":
            depth += 1 if ch == "(" else -1
        index += 1
    return depth == 0 and not in_literal and not in_class and "root ::=" in grammar


class FakeOpenAI:
    """A scripted chat-completions server. Use as a context manager or call start()/stop().

    Args:
        content: the assistant's answer text (default: VALID_SCENE as JSON), or a function of
            the request body that returns it.
        models: the model ids it serves; others get a 404 "model not found".
        api_key: when set, requests without `Authorization: Bearer <api_key>` get a 401.
        reject_schema: answer 400 to response_format json_schema (older servers).
        flavour: "openai" (plain) or "llama-cpp-python" (see the module docstring).
        refuse_extras: answer 400 "Unrecognized request argument" to non-standard sampler fields.
        fail_first: answer 503 to this many requests before behaving.
        reset_first: reset the connection mid-stream for this many requests.
        empty_first: answer 200 and end the stream without any data for this many requests.
        garbage: answer with bytes that are not the chat-completions format.
        chunk: characters per streamed delta.
        delay: seconds to sleep between streamed deltas.
    """

    def __init__(self, content=None, *, models=("tiny-model",), api_key: str | None = None,
                 reject_schema: bool = False, flavour: str = "openai",
                 refuse_extras: bool = False, fail_first: int = 0, reset_first: int = 0,
                 empty_first: int = 0, garbage: bool = False, chunk: int = 7,
                 delay: float = 0.0):
        self.content = json.dumps(VALID_SCENE, ensure_ascii=False) if content is None else content
        self.models, self.api_key, self.flavour = tuple(models), api_key, flavour
        self.reject_schema, self.refuse_extras = reject_schema, refuse_extras
        self.fail_first, self.reset_first, self.empty_first = fail_first, reset_first, empty_first
        self.garbage, self.chunk, self.delay = garbage, chunk, delay
        self.requests: list[dict] = []
        self.sent_chunks = 0
        self.hung_up = False                       # a client closed a stream before its end
        self.stream_ended = threading.Event()      # a stream was sent in full or cut short
        self.crashed = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> "FakeOpenAI":
        self._thread.start()
        return self

    def stop(self) -> None:
        if not self.crashed:
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeOpenAI":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def answer(self, body: dict) -> str:
        return self.content(body) if callable(self.content) else self.content

    def _crash(self) -> None:
        """Die as a segfaulting server does: no answer, and nothing listens afterwards."""
        self.crashed = True
        threading.Thread(target=self._server.shutdown, daemon=True).start()
        self._server.socket.close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"   # chunked streams, as uvicorn sends them

            def log_message(self, *args):   # keep test output quiet
                pass

            def _json(self, code: int, value: dict) -> None:
                body = json.dumps(value).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _error(self, code: int, message: str, kind: str = "invalid_request_error"):
                self._json(code, {"error": {"message": message, "type": kind, "param": None,
                                            "code": None}})

            def do_GET(self):
                if self.path.rstrip("/") == "/v1/models":
                    self._json(200, {"object": "list", "data": [
                        {"id": m, "object": "model"} for m in fake.models]})
                else:
                    self._json(404, {"error": {"message": "Not Found"}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(body)
                if self.path != "/v1/chat/completions":
                    return self._json(404, {"error": {"message": "Not Found"}})
                if fake.api_key and self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                    return self._error(401, "Incorrect API key provided")
                if fake.fail_first > 0:
                    fake.fail_first -= 1
                    return self._error(503, "Loading model", "server_error")
                if fake.flavour != "llama-cpp-python" and body.get("model") not in fake.models:
                    return self._json(404, {"error": {
                        "message": f"The model `{body.get('model')}` does not exist.",
                        "code": "model_not_found"}})
                if fake.refuse_extras:
                    extra = next((k for k in ("top_k", "min_p", "repeat_penalty", "grammar")
                                  if k in body), None)
                    if extra:
                        return self._error(400, f"Unrecognized request argument supplied: "
                                                f"{extra}")
                fmt = body.get("response_format") or {}
                if fake.flavour == "llama-cpp-python":
                    if fmt.get("type") not in (None, "text", "json_object"):
                        return self._error(500, LLAMA_CPP_PYTHON_SCHEMA_ERROR,
                                           "internal_server_error")
                    schema_text = json.dumps(fmt.get("schema", {}))
                    if '"pattern"' in schema_text or (
                            "grammar" in body and not gbnf_parses(body["grammar"])):
                        return fake._crash()
                elif fake.reject_schema and fmt.get("type") == "json_schema":
                    return self._error(400, "response_format json_schema is not supported")
                if fake.garbage:
                    return self._raw_stream([b"data: {this is not json\n\n<html>oops</html>\n"])
                if fake.empty_first > 0:
                    fake.empty_first -= 1
                    return self._raw_stream([])
                if body.get("stream"):
                    return self._stream(body)
                self._json(200, {"id": "x", "object": "chat.completion", "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": fake.answer(body)},
                     "finish_reason": "stop"}], "usage": {"prompt_tokens": 123}})

            def _start_stream(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()

            def _send(self, data: bytes) -> None:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

            def _raw_stream(self, pieces: list[bytes]) -> None:
                self._start_stream()
                for piece in pieces:
                    self._send(piece)
                self.wfile.write(b"0\r\n\r\n")
                self.close_connection = True

            def _stream(self, body):
                self._start_stream()
                text = fake.answer(body)
                reset = fake.reset_first > 0
                fake.reset_first -= reset
                try:
                    self._event({"choices": [{"index": 0, "delta": {"role": "assistant"}}]})
                    for start in range(0, len(text), fake.chunk):
                        if fake.delay:
                            time.sleep(fake.delay)
                        if reset and start >= 2 * fake.chunk:
                            return self._reset()
                        self._event({"choices": [{"index": 0, "delta": {
                            "content": text[start:start + fake.chunk]}}]})
                        fake.sent_chunks += 1
                    self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                                 "usage": {"prompt_tokens": 321, "completion_tokens": 50}})
                    self._send(b"data: [DONE]\n\n")
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True   # the client hung up (cancelled)
                    fake.hung_up = True
                finally:
                    fake.stream_ended.set()

            def _event(self, value: dict) -> None:
                if fake.sent_chunks == 1:
                    self._send(b": ping - keep-alive\n\n")
                self._send(f"data: {json.dumps(value)}\n\n".encode())

            def _reset(self) -> None:
                """Close with a TCP reset, half-way through a chunk."""
                self.wfile.write(b"40\r\ndata: {\"choi")
                self.wfile.flush()
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.close_connection = True

        return Handler


__all__ = ["FakeOpenAI", "VALID_SCENE", "LLAMA_CPP_PYTHON_SCHEMA_ERROR", "gbnf_parses"]
