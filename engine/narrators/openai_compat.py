"""The openai narrator: any OpenAI-compatible chat-completions server tells the scenes.

`--narrator openai:<model>@<base url>`, e.g. `openai:qwen2.5:7b@http://localhost:11434/v1`
(Ollama), llama-cpp-python's or llama.cpp's server, vLLM or text-generation-webui. Options
come from the spec (`...?min_p=0.1&response_format=grammar`), the config's [narrator] table
and `:narrator`. The API key comes from the option api_key or the environment
(DREAMREEL_OPENAI_KEY, then OPENAI_API_KEY).

Each scene is one chat completion (engine.narrators.openai_wire does the HTTP). The response
format steps down json_schema -> grammar -> json_object -> none (engine.narrators.openai_formats)
whenever the server refuses one with an error that names it, or answers without applying it;
the mode that works is kept for later scenes and logged, and request.extras["response_mode"]
says which one told a scene. Sampler settings (engine.narrators.sampling, the medium preset
unless `preset` says otherwise: a server's model size is unknown) go out as standard and
server-specific fields. Whatever the mode, the answer is validated like every draft
(engine.narrators.llm_output). Untrusted text in the prompt has special-token look-alikes
broken up, since the server's tokenizer is out of our hands.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from engine.errors import NarratorError
from engine.narrators import NarrationRequest, TokenCallback, parse_options
from engine.narrators.attempts import Attempt, first_usable_draft
from engine.narrators.gbnf import GrammarError
from engine.narrators.llm_output import DraftError, parse_scene
from engine.narrators.openai_formats import (MODES, SHOWS_SCHEMA, follows_schema,
                                             ignored_format, response_fields, sampler_fields,
                                             narration_chars, scene_grammar, scene_schema,
                                             top_level_error)
from engine.narrators.openai_wire import (KEY_VARIABLES, ChatEndpoint, ExtrasRefused,
                                          FormatRefused, api_key, split_model_url, summarize)
from engine.narrators.prompting import PromptBuilder
from engine.narrators.sampling import Sampling, sampling_from, split_sampling
from engine.story.schema import SceneDraft
from engine.worlds.templates import Templates

log = logging.getLogger(__name__)

DEFAULT_WORDS = (80, 180)   # narration words of a world that names none
# Options of the transformers narrator: a [narrator] config table is shared by both backends.
OTHER_BACKEND_OPTIONS = frozenset({"device", "dtype", "max_new_tokens", "close_tokens",
                                   "constrained", "cache_prefix", "fast_forward", "threads",
                                   "trust_remote_code"})


@dataclass(frozen=True)
class OpenAIOptions:
    """Settings of the openai narrator (all may be given as `make_narrator` options).

    Sampler options (temperature, top_k, min_p, repetition_penalty, dry_multiplier, preset...)
    are engine.narrators.sampling's and are accepted alongside these.
    """

    max_tokens: int = 900         # the answer's token budget on the server
    narration_chars: int = 0      # most characters of narration (0: from the world's words)
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
        self._shapes: dict[tuple[int, int], tuple[dict, str | None]] = {}   # schema, grammar
        self._prompts = {shown: PromptBuilder(templates, neutralize=True, show_schema=shown)
                         for shown in (False, True)}
        self.endpoint = ChatEndpoint(self.base_url, model, self.options, lambda: self.api_key)

    @classmethod
    def from_spec(cls, rest: str, **options) -> "OpenAINarrator":
        """Build from the part of the spec after `openai:`, i.e. `<model>@<base url>`."""
        parts = split_model_url(rest)
        if parts is None:
            raise NarratorError(f"'openai:{rest}' needs a server: use openai:<model>@<base url>, "
                                f"e.g. openai:qwen2.5:7b@http://localhost:11434/v1")
        return cls(*parts, **options)

    @property
    def api_key(self) -> str:
        return api_key(self.options.api_key)

    @property
    def mode(self) -> str:
        """The response format now in use: json_schema, grammar, json_object or none."""
        return self._mode

    # -- the protocol -----------------------------------------------------------------------
    def narrate(self, request: NarrationRequest,
                on_token: TokenCallback | None = None) -> SceneDraft:
        """Tell one scene; NarratorError with a reason when the server cannot give one."""
        def write(attempt: Attempt) -> SceneDraft:
            request.extras["truncated"] = False
            content = self._complete(request, attempt.seed, attempt.on_token)
            request.extras["raw_output"] = content
            try:
                broken = top_level_error(content)
                if broken:
                    raise DraftError(broken)
                return parse_scene(content)
            except DraftError as err:
                if request.extras.get("truncated"):
                    raise DraftError(f"{err} (the server stopped at max_tokens; raise the "
                                     f"max_tokens option)") from None
                raise

        return first_usable_draft(
            request.seed, self.options.attempts, on_token, write,
            lambda reasons: f"Model '{self.model}' at {self.base_url} gave no usable scene "
                            f"(response format {request.extras.get('response_mode', self._mode)})"
                            f": {reasons}.")

    def _complete(self, request: NarrationRequest, seed: int, on_token) -> str:
        """One answer, stepping down the response formats while the server refuses them."""
        while True:
            mode, extras = self._mode, self._extras
            try:
                body = self._body(request, seed, mode, extras)
                content = self.endpoint.complete(body, request.extras, on_token)
            except FormatRefused as err:
                self._step_down(mode, f"refused it ({err})")
                continue
            except ExtrasRefused as err:
                if not extras:
                    raise NarratorError(f"The server at {self.base_url} refused the request: "
                                        f"{err}") from None
                log.info("openai narrator: %s refused the extra sampler fields (%s); sending "
                         "the standard ones only", self.base_url, err)
                self._extras = False
                continue
            request.extras["response_mode"] = mode
            request.extras["response_honoured"] = False
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
        schema, grammar = self._shape(request, mode)
        body.update(response_fields(mode, schema, grammar))
        return body

    def _shape(self, request: NarrationRequest, mode: str) -> tuple[dict, str | None]:
        """The schema (and in grammar mode the grammar) for this world's narration length."""
        words = getattr(request.world.spec, "narration_words", None) or DEFAULT_WORDS
        bounds = narration_chars(tuple(words), self.options.narration_chars)
        schema, grammar = self._shapes.get(bounds) or (scene_schema(bounds), None)
        if mode == "grammar" and grammar is None:
            try:
                grammar = scene_grammar(schema)
            except GrammarError as err:
                raise FormatRefused(f"the scene schema has no grammar: {err}") from None
        self._shapes[bounds] = (schema, grammar)
        return schema, grammar


__all__ = ["OpenAINarrator", "OpenAIOptions", "MODES", "KEY_VARIABLES", "summarize"]
