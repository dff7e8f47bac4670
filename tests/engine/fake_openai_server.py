"""A small OpenAI-compatible chat-completions server on 127.0.0.1, for narrator tests.

It speaks the wire format (JSON bodies, SSE streaming with `data:` lines and `[DONE]`, error
objects, GET /v1/models) and misbehaves on request: reject json_schema with 400, ask for an API
key, fail with 503 a few times, answer garbage, or stream slowly. Every request body is kept in
`requests` so tests can check what the narrator sent.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VALID_SCENE = {
    "title": "The Bell Tolls",
    "narration": "You wade into the cold surf.\nA bell answers from below: \"again\" — é 🔔.",
    "choices": [{"label": "Dive after the sound", "intent": "investigate"},
                {"label": "Run back to the light", "intent": "flee"}],
    "image_prompt": "a figure in the surf at dusk",
    "mood": "eerie",
    "effects": {"set_flags": {"heard_bell": True}},
}


class FakeOpenAI:
    """A scripted chat-completions server. Use as a context manager or call start()/stop().

    Args:
        content: the assistant's answer text (default: VALID_SCENE as JSON).
        models: the model ids it serves; others get a 404 "model not found".
        api_key: when set, requests without `Authorization: Bearer <api_key>` get a 401.
        reject_schema: answer 400 to response_format json_schema (older servers).
        fail_first: answer 503 to this many requests before behaving.
        garbage: answer with bytes that are not the chat-completions format.
        chunk: characters per streamed delta.
        delay: seconds to sleep between streamed deltas.
    """

    def __init__(self, content: str | None = None, *, models=("tiny-model",),
                 api_key: str | None = None, reject_schema: bool = False, fail_first: int = 0,
                 garbage: bool = False, chunk: int = 7, delay: float = 0.0):
        self.content = json.dumps(VALID_SCENE, ensure_ascii=False) if content is None else content
        self.models, self.api_key = tuple(models), api_key
        self.reject_schema, self.fail_first, self.garbage = reject_schema, fail_first, garbage
        self.chunk, self.delay = chunk, delay
        self.requests: list[dict] = []
        self.sent_chunks = 0
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
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeOpenAI":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):   # keep test output quiet
                pass

            def _json(self, code: int, value: dict) -> None:
                body = json.dumps(value).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

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
                    return self._json(401, {"error": {"message": "Incorrect API key provided",
                                                      "type": "invalid_request_error"}})
                if fake.fail_first > 0:
                    fake.fail_first -= 1
                    return self._json(503, {"error": {"message": "Loading model"}})
                if body.get("model") not in fake.models:
                    return self._json(404, {"error": {
                        "message": f"The model `{body.get('model')}` does not exist.",
                        "code": "model_not_found"}})
                kind = (body.get("response_format") or {}).get("type")
                if fake.reject_schema and kind == "json_schema":
                    return self._json(400, {"error": {
                        "message": "response_format json_schema is not supported"}})
                if fake.garbage:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    self.wfile.write(b"data: {this is not json\n\n<html>oops</html>\n")
                    return
                if body.get("stream"):
                    return self._stream(body)
                self._json(200, {"id": "x", "object": "chat.completion", "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": fake.content},
                     "finish_reason": "stop"}], "usage": {"prompt_tokens": 123}})

            def _stream(self, body):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                text = fake.content
                try:
                    self._event({"choices": [{"index": 0, "delta": {"role": "assistant"}}]})
                    for start in range(0, len(text), fake.chunk):
                        if fake.delay:
                            time.sleep(fake.delay)
                        self._event({"choices": [{"index": 0, "delta": {
                            "content": text[start:start + fake.chunk]}}]})
                        fake.sent_chunks += 1
                    self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                                 "usage": {"prompt_tokens": 321, "completion_tokens": 50}})
                    self.wfile.write(b"data: [DONE]\n\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass   # the client hung up (cancelled)

            def _event(self, value: dict) -> None:
                self.wfile.write(b": keep-alive\n\n" if fake.sent_chunks == 1 else b"")
                self.wfile.write(f"data: {json.dumps(value)}\n\n".encode())
                self.wfile.flush()

        return Handler
