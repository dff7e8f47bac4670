"""The transformers narrator: any local Hugging Face causal LM tells the scenes.

`--narrator transformers:<hub id or folder>`. The prompt comes from the moddable templates
(engine.narrators.prompting), is tokenized safely (engine.narrators.hf_runtime) and decoded in a
token loop of our own, which gives us what model.generate does not give together:
  * grammar-constrained sampling (engine.narrators.guidance), so every draft parses;
  * a draft cut off by the token budget is closed off by the grammar, then validated;
  * the samplers players know (engine.narrators.sampling: repetition, frequency and presence
    penalties, DRY, min-p, top-k, top-p, temperature; preset by the model's size), seeded
    from the scene's seed (engine.narrators.hf_sampler);
  * the narration kept to the world's word range while it is written, ending at a sentence,
    with room always left for the choices (engine.narrators.shaping), and never a run of
    words copied from the prompt or from itself (engine.narrators.copyguard);
  * streaming: on_token is called after every token with the new narration text, "" when the
    token added none, so a cancelled job (on_token raises JobCancelled) stops within a token;
  * the KV cache of the stable prompt prefix (system, world bible, summary) is kept between
    turns and a copy reused when the next prompt starts with the same token ids.
Failures are NarratorErrors with a reason. For the prompt inspector, request.extras gets
"prompt" (the exact text, template markup included), "prompt_tokens", "raw_output", "truncated",
"timings" (of the attempt that counted: reused prefix tokens, time to first token, tokens/s)
and "attempts" (the timings of every attempt).
This module imports torch and transformers at the top: import it only when the spec is used.
"""

from __future__ import annotations

import codecs
import copy
import inspect
import threading
import time
from dataclasses import dataclass, replace

import torch
from transformers import DynamicCache

from engine.errors import JobCancelled, NarratorError
from engine.narrators import NarrationRequest, TokenCallback
from engine.narrators import parse_options as parse_backend_options
from engine.compute import torch_device, torch_dtype
from engine.narrators.attempts import Attempt, first_usable_draft
from engine.narrators.hf_runtime import (Encoded, PromptEncoder, context_size, eos_ids,
                                         load_model, logits_size)
from engine.narrators.copyguard import CopyGuard, WordStarts
from engine.narrators.hf_sampler import TokenSampler
from engine.narrators.llm_output import DraftError, NarrationStream, parse_scene
from engine.narrators.prompting import PromptBuilder
from engine.narrators.sampling import Sampling, sampling_from, split_sampling
from engine.narrators.shaping import NarrationShape, shape_for
from engine.story.schema import SceneDraft
from engine.worlds.templates import Templates

RETRY_TEMPERATURE = 0.7   # the least temperature of a retry, so greedy decoding can retry
PREFILL_CHUNK = 256       # prompt tokens per forward pass (a cancellation check between them)


@dataclass(frozen=True)
class HFOptions:
    """Settings of the transformers narrator (all may be given as `make_narrator` options;
    the sampler's knobs are engine.narrators.sampling.Sampling's and go beside these)."""

    device: str = "auto"          # auto | cpu | cuda | cuda:N | mps
    dtype: str = "auto"           # auto (fp32 on CPU, half on GPU) | float32 | bfloat16 | float16
    max_new_tokens: int = 0       # token budget of a draft (0: from the world's word range)
    close_tokens: int = 160       # extra tokens allowed to close a draft cut off by the budget
    constrained: bool = True      # grammar-constrained decoding with llguidance
    attempts: int = 2             # drafts tried (with derived seeds) before giving up
    cache_prefix: bool = True     # keep the KV cache of the stable prompt prefix
    fast_forward: bool = True     # feed tokens the grammar forces (keys, quotes) in one step
    threads: int = 0              # torch CPU threads; 0: all cores but those kept for the window
    trust_remote_code: bool = False


def parse_options(options: dict) -> HFOptions:
    """HFOptions from keyword options, converting strings (from a command line) to field types."""
    return parse_backend_options(HFOptions, options, "transformers")


@dataclass
class _Prefix:
    ids: tuple[int, ...]
    cache: object


@dataclass
class _Output:
    text: str
    tokens: int
    complete: bool     # False: the grammar could not be closed within the extra tokens
    truncated: bool    # the token budget ran out (the draft was closed off, or is cut off)


class _Detokenizer:
    """Token ids to text as they come, never splitting a UTF-8 character."""

    def __init__(self, grammar, tokenizer):
        self.grammar, self.tokenizer = grammar, tokenizer
        self.utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.ids: list[int] = []
        self.sent = ""

    def push(self, token: int) -> str:
        if self.grammar is not None:        # exact bytes, as the grammar saw them
            return self.utf8.decode(self.grammar.token_bytes(token))
        self.ids.append(token)              # no grammar: decode all, hold back partial chars
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True).rstrip("\ufffd")
        if not text.startswith(self.sent):
            return ""
        new, self.sent = text[len(self.sent):], text
        return new

    def finish(self) -> str:
        if self.grammar is not None:
            return self.utf8.decode(b"", final=True)
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True)
        return text[len(self.sent):] if text.startswith(self.sent) else ""


class TransformersNarrator:
    """Narrates with a local causal LM. Loads lazily (or call load()); one scene at a time."""

    id = "transformers"

    def __init__(self, model: str, templates: Templates | None = None, **options):
        self.model = model
        sampler_options, rest = split_sampling(options)
        self.options = parse_options(rest)
        self._sampler_options = sampler_options
        sampling_from(sampler_options)        # a bad sampler option fails here, not mid-game
        self.sampling: Sampling | None = None   # set when the model is loaded (preset by size)
        self.prompts = PromptBuilder(templates)
        self.last_timings: dict = {}
        self._lock = threading.RLock()
        self._lm = None
        self._tokenizer = None
        self._prefix: _Prefix | None = None

    @classmethod
    def from_objects(cls, model, tokenizer, name: str = "in-memory",
                     templates: Templates | None = None, **options) -> "TransformersNarrator":
        """A narrator over an already loaded model and tokenizer (benchmarks, tests, embedding)."""
        narrator = cls(name, templates, **options)
        narrator._setup(model.eval(), tokenizer, str(next(model.parameters()).device))
        return narrator

    def load(self) -> None:
        """Load the model now (it is otherwise loaded by the first narrate call).

        Raises:
            NarratorError: the model is missing, offline, too big, or not a causal LM; the
                message suggests `dreamreel models pull ID` or `--narrator storylets`.
        """
        with self._lock:
            if self._lm is not None:
                return
            device = torch_device(self.options.device)
            try:
                dtype = torch_dtype(device, self.options.dtype)
            except ValueError as err:
                raise NarratorError(str(err)) from None
            model, tokenizer = load_model(self.model, device, dtype,
                                          self.options.trust_remote_code)
            self._setup(model, tokenizer, device)

    def unload(self) -> None:
        """Free the model and its caches."""
        with self._lock:
            self._lm = self._tokenizer = self._prefix = None

    def _setup(self, model, tokenizer, device: str) -> None:
        if device == "cpu":
            from engine.compute import torch_threads
            torch.set_num_threads(self.options.threads or torch_threads())
        self._device = device
        self._vocab = logits_size(model)
        self._eos = eos_ids(model, tokenizer)
        self._context = context_size(model)
        self._encoder = PromptEncoder(tokenizer)
        self._keep_logits = True
        self._cache_argument = _cache_argument(model)
        self._grammar = None
        if self.options.constrained:
            try:
                from engine.narrators.guidance import SceneGrammar
            except ImportError as err:
                raise NarratorError(f"Constrained decoding needs llguidance ({err.name} is "
                                    f"missing): pip install -e '.[ml]'.") from None
            self._grammar = SceneGrammar(tokenizer, self._vocab, self._eos)
        self.sampling = sampling_from(self._sampler_options, _parameters(model))
        self._token_texts = (self._grammar.token_texts if self._grammar is not None
                             else _token_texts(tokenizer, self._vocab))
        self._word_starts = WordStarts(self._token_texts, self._vocab)
        self._lm, self._tokenizer = model, tokenizer

    # -- the protocol -----------------------------------------------------------------------
    def narrate(self, request: NarrationRequest,
                on_token: TokenCallback | None = None) -> SceneDraft:
        """Tell one scene; see the module docstring for streaming, caching and failures."""
        with self._lock:
            self.load()
            shape = shape_for(request.world)
            budget = self.options.max_new_tokens or shape.token_budget()
            encoded = self._fit(request, budget)
            request.extras["prompt"] = encoded.text
            request.extras["prompt_tokens"] = len(encoded.ids)
            self._check_length(encoded, budget)
            tries: list[dict] = []
            request.extras["attempts"] = tries

            def write(attempt: Attempt) -> SceneDraft:
                timings = {"attempt": attempt.number}
                tries.append(timings)
                self.last_timings = request.extras["timings"] = timings
                # A retry must differ even when decoding is greedy.
                temperature = self.sampling.temperature if attempt.first else max(
                    self.sampling.temperature, RETRY_TEMPERATURE)
                output = self._run(encoded, attempt.seed, temperature, attempt.on_token,
                                   timings, shape, budget)
                request.extras["raw_output"] = output.text
                if not output.complete:
                    raise DraftError(f"the draft was cut off and could not be closed within "
                                     f"{self.options.close_tokens} extra tokens")
                draft = parse_scene(output.text)
                request.extras["truncated"] = output.truncated
                return draft

            hint = ("" if self.options.constrained else " Turn constrained decoding on "
                    "(constrained=true) so every draft parses.")
            return first_usable_draft(
                request.seed, self.options.attempts, on_token, write,
                lambda reasons: f"Narrator model '{self.model}' wrote no usable scene: "
                                f"{reasons}.{hint}")

    def _fit(self, request: NarrationRequest, budget: int) -> Encoded:
        """The prompt, with the oldest recent scenes (then the summary) left out while it does
        not fit the model's context with room for the answer: small models keep playing."""
        encoded = self._encoder.encode(self.prompts.build(request))
        trimmed = request
        while not self._fits(encoded, budget) and (trimmed.recent or trimmed.summary):
            if len(trimmed.recent) > 1:
                trimmed = replace(trimmed, recent=trimmed.recent[1:])
            elif trimmed.summary:
                trimmed = replace(trimmed, summary="")
            else:
                trimmed = replace(trimmed, recent=())
            encoded = self._encoder.encode(self.prompts.build(trimmed))
        return encoded

    def _fits(self, encoded: Encoded, budget: int) -> bool:
        needed = len(encoded.ids) + budget + self.options.close_tokens
        return self._context is None or needed <= self._context

    def _check_length(self, encoded: Encoded, budget: int) -> None:
        needed = len(encoded.ids) + budget + self.options.close_tokens
        if self._context is not None and needed > self._context:
            raise NarratorError(f"The prompt is {len(encoded.ids)} tokens; with room for the "
                                f"answer that exceeds the model's context of {self._context}. "
                                f"Shorten the world's prompts or lore, or lower max_new_tokens.")

    def _run(self, encoded: Encoded, seed: int, temperature: float, on_token,
             timings: dict, shape: NarrationShape, budget: int) -> _Output:
        try:
            with torch.inference_mode():
                return self._generate(encoded, seed, temperature, on_token, timings, shape,
                                      budget)
        except (JobCancelled, NarratorError):
            raise
        except torch.OutOfMemoryError:
            self._prefix = None
            raise NarratorError(f"Out of memory while narrating with '{self.model}'. Try a "
                                f"smaller model or --narrator storylets.") from None
        except Exception as err:  # a model bug must not take the game down
            self._prefix = None
            raise NarratorError(f"Narrator model '{self.model}' failed while writing: "
                                f"{type(err).__name__}: {err}") from err

    # -- decoding ---------------------------------------------------------------------------
    def _generate(self, encoded: Encoded, seed: int, temperature: float, on_token,
                  timings: dict, shape: NarrationShape, budget: int) -> _Output:
        options, grammar = self.options, self._grammar
        sampler = TokenSampler(self.sampling, self._vocab, self._token_texts, encoded.ids)
        guard = CopyGuard(self.sampling.no_repeat_words, encoded.text, self._word_starts)
        start = time.perf_counter()
        logits, cache = self._prefill(encoded, timings,
                                      (lambda: on_token("")) if on_token else (lambda: None))
        generator = torch.Generator(device="cpu").manual_seed(seed)
        matcher = grammar.matcher() if grammar is not None else None
        detok = _Detokenizer(grammar, self._tokenizer)
        stream, pieces, ids = NarrationStream(), [], []
        closing, first_at, passes = False, None, 0
        while True:
            if len(ids) >= budget:
                if matcher is None or closing:
                    break
                closing, budget = True, budget + options.close_tokens
            allowed = grammar.allowed(matcher) if matcher is not None else None
            token = grammar.closing_token(allowed, stream.in_string) if closing else None
            if token is None and not closing and matcher is not None and stream.in_label \
                    and _same_label(stream.label, stream.labels):
                narrowed = allowed & ~grammar.closes_string   # no second choice of that name
                allowed = narrowed if narrowed.any() else allowed
            if token is None and not closing and matcher is not None and stream.capturing:
                banned = guard.banned(stream.text)      # no copied run of words
                if banned is not None:
                    narrowed = allowed.copy()
                    narrowed[banned[banned < narrowed.shape[0]]] = False
                    allowed = narrowed if narrowed.any() else allowed
            if token is None and closing:   # text the grammar still needs: the model's pick
                token = sampler.sample(logits, grammar.text_only(allowed), generator,
                                       max(temperature, 1.0))
            elif token is None:
                if matcher is not None and stream.capturing:   # keep to the word range
                    allowed, token = shape.steer(stream.text, allowed, grammar)
                if token is None:
                    token = sampler.sample(logits, allowed, generator, temperature)
            if token in self._eos and (matcher is None or matcher.is_accepting()):
                break
            if matcher is not None and not matcher.consume_token(token):
                raise NarratorError(f"The scene grammar rejected a token: {matcher.get_error()}")
            fresh = [token]
            if matcher is not None and options.fast_forward and not matcher.is_stopped():
                forced = matcher.compute_ff_tokens()   # text the grammar dictates (keys, quotes)
                if forced and matcher.consume_tokens(forced):
                    fresh.extend(forced)
            ids.extend(fresh)
            sampler.push(fresh)
            first_at = first_at or time.perf_counter()
            for item in fresh:
                piece = detok.push(item)
                pieces.append(piece)
                new_text = stream.feed(piece)
                if on_token is not None:
                    on_token(new_text)
            if matcher is not None and (matcher.is_stopped() or matcher.is_error()):
                break
            logits, cache = self._forward(fresh, cache)
            passes += 1
        end = time.perf_counter()
        pieces.append(detok.finish())
        timings.update(new_tokens=len(ids), forward_passes=passes, closed_off=closing,
                       ttft_s=round((first_at or end) - start, 4),
                       decode_tokens_per_s=round((len(ids) - 1) / (end - first_at), 3)
                       if first_at and len(ids) > 1 and end > first_at else 0.0,
                       total_s=round(end - start, 4))
        complete = matcher.is_accepting() if matcher is not None else True
        return _Output(text="".join(pieces), tokens=len(ids), complete=complete,
                       truncated=closing or len(ids) >= budget)

    def _forward(self, ids, cache):
        inputs = torch.tensor([list(ids)], device=self._device)
        kwargs = {self._cache_argument: cache, "use_cache": True}
        if self._keep_logits:
            try:
                out = self._lm(input_ids=inputs, logits_to_keep=1, **kwargs)
                return out.logits[0, -1], _cache_of(out)
            except TypeError:     # models without logits_to_keep compute every position
                self._keep_logits = False
        out = self._lm(input_ids=inputs, **kwargs)
        return out.logits[0, -1], _cache_of(out)

    def _new_cache(self):
        try:
            return DynamicCache(config=self._lm.config)
        except Exception:
            return DynamicCache()

    def _prefill(self, encoded: Encoded, timings: dict, beat):
        """Run the prompt, reusing a copy of the cached stable prefix where the ids match."""
        ids, stable = encoded.ids, encoded.stable
        cache, done = None, 0
        prefix = self._prefix if self.options.cache_prefix else None
        if prefix is not None:
            same = _common_prefix(prefix.ids, ids[:stable])
            if same == len(prefix.ids):
                cache, done = copy.deepcopy(prefix.cache), same
            elif same > 0 and _croppable(prefix.cache):
                cache, done = copy.deepcopy(prefix.cache), same
                cache.crop(same - len(prefix.ids))
        cache = cache if cache is not None else self._new_cache()
        timings.update(prompt_tokens=len(ids), reused_tokens=done)
        if self.options.cache_prefix and done < stable:
            _, cache = self._forward_chunks(ids[done:stable], cache, beat)
            self._prefix = _Prefix(ids=tuple(ids[:stable]), cache=copy.deepcopy(cache))
            done = stable
        return self._forward_chunks(ids[done:], cache, beat)

    def _forward_chunks(self, ids, cache, beat):
        """Forward a long run of ids in chunks, with a heartbeat between them so that a
        cancelled job does not wait for the whole prompt."""
        for start in range(0, len(ids) - PREFILL_CHUNK, PREFILL_CHUNK):
            _, cache = self._forward(ids[start:start + PREFILL_CHUNK], cache)
            beat()
        tail = len(ids) - (len(ids) - 1) % PREFILL_CHUNK - 1 if len(ids) > PREFILL_CHUNK else 0
        return self._forward(ids[tail:], cache)


def _same_label(label: str, earlier: list[str]) -> bool:
    wanted = " ".join(label.lower().split())
    return any(" ".join(other.lower().split()) == wanted for other in earlier)


def _cache_argument(model) -> str:
    """forward's name for the KV cache. transformers 5 renamed `past_key_values` to `cache` (the
    old name still works, with a FutureWarning), so `cache` unless the model's forward names
    only the old one. The class's forward is asked, not the instance's: a wrapper put on one
    model (a hook, a test's script) must not hide the real name and bring the warning back."""
    names = inspect.signature(type(model).forward).parameters
    return "past_key_values" if "past_key_values" in names and "cache" not in names else "cache"


def _cache_of(output):
    cache = getattr(output, "cache", None)
    return cache if cache is not None else output.past_key_values


def _parameters(model) -> int | None:
    try:
        return int(model.num_parameters())
    except Exception:   # a wrapped or exotic model: the medium preset
        return None


def _token_texts(tokenizer, vocab: int) -> list[bytes]:
    """Each token id's text as bytes (for DRY's breakers) when there is no grammar to ask."""
    texts = tokenizer.batch_decode([[token] for token in range(min(vocab, len(tokenizer)))])
    return [text.encode("utf-8", errors="replace") for text in texts]


def _common_prefix(a, b) -> int:
    n = min(len(a), len(b))
    for index in range(n):
        if a[index] != b[index]:
            return index
    return n


def _croppable(cache) -> bool:
    """True when every layer keeps every position (sliding windows cannot be cut back)."""
    layers = getattr(cache, "layers", None)
    return bool(layers) and all(type(layer).__name__ == "DynamicLayer" for layer in layers)


__all__ = ["TransformersNarrator", "HFOptions", "parse_options"]
