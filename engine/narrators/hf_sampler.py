"""Picking the next token for the transformers narrator: penalties, DRY, grammar mask, sampling.

The knobs are those of engine.narrators.sampling.Sampling, applied in llama.cpp's order:
repetition penalty over a range, frequency and presence penalties, the DRY sequence-repetition
penalty, no-repeat n-gram, then the grammar's mask, then top-k, top-p and min-p, then
temperature. Token penalties count what this scene has written; over the prompt too they would
push a small model off the words every scene needs ("you", "the") and into junk. Copying from
the prompt is DRY's job, which penalises only runs of tokens. transformers' own logits processors do what they exist for (repetition penalty,
no-repeat n-gram, top-k, top-p, min-p, temperature); frequency/presence and DRY are here.

DRY (as in KoboldCpp, llama.cpp and text-generation-webui): when the text just written repeats
an earlier run of tokens, the token that would continue the repeat is penalised by
multiplier x base^(length - allowed_length). Its history is the tail of the prompt (recent
scenes, so copying the previous scene is penalised) plus everything generated. Match lengths
are kept incrementally, one vectorised step per token, so the cost stays flat. Sequence
breakers (JSON quotes and colons by default) reset a match: the scene format's keys repeat by
nature and are never penalised. Imports torch and numpy; only engine.narrators.hf uses it.
"""

from __future__ import annotations

import numpy as np
import torch
from transformers.generation.logits_process import (MinPLogitsWarper,
                                                    NoRepeatNGramLogitsProcessor,
                                                    RepetitionPenaltyLogitsProcessor,
                                                    TemperatureLogitsWarper, TopKLogitsWarper,
                                                    TopPLogitsWarper)

from engine.narrators.sampling import Sampling

MAX_DRY_EXPONENT = 30    # a longer repeat is penalised like one of this length (no overflow)


class DryPenalty:
    """Incremental DRY over a token history.

    `match[j]` is the length of the longest common suffix of history[:j+1] and the whole
    history, counted without crossing a breaker token; the token after position j would extend
    that repeat.
    """

    def __init__(self, multiplier: float, base: float, allowed_length: int, window: int,
                 breakers: np.ndarray):
        self.multiplier, self.base = multiplier, base
        self.allowed = max(1, allowed_length)
        self.window = window if window > 0 else 1 << 30
        self.breakers = breakers                   # bool per token id
        self.tokens = np.zeros(0, dtype=np.int64)
        self.match = np.zeros(0, dtype=np.int32)

    def extend(self, ids) -> None:
        for token in ids:
            self._push(int(token))

    def _push(self, token: int) -> None:
        tokens, match = self.tokens, self.match
        n = tokens.shape[0]
        new = np.zeros(n + 1, dtype=np.int32)
        breaker = token < self.breakers.shape[0] and self.breakers[token]
        if n and not breaker:
            same = tokens == token
            if self.breakers.shape[0]:
                same &= ~self.breakers[np.minimum(tokens, self.breakers.shape[0] - 1)]
            new[0] = 1 if same[0] else 0
            new[1:n] = np.where(same[1:], match[:-1] + 1, 0)
        tokens = np.append(tokens, token)
        if tokens.shape[0] > self.window:       # forget the oldest: matches there end early
            tokens, new = tokens[-self.window:], new[-self.window:]
        self.tokens, self.match = tokens, new

    def penalties(self, vocab: int) -> np.ndarray | None:
        """Per-token amounts to subtract from the logits now, or None when nothing repeats."""
        if self.multiplier <= 0 or self.tokens.shape[0] < 2:
            return None
        lengths = self.match[:-1]                  # the last position has no next token
        hits = np.nonzero(lengths >= self.allowed)[0]
        if hits.size == 0:
            return None
        following = self.tokens[hits + 1]
        exponent = np.minimum(lengths[hits] - self.allowed, MAX_DRY_EXPONENT)
        amounts = self.multiplier * np.power(self.base, exponent)
        out = np.zeros(vocab, dtype=np.float32)
        keep = following < vocab
        np.maximum.at(out, following[keep], amounts[keep].astype(np.float32))
        return out


class TokenSampler:
    """The next token from the model's logits, under a Sampling and an optional grammar mask.

    Args:
        sampling: the knobs.
        vocab: the number of logits.
        token_texts: the text of each token id (for DRY's breakers).
        prompt_ids: the prompt's token ids (their tail is DRY's and the penalties' history).
    """

    def __init__(self, sampling: Sampling, vocab: int, token_texts: list[bytes],
                 prompt_ids):
        self.sampling, self.vocab = sampling, vocab
        self.history: list[int] = list(prompt_ids)
        self.generated: list[int] = []
        self._counts = torch.zeros(vocab, dtype=torch.float32)
        self._repetition = (RepetitionPenaltyLogitsProcessor(sampling.repetition_penalty)
                            if sampling.repetition_penalty not in (0.0, 1.0) else None)
        self._ngram = (NoRepeatNGramLogitsProcessor(sampling.no_repeat_ngram)
                       if sampling.no_repeat_ngram > 1 else None)
        self._top_k = TopKLogitsWarper(sampling.top_k) if sampling.top_k > 0 else None
        self._top_p = TopPLogitsWarper(sampling.top_p) if 0 < sampling.top_p < 1 else None
        self._min_p = MinPLogitsWarper(sampling.min_p) if 0 < sampling.min_p < 1 else None
        self._dry = None
        if sampling.dry_multiplier > 0:
            breakers = breaker_mask(token_texts, sampling.dry_breakers, vocab)
            self._dry = DryPenalty(sampling.dry_multiplier, sampling.dry_base,
                                   sampling.dry_allowed_length, sampling.dry_range, breakers)
            window = sampling.dry_range if sampling.dry_range > 0 else len(self.history)
            self._dry.extend(self.history[-window:])

    def push(self, ids) -> None:
        """Tokens that joined the text (sampled or forced by the grammar)."""
        ids = list(ids)
        self.history.extend(ids)
        self.generated.extend(ids)
        for token in ids:
            if token < self.vocab:
                self._counts[token] += 1
        if self._dry is not None:
            self._dry.extend(ids)

    def adjusted(self, logits: torch.Tensor) -> torch.Tensor:
        """The logits after every repetition penalty (before the grammar mask), shape (1, V)."""
        s = self.sampling
        scores = logits.float().reshape(1, -1)[:, :self.vocab].cpu()
        if self._repetition is not None:
            window = self.generated[-s.repetition_range:] if s.repetition_range > 0 \
                else self.generated
            if window:
                scores = self._repetition(torch.tensor([window]), scores)
        if self.generated and (s.frequency_penalty or s.presence_penalty):
            scores = scores - (self._counts * s.frequency_penalty
                               + (self._counts > 0).float() * s.presence_penalty)
        if self._dry is not None:
            amounts = self._dry.penalties(self.vocab)
            if amounts is not None:
                scores = scores - torch.from_numpy(amounts)
        if self._ngram is not None and len(self.generated) >= s.no_repeat_ngram:
            scores = self._ngram(torch.tensor([self.generated]), scores)
        return scores

    def sample(self, logits: torch.Tensor, allowed: np.ndarray | None, generator,
               temperature: float) -> int:
        """Penalties, then the grammar mask, then top-k / top-p / min-p and temperature."""
        scores = self.adjusted(logits)
        if allowed is not None:
            mask = torch.from_numpy(allowed[:scores.shape[-1]])
            scores = scores.masked_fill(~mask, float("-inf"))
        if temperature <= 0:
            return int(torch.argmax(scores))
        ids = torch.zeros((1, 1), dtype=torch.long)
        for warper in (self._top_k, self._top_p, self._min_p):
            if warper is not None:
                scores = warper(ids, scores)
        scores = TemperatureLogitsWarper(temperature)(ids, scores)
        probs = torch.softmax(scores, dim=-1)
        if not torch.isfinite(probs).all() or float(probs.sum()) <= 0:
            return int(torch.argmax(scores))
        return int(torch.multinomial(probs[0], 1, generator=generator))


def breaker_mask(token_texts: list[bytes], breakers, vocab: int) -> np.ndarray:
    """True for token ids whose text holds a sequence breaker (they end every DRY match)."""
    wanted = [b.encode("utf-8") for b in breakers if b]
    mask = np.zeros(vocab, dtype=bool)
    for token, piece in enumerate(token_texts[:vocab]):
        if piece and any(b in piece for b in wanted):
            mask[token] = True
    return mask


__all__ = ["TokenSampler", "DryPenalty", "breaker_mask"]
