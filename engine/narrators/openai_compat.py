"""The openai narrator: any OpenAI-compatible chat-completions server tells the scenes.

`--narrator openai:<model>@<base url>`, e.g. `openai:qwen2.5:7b@http://localhost:11434/v1`
(Ollama), a llama.cpp server, vLLM or text-generation-webui. The API key comes from the option
api_key or the environment (DREAMREEL_OPENAI_KEY, then OPENAI_API_KEY). Standard library only.

Each scene is one streamed (SSE) chat completion asking for the scene schema as
`response_format: {type: json_schema, ...}`. A server that rejects that with 400 is asked again
with `json_object`, then with the schema spelled out in the prompt; the mode that works is kept.
Whatever the mode, the answer is validated like every draft (engine.narrators.llm_output).
Connection errors, 429 and 5xx are retried with exponential backoff; 401, 404, an unknown model,
a refused connection, timeouts and unusable replies become NarratorErrors that say what to do.
Untrusted text in the prompt has special-token look-alikes broken up, since the server's
tokenizer is out of our hands.
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from engine.errors import NarratorError
from engine.narrators import NarrationRequest, TokenCallback, parse_options
from engine.narrators.llm_output import DraftError, NarrationStream, parse_scene
from engine.narrators.prompting import PromptBuilder
from engine.schema import SceneDraft, llm_scene_json_schema
from engine.seeds import derive_seed
from engine.templates import Templates

MODES = ("json_schema", "json_object", "none")
KEY_VARIABLES = ("DREAMREEL_OPENAI_KEY", "OPENAI_API_KEY")
MAX_ERROR_BODY = 4000      # bytes of an error reply read for its message
RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class OpenAIOptions:
    """Settings of the openai narrator (all may be given as `make_narrator` options)."""

    temperature: float = 0.8
    top_p: float = 0.95
    max_tokens: int = 900         # the answer's token budget on the server
    timeout: float = 60.0         # seconds to connect, and at most between two streamed chunks
    total_timeout: float = 300.0  # seconds for a whole scene
    retries: int = 2              # extra tries after connection errors, timeouts, 429 and 5xx
    backoff: float = 0.5          # seconds before the first retry, doubled each time
    attempts: int = 2             # drafts tried when an answer is not a valid scene
    response_format: str = "auto" # auto (json_schema, then json_object, then none) or one of them
    stream: bool = True           # stream the answer (SSE)
    api_key: str = ""             # default: $DREAMREEL_OPENAI_KEY or $OPENAI_API_KEY


class _Rejected(Exception):
    """Internal: the server answered 400; the response format may be the reason."""


def _parse_options(options: dict) -> OpenAIOptions:
    parsed = parse_options(OpenAIOptions, options, "openai")
    if parsed.response_format not in ("auto",) + MODES:
        raise NarratorError(f"response_format must be auto, {', '.join(MODES)}.")
    return parsed


class OpenAINarrator:
    """Narrates with a model behind an OpenAI-compatible chat-completions endpoint."""

    id = "openai"

    def __init__(self, model: str, base_url: str, templates: Templates | None = None, **options):
        if not model or not base_url.startswith(("http://", "https://")):
            raise NarratorError("Use --narrator openai:<model>@<base url>, e.g. "
                                "openai:qwen2.5:7b@http://localhost:11434/v1")
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.options = _parse_options(options)
        self._mode = MODES[0] if self.options.response_format == "auto" else \
            self.options.response_format
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
        """The response format now in use: json_schema, json_object or none."""
        return self._mode

    # -- the protocol -----------------------------------------------------------------------
    def narrate(self, request: NarrationRequest,
                on_token: TokenCallback | None = None) -> SceneDraft:
        """Tell one scene; NarratorError with a reason when the server cannot give one."""
        reasons = []
        for attempt in range(max(1, self.options.attempts)):
            seed = request.seed if attempt == 0 else derive_seed(request.seed, "retry", attempt)
            stream_to = on_token if attempt == 0 or on_token is None else (
                lambda _text: on_token(""))
            request.extras["truncated"] = False
            content = self._complete(request, seed, stream_to)
            request.extras["raw_output"] = content
            try:
                return parse_scene(content)
            except DraftError as err:
                cut = (" (the server stopped at max_tokens; raise the max_tokens option)"
                       if request.extras.get("truncated") else "")
                reasons.append(f"attempt {attempt + 1}: {err}{cut}")
        raise NarratorError(f"Model '{self.model}' at {self.base_url} gave no usable scene: "
                            f"{'; '.join(reasons)}.")

    def _complete(self, request: NarrationRequest, seed: int, on_token) -> str:
        """One answer, stepping down the response formats while the server rejects them."""
        while True:
            prompt = self._prompts[self._mode != "json_schema"].build(request)
            messages = [{"role": "system", "content": prompt.system},
                        {"role": "user", "content": prompt.user}]
            request.extras["prompt"] = prompt.text()
            request.extras["messages"] = messages
            request.extras["prompt_tokens"] = len(prompt.text()) // 4   # until the server says
            body = {"model": self.model, "messages": messages, "stream": self.options.stream,
                    "temperature": self.options.temperature, "top_p": self.options.top_p,
                    "max_tokens": self.options.max_tokens, "seed": seed}
            if self._mode == "json_schema":
                body["response_format"] = {"type": "json_schema", "json_schema": {
                    "name": "scene", "schema": llm_scene_json_schema(), "strict": True}}
            elif self._mode == "json_object":
                body["response_format"] = {"type": "json_object"}
            try:
                return self._post(body, request.extras, on_token)
            except _Rejected as err:
                later = MODES[MODES.index(self._mode) + 1:]
                if self.options.response_format != "auto" or not later:
                    raise NarratorError(f"The server at {self.base_url} refused the request "
                                        f"(400): {err}") from None
                self._mode = later[0]

    # -- HTTP -------------------------------------------------------------------------------
    def _post(self, body: dict, extras: dict, on_token) -> str:
        url = f"{self.base_url}/chat/completions"
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json",
                   "Accept": "text/event-stream, application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        delay, last = self.options.backoff, ""
        for attempt in range(self.options.retries + 1):
            if attempt:
                time.sleep(delay)
                delay *= 2
            try:
                response = urllib.request.urlopen(
                    urllib.request.Request(url, data=data, headers=headers, method="POST"),
                    timeout=self.options.timeout)
            except urllib.error.HTTPError as err:
                message = _error_message(err)
                if err.code in RETRY_STATUS:
                    last = f"HTTP {err.code}: {message}"
                    continue
                raise self._http_error(err.code, message) from None
            except (urllib.error.URLError, TimeoutError, socket.timeout, ConnectionError) as err:
                last = _connection_reason(err)
                continue
            with response:
                return self._read(response, extras, on_token)
        raise NarratorError(f"Cannot get an answer from {self.base_url} after "
                            f"{self.options.retries + 1} tries: {last}. Is the server running "
                            f"and the URL right? Or play with --narrator storylets.")

    def _http_error(self, code: int, message: str) -> Exception:
        lowered = message.lower()
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
        if code == 400:
            return _Rejected(message)
        return NarratorError(f"The server at {self.base_url} answered {code}: {message}")

    def _available_models(self) -> str:
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=5) as response:
                names = [m.get("id", "?") for m in json.load(response).get("data", [])][:12]
        except Exception:  # a hint only; the main error stands without it
            return ""
        return f" Models there: {', '.join(names)}." if names else ""

    def _read(self, response, extras: dict, on_token) -> str:
        kind = response.headers.get("Content-Type", "")
        if "text/event-stream" not in kind:
            payload = _json(response.read(), self.base_url)
            return self._message_content(payload, extras, on_token)
        deadline = time.monotonic() + self.options.total_timeout
        stream, parts, saw_data = NarrationStream(), [], False
        try:
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
                    raise NarratorError(f"The server at {self.base_url} failed: "
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
        except (TimeoutError, socket.timeout):
            raise NarratorError(f"The server at {self.base_url} stopped sending for "
                                f"{self.options.timeout:g} s.") from None
        if not saw_data:
            raise NarratorError(f"The server at {self.base_url} sent no chat-completions "
                                f"stream. Is it an OpenAI-compatible endpoint?")
        return "".join(parts)

    def _message_content(self, payload: dict, extras: dict, on_token) -> str:
        if payload.get("error"):
            raise NarratorError(f"The server at {self.base_url} failed: "
                                f"{_describe_error(payload['error'])}")
        _usage(payload, extras)
        try:
            content = payload["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise NarratorError(f"The server at {self.base_url} answered without a chat "
                                f"completion. Is it an OpenAI-compatible endpoint?") from None
        if on_token is not None:
            on_token(NarrationStream().feed(content))
        return content


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
        return str(error.get("message") or error.get("type") or error)[:300]
    return str(error)[:300]


def _error_message(err: urllib.error.HTTPError) -> str:
    try:
        body = err.read(MAX_ERROR_BODY)
    except Exception:
        body = b""
    try:
        value = json.loads(body)
        if isinstance(value, dict) and "error" in value:
            return _describe_error(value["error"])
        if isinstance(value, dict) and "detail" in value:
            return str(value["detail"])[:300]
    except (json.JSONDecodeError, UnicodeDecodeError):
        pass
    return body.decode("utf-8", errors="replace").strip()[:300] or (err.reason or "no details")


def _connection_reason(err: BaseException) -> str:
    reason = getattr(err, "reason", err)
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(reason, socket.gaierror):
        return "unknown host"
    return str(reason) or type(reason).__name__


__all__ = ["OpenAINarrator", "OpenAIOptions", "MODES", "KEY_VARIABLES"]
