"""The openai narrator: any OpenAI-compatible chat-completions server tells the scenes.

`--narrator openai:<model>@<base url>`, e.g. `openai:qwen2.5:7b@http://localhost:11434/v1`
(Ollama), llama-cpp-python's or llama.cpp's server, vLLM or text-generation-webui. Options
come from the spec (`...?min_p=0.1&response_format=grammar`), the config's [narrator] table
and `:narrator`. The API key comes from the option api_key or the environment
(DREAMREEL_OPENAI_KEY, then OPENAI_API_KEY). Standard library only.

Each scene is one streamed (SSE) chat completion. The response format steps down
json_schema -> grammar -> json_object -> none (engine.narrators.openai_formats) whenever the
server refuses one with an error that names it, or answers without applying it; the mode that
works is kept and logged, and request.extras["response_mode"] says which one told a scene.
Sampler settings (engine.narrators.sampling, the medium preset unless `preset` says otherwise)
go out as standard and server-specific fields. Whatever the mode, the answer is validated like
every draft (engine.narrators.llm_output).

Connection errors, resets mid-stream, streams that end before any data, 429 and 5xx are retried
with exponential backoff; 401, 404, an unknown model, a prompt too long for the context,
timeouts and unusable replies become NarratorErrors that say what happened, with the server's
own message cut to one line. Untrusted text in the prompt has special-token look-alikes broken
up, since the server's tokenizer is out of our hands.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from engine.errors import NarratorError
from engine.narrators import NarrationRequest, TokenCallback, parse_options
from engine.narrators.gbnf import GrammarError
from engine.narrators.llm_output import DraftError, NarrationStream, parse_scene
from engine.narrators.openai_formats import (MODES, SHOWS_SCHEMA, follows_schema,
                                             ignored_format, names_context, names_extra_field,
                                             names_response_format, response_fields,
                                             sampler_fields, scene_grammar, scene_schema,
                                             top_level_error)
from engine.narrators.prompting import PromptBuilder
from engine.narrators.sampling import Sampling, sampling_from, split_sampling
from engine.schema import SceneDraft
from engine.seeds import derive_seed
from engine.templates import Templates

log = logging.getLogger(__name__)

KEY_VARIABLES = ("DREAMREEL_OPENAI_KEY", "OPENAI_API_KEY")
MAX_ERROR_BODY = 8000      # bytes of an error reply read for its message
MAX_MESSAGE = 160          # characters of a server's message shown to the player
RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
# Options of the transformers narrator: a [narrator] config table is shared by both backends.
OTHER_BACKEND_OPTIONS = frozenset({"device", "dtype", "max_new_tokens", "close_tokens",
                                   "constrained", "cache_prefix", "fast_forward", "threads",
                                   "trust_remote_code"})
_BROKEN_STREAM = (ConnectionError, http.client.HTTPException, urllib.error.URLError)


@dataclass(frozen=True)
class OpenAIOptions:
    """Settings of the openai narrator (all may be given as `make_narrator` options).

    Sampler options (temperature, top_k, min_p, repetition_penalty, dry_multiplier, preset...)
    are engine.narrators.sampling's and are accepted alongside these.
    """

    max_tokens: int = 900         # the answer's token budget on the server
    narration_chars: int = 1100   # most characters of narration asked for (schema and grammar)
    stop: str = ""                # stop strings, separated by |  ("" = none)
    timeout: float = 60.0         # seconds to connect, and at most between two streamed chunks
    total_timeout: float = 300.0  # seconds for a whole scene
    retries: int = 2              # extra tries after connection errors, resets, 429 and 5xx
    backoff: float = 0.5          # seconds before the first retry, doubled each time
    attempts: int = 2             # drafts tried when an answer is not a valid scene
    response_format: str = "auto" # auto (json_schema, grammar, json_object, none) or one of them
    extra_fields: bool = True     # send llama.cpp / vLLM sampler fields (top_k, min_p, dry_*...)
    stream: bool = True           # stream the answer (SSE)
    api_key: str = ""             # default: $DREAMREEL_OPENAI_KEY or $OPENAI_API_KEY


class _FormatRefused(Exception):
    """Internal: the server refused the request because of its response format."""


class _ExtrasRefused(Exception):
    """Internal: the server refused the extra sampler fields."""


class _Broken(Exception):
    """Internal: the answer broke off (reset, empty stream); worth another try."""


def _parse_options(options: dict) -> tuple[OpenAIOptions, Sampling]:
    sampler, rest = split_sampling(options)
    ignored = sorted(set(rest) & OTHER_BACKEND_OPTIONS)
    if ignored:
        log.info("openai narrator: ignoring transformers options %s", ", ".join(ignored))
    parsed = parse_options(OpenAIOptions, {k: v for k, v in rest.items() if k not in ignored},
                           "openai")
    if parsed.response_format not in ("auto",) + MODES:
        raise NarratorError(f"response_format must be auto, {', '.join(MODES)} "
                            f"(got '{parsed.response_format}').")
    if parsed.max_tokens < 1 or parsed.timeout <= 0 or parsed.total_timeout <= 0 \
            or parsed.retries < 0 or parsed.attempts < 1:
        raise NarratorError("Options max_tokens and attempts must be at least 1, timeout and "
                            "total_timeout above 0, retries 0 or more.")
    return parsed, sampling_from(sampler, None)   # a server's model size is unknown: medium


class OpenAINarrator:
    """Narrates with a model behind an OpenAI-compatible chat-completions endpoint."""

    id = "openai"

    def __init__(self, model: str, base_url: str, templates: Templates | None = None, **options):
        if not model or not base_url.startswith(("http://", "https://")):
            raise NarratorError("Use --narrator openai:<model>@<base url>, e.g. "
                                "openai:qwen2.5:7b@http://localhost:11434/v1")
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.options, self.sampling = _parse_options(options)
        auto = self.options.response_format == "auto"
        self._mode = MODES[0] if auto else self.options.response_format
        self._extras = self.options.extra_fields
        self._confirmed = ""           # the mode last seen telling a scene (for the log)
        self._lock = threading.Lock()
        self._schema = scene_schema(self.options.narration_chars)
        self._grammar: str | None = None
        self._prompts = {shown: PromptBuilder(templates, neutralize=True, show_schema=shown)
                         for shown in (False, True)}

    @classmethod
    def from_spec(cls, rest: str, **options) -> "OpenAINarrator":
        """Build from the part of the spec after `openai:`, i.e. `<model>@<base url>`."""
        at = max(rest.rfind("@http://"), rest.rfind("@https://"))
        if at <= 0:
            raise NarratorError(f"'openai:{rest}' needs a server: use openai:<model>@<base url>, "
                                f"e.g. openai:qwen2.5:7b@http://localhost:11434/v1")
        return cls(rest[:at], rest[at + 1:], **options)

    @property
    def api_key(self) -> str:
        return self.options.api_key or next(
            (os.environ[v] for v in KEY_VARIABLES if os.environ.get(v)), "")

    @property
    def mode(self) -> str:
        """The response format now in use: json_schema, grammar, json_object or none."""
        return self._mode

    # -- the protocol -----------------------------------------------------------------------
    def narrate(self, request: NarrationRequest,
                on_token: TokenCallback | None = None) -> SceneDraft:
        """Tell one scene; NarratorError with a reason when the server cannot give one."""
        reasons = []
        for attempt in range(self.options.attempts):
            seed = request.seed if attempt == 0 else derive_seed(request.seed, "retry", attempt)
            stream_to = on_token if attempt == 0 or on_token is None else (
                lambda _text: on_token(""))
            request.extras["truncated"] = False
            content = self._complete(request, seed, stream_to)
            request.extras["raw_output"] = content
            try:
                broken = top_level_error(content)
                if broken:
                    raise DraftError(broken)
                return parse_scene(content)
            except DraftError as err:
                cut = (" (the server stopped at max_tokens; raise the max_tokens option)"
                       if request.extras.get("truncated") else "")
                reasons.append(f"attempt {attempt + 1}: {err}{cut}")
        raise NarratorError(f"Model '{self.model}' at {self.base_url} gave no usable scene "
                            f"(response format {request.extras.get('response_mode', self._mode)})"
                            f": {'; '.join(reasons)}.")

    def _complete(self, request: NarrationRequest, seed: int, on_token) -> str:
        """One answer, stepping down the response formats while the server refuses them."""
        while True:
            mode, extras = self._mode, self._extras
            try:
                body = self._body(request, seed, mode, extras)
                content = self._post(body, request.extras, on_token)
            except _FormatRefused as err:
                self._step_down(mode, f"refused it ({err})")
                continue
            except _ExtrasRefused as err:
                if not extras:
                    raise NarratorError(f"The server at {self.base_url} refused the request: "
                                        f"{err}") from None
                log.info("openai narrator: %s refused the extra sampler fields (%s); sending "
                         "the standard ones only", self.base_url, err)
                self._extras = False
                continue
            request.extras["response_mode"] = mode
            if ignored_format(mode, content) and self.options.response_format == "auto" \
                    and mode != MODES[-1]:
                self._step_down(mode, "answered without applying it")
                return content   # this draft is judged as it is; the next uses the next mode
            request.extras["response_honoured"] = follows_schema(content)
            if self._confirmed != mode:
                self._confirmed = mode
                log.info("openai narrator: %s tells scenes with response format %s%s",
                         self.base_url, mode, "" if request.extras["response_honoured"] else
                         " (this answer needed mending)")
            return content

    def _step_down(self, mode: str, why: str) -> None:
        """Move to the next response format, or explain why there is none to move to."""
        later = MODES[MODES.index(mode) + 1:]
        if self.options.response_format != "auto" or not later:
            fixed = ("; try response_format=auto" if self.options.response_format != "auto"
                     else "")
            raise NarratorError(f"The server at {self.base_url} cannot use response format "
                                f"{mode}: it {why}{fixed}.")
        with self._lock:
            if self._mode == mode:
                self._mode = later[0]
                log.info("openai narrator: response format %s at %s: the server %s; "
                         "trying %s", mode, self.base_url, why, later[0])

    def _body(self, request: NarrationRequest, seed: int, mode: str, extras: bool) -> dict:
        prompt = self._prompts[mode in SHOWS_SCHEMA].build(request)
        messages = [{"role": "system", "content": prompt.system},
                    {"role": "user", "content": prompt.user}]
        request.extras["prompt"] = prompt.text()
        request.extras["messages"] = messages
        request.extras["prompt_tokens"] = len(prompt.text()) // 4   # until the server says
        body = {"model": self.model, "messages": messages, "stream": self.options.stream,
                "max_tokens": self.options.max_tokens, "seed": seed}
        body.update(sampler_fields(self.sampling, extras))
        if self.options.stop:
            body["stop"] = [part.encode().decode("unicode_escape")
                            for part in self.options.stop.split("|") if part][:4]
        if mode == "grammar" and self._grammar is None:
            try:
                self._grammar = scene_grammar(self._schema)
            except GrammarError as err:
                raise _FormatRefused(f"the scene schema has no grammar: {err}") from None
        body.update(response_fields(mode, self._schema, self._grammar))
        return body

    # -- HTTP -------------------------------------------------------------------------------
    def _post(self, body: dict, extras: dict, on_token) -> str:
        url = f"{self.base_url}/chat/completions"
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json",
                   "Accept": "text/event-stream, application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
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
                code, message = err.code, _error_message(err)
                failure = self._http_error(code, message, body)
                if failure is not None:
                    raise failure from None
                last, reached = f"HTTP {code}: {message}", True
                continue
            except (urllib.error.URLError, TimeoutError, socket.timeout, ConnectionError,
                    http.client.HTTPException) as err:
                last = _connection_reason(err)
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
            return _FormatRefused(f"{code}: {message}")
        if code >= 400 and any(name in body for name in ("top_k", "min_p")) \
                and names_extra_field(message):
            return _ExtrasRefused(f"{code}: {message}")
        if code in (400, 422) and sent_format:
            return _FormatRefused(f"{code}: {message}")   # older servers say no more than that
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
            raise _Broken(f"the connection broke mid-answer ({_connection_reason(err)})"
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
            raise _Broken("the stream ended before any data")
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
        return _cut(f"{'.'.join(where)}: {found.group(3)}" if where else found.group(3), limit)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) >= 3 and re.match(r"\d+ validation errors? for ", lines[0]):   # pydantic
        problem = re.sub(r"\s*\[type=.*$", "", lines[2])
        return _cut(f"{lines[1]}: {problem}", limit)
    useful = [line for line in lines if not line.startswith(("Traceback", "File \"", "^"))
              and not re.match(r"\d+ validation errors?:?$", line)]
    return _cut(useful[0] if useful else text.replace("\n", " "), limit)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:-(")
    return f"{cut or text[:limit]}…"


def _error_message(err: urllib.error.HTTPError) -> str:
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


def _connection_reason(err: BaseException) -> str:
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


__all__ = ["OpenAINarrator", "OpenAIOptions", "MODES", "KEY_VARIABLES", "summarize"]
