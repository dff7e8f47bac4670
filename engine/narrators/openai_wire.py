"""The wire side of the openai narrator: one chat-completions call, with retries.

ChatEndpoint posts a request body to `<base url>/chat/completions` and returns the answer's
text, reading a streamed (SSE) or a plain JSON answer and passing narration on as it arrives.
Connection errors, resets mid-stream, streams that end before any data, 429 and 5xx are retried
with exponential backoff; the rest becomes a NarratorError that says what happened, with the
server's own message cut to one line (`summarize`), or FormatRefused / ExtrasRefused when the
server refused the response format or the extra sampler fields, for the narrator to step down.
Standard library only; it knows nothing of scenes or prompts.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import time
import urllib.error
import urllib.request
from typing import Callable

from engine.errors import NarratorError
from engine.narrators.llm_output import NarrationStream
from engine.narrators.openai_formats import names_context, names_extra_field, names_response_format
from engine.text import shorten

MAX_ERROR_BODY = 8000      # bytes of an error reply read for its message
MAX_MESSAGE = 160          # characters of a server's message shown to the player
RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
_BROKEN_STREAM = (ConnectionError, http.client.HTTPException, urllib.error.URLError)


KEY_VARIABLES = ("DREAMREEL_OPENAI_KEY", "OPENAI_API_KEY")   # where an API key is found


def api_key(option: str = "") -> str:
    """The key sent as a Bearer token: the option, else the environment ("" for none)."""
    return option or next((os.environ[v] for v in KEY_VARIABLES if os.environ.get(v)), "")


def split_model_url(rest: str) -> tuple[str, str] | None:
    """`<model>@<base url>` (the part of an openai spec after its backend name) split into the
    model and the URL; None when there is no URL (a model name may itself hold an "@")."""
    at = max(rest.rfind("@http://"), rest.rfind("@https://"))
    return (rest[:at], rest[at + 1:]) if at > 0 else None


class FormatRefused(Exception):
    """The server refused the request because of its response format (message: why)."""


class ExtrasRefused(Exception):
    """The server refused the extra sampler fields (message: why)."""


class _Broken(Exception):
    """The answer broke off (reset, empty stream); worth another try."""


class ChatEndpoint:
    """A server's chat-completions endpoint.

    Args:
        base_url: the server's base URL, e.g. http://127.0.0.1:8080/v1.
        model: the model name sent (named in errors).
        options: timeout, total_timeout, retries and backoff (the narrator's options).
        api_key: returns the key to send ("" for none), read at each call.
    """

    def __init__(self, base_url: str, model: str, options, api_key: Callable[[], str]):
        self.base_url, self.model, self.options, self.api_key = base_url, model, options, api_key

    def complete(self, body: dict, extras: dict, on_token) -> str:
        """The answer's text for one request body; narration goes to `on_token` as it comes."""
        return self._post(body, extras, on_token)

    def _post(self, body: dict, extras: dict, on_token) -> str:
        url = f"{self.base_url}/chat/completions"
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json",
                   "Accept": "text/event-stream, application/json"}
        key = self.api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        delay, last, reached = self.options.backoff, "", False
        shown = _Shown(on_token) if on_token is not None else None
        for attempt in range(self.options.retries + 1):
            if attempt:
                time.sleep(delay)
                delay *= 2
            try:
                response = urllib.request.urlopen(
                    urllib.request.Request(url, data=data, headers=headers, method="POST"),
                    timeout=self.options.timeout)
            except urllib.error.HTTPError as err:
                code, message = err.code, error_message(err)
                failure = self._http_error(code, message, body)
                if failure is not None:
                    raise failure from None
                last, reached = f"HTTP {code}: {message}", True
                continue
            except (urllib.error.URLError, TimeoutError, socket.timeout, ConnectionError,
                    http.client.HTTPException) as err:
                last, reached = connection_reason(err), False
                continue
            try:
                with response:
                    return self._read(response, extras, shown)
            except _Broken as err:
                last, reached = str(err), True
                if shown is not None:      # the retry starts over: show no text twice
                    shown = _Shown(on_token, already=shown.text)
                continue
        if reached:
            raise NarratorError(f"The server at {self.base_url} failed {self.options.retries + 1}"
                                f" times: {last}.")
        raise NarratorError(f"Cannot reach {self.base_url} after {self.options.retries + 1} "
                            f"tries: {last}. Is the server running and the URL right? Or play "
                            f"with --narrator storylets.")

    def _http_error(self, code: int, message: str, body: dict) -> Exception | None:
        """The exception for an HTTP error, or None when it is worth another try."""
        lowered = message.lower()
        sent_format = "response_format" in body or "grammar" in body
        if code in (401, 403):
            return NarratorError(f"The server at {self.base_url} refused the API key ({code}: "
                                 f"{message}). Set DREAMREEL_OPENAI_KEY or OPENAI_API_KEY.")
        if "model" in lowered and any(w in lowered for w in ("not found", "does not exist",
                                                              "unknown", "no such", "not exist")):
            return NarratorError(f"The server at {self.base_url} has no model '{self.model}' "
                                 f"({message}).{self._available_models()}")
        if code == 404:
            return NarratorError(f"{self.base_url}/chat/completions was not found (404). Check "
                                 f"the base URL; it usually ends in /v1.")
        if names_context(message):
            return NarratorError(f"The prompt does not fit the model's context at "
                                 f"{self.base_url} ({message}). Start the server with a larger "
                                 f"context (llama.cpp: -c / --n_ctx) or lower max_tokens.")
        if code >= 400 and sent_format and names_response_format(message):
            return FormatRefused(f"{code}: {message}")
        if code >= 400 and any(name in body for name in ("top_k", "min_p")) \
                and names_extra_field(message):
            return ExtrasRefused(f"{code}: {message}")
        if code in (400, 422) and sent_format:
            return FormatRefused(f"{code}: {message}")   # older servers say no more than that
        if code in RETRY_STATUS:
            return None
        return NarratorError(f"The server at {self.base_url} refused the request ({code}: "
                             f"{message}).")

    def _available_models(self) -> str:
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=5) as response:
                names = [m.get("id", "?") for m in json.load(response).get("data", [])][:12]
        except Exception:  # a hint only; the main error stands without it
            return ""
        return f" Models there: {', '.join(names)}." if names else ""

    def _read(self, response, extras: dict, on_token) -> str:
        kind = response.headers.get("Content-Type", "")
        try:
            if "text/event-stream" not in kind:
                raw = response.read()
                if not raw.strip():
                    raise _Broken("the answer was empty")
                return self._message_content(_json(raw, self.base_url), extras, on_token)
            return self._read_stream(response, extras, on_token)
        except (TimeoutError, socket.timeout):
            raise NarratorError(f"The server at {self.base_url} stopped sending for "
                                f"{self.options.timeout:g} s.") from None
        except _BROKEN_STREAM as err:
            raise _Broken(f"the connection broke mid-answer ({connection_reason(err)})"
                          ) from None

    def _read_stream(self, response, extras: dict, on_token) -> str:
        deadline = time.monotonic() + self.options.total_timeout
        stream, parts, saw_data = NarrationStream(), [], False
        for raw in response:
            if time.monotonic() > deadline:
                raise NarratorError(f"The server at {self.base_url} took longer than "
                                    f"{self.options.total_timeout:g} s for one scene.")
            line = raw.decode("utf-8", errors="replace").strip()
            if not line.startswith("data:"):
                continue   # SSE comments, event names, keep-alives
            data = line[5:].strip()
            if data == "[DONE]":
                break
            chunk = _json(data.encode("utf-8"), self.base_url)
            saw_data = True
            if chunk.get("error"):
                raise NarratorError(f"The server at {self.base_url} failed while answering: "
                                    f"{_describe_error(chunk['error'])}")
            _usage(chunk, extras)
            for choice in chunk.get("choices") or []:
                if choice.get("finish_reason") == "length":
                    extras["truncated"] = True
                piece = (choice.get("delta") or {}).get("content") or ""
                parts.append(piece)
                new_text = stream.feed(piece)
                if on_token is not None:
                    on_token(new_text)
        if not saw_data:
            raise _Broken("the stream ended before any data (the server's log says why; a "
                          "prompt longer than its context does this to llama-cpp-python)")
        return "".join(parts)

    def _message_content(self, payload: dict, extras: dict, on_token) -> str:
        if payload.get("error"):
            raise NarratorError(f"The server at {self.base_url} failed: "
                                f"{_describe_error(payload['error'])}")
        _usage(payload, extras)
        try:
            choice = payload["choices"][0]
            content = choice["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise NarratorError(f"The server at {self.base_url} answered without a chat "
                                f"completion. Is it an OpenAI-compatible endpoint?") from None
        if choice.get("finish_reason") == "length":
            extras["truncated"] = True
        if on_token is not None:
            on_token(NarrationStream().feed(content))
        return content



class _Shown:
    """Passes streamed narration on and remembers it. After a broken answer, the retry's text
    is passed on only past what the player already saw, and only while it says the same (a
    retry that tells something else shows nothing; its draft arrives whole at the end)."""

    def __init__(self, on_token, already: str = ""):
        self.on_token, self.already, self.text, self.agrees = on_token, already, "", True

    def __call__(self, piece: str) -> None:
        before = len(self.text)
        self.text += piece
        if self.agrees:
            common = min(len(self.text), len(self.already))
            self.agrees = self.text[:common] == self.already[:common]
        new = self.text[max(before, len(self.already)):] if self.agrees else ""
        self.on_token(new)
        if not self.agrees:
            self.text = self.already   # what the player saw stays what was shown


def _json(data: bytes, base_url: str) -> dict:
    try:
        value = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise NarratorError(f"The server at {base_url} sent something that is not JSON "
                            f"({data[:80]!r}). Is it an OpenAI-compatible endpoint?") from None
    if not isinstance(value, dict):
        raise NarratorError(f"The server at {base_url} sent JSON of the wrong shape.")
    return value


def _usage(payload: dict, extras: dict) -> None:
    usage = payload.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("prompt_tokens"), int):
        extras["prompt_tokens"] = usage["prompt_tokens"]


def _describe_error(error) -> str:
    if isinstance(error, dict):
        return summarize(str(error.get("message") or error.get("type") or error))
    return summarize(str(error))


def summarize(message: str, limit: int = MAX_MESSAGE) -> str:
    """A server's error message as one short line: validation errors as `field: problem`,
    tracebacks dropped, cut at a word boundary."""
    text = message.strip()
    found = re.search(r"'loc': \(([^)]*)\),\s*'msg': (['\"])(.*?)\2", text)
    if found:   # FastAPI: "1 validation error:\n  {'type': ..., 'loc': (...), 'msg': ...}"
        where = [part.strip(" '\"") for part in found.group(1).split(",")]
        where = [part for part in where if part and part != "body"]
        return shorten(f"{'.'.join(where)}: {found.group(3)}" if where else found.group(3), limit)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) >= 3 and re.match(r"\d+ validation errors? for ", lines[0]):   # pydantic
        problem = re.sub(r"\s*\[type=.*$", "", lines[2])
        return shorten(f"{lines[1]}: {problem}", limit)
    useful = [line for line in lines if not line.startswith(("Traceback", "File \"", "^"))
              and not re.match(r"\d+ validation errors?:?$", line)]
    return shorten(useful[0] if useful else text.replace("\n", " "), limit)


def error_message(err: urllib.error.HTTPError) -> str:
    """An HTTP error reply's message as one short line: the JSON error object's message, else
    the body's first useful line, else the status reason. Shared by the openai-images painter."""
    try:
        body = err.read(MAX_ERROR_BODY)
    except Exception:
        body = b""
    try:
        value = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        value = None
    if isinstance(value, dict):
        for key in ("error", "message", "detail"):
            if value.get(key):
                detail = value[key]
                return _describe_error(detail if not isinstance(detail, list) else
                                       json.dumps(detail)[:MAX_ERROR_BODY])
    text = body.decode("utf-8", errors="replace").strip()
    return summarize(text) if text else (str(err.reason or "") or "no details")


def connection_reason(err: BaseException) -> str:
    """Why a connection failed, in a few plain words (connection refused, timed out...)."""
    reason = getattr(err, "reason", err)
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(reason, socket.gaierror):
        return "unknown host"
    if isinstance(reason, ConnectionResetError):
        return "connection reset"
    if isinstance(reason, http.client.RemoteDisconnected):
        return "the server closed the connection"
    if isinstance(reason, http.client.IncompleteRead):
        return "the answer was cut short"
    return summarize(str(reason)) or type(reason).__name__


__all__ = ["ChatEndpoint", "FormatRefused", "ExtrasRefused", "summarize", "error_message",
           "connection_reason", "MAX_MESSAGE", "RETRY_STATUS"]
