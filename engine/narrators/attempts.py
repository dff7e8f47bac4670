"""Asking a language model again when its scene is unusable: the retry loop LLM narrators share.

A model's draft may fail to parse or validate (engine.narrators.llm_output) or be cut off.
Every LLM narrator then tries again the same way: a seed derived from the scene's seed, so a
retry differs from the first try yet a replay gets the same drafts; only the first try streams
its text to the player (a retry sends "" heartbeats, so a cancelled job still stops and the
text on screen is never written twice); and when every try fails, one NarratorError lists the
reason of each. The backends keep what is their own: how one try runs and what it records.
No model, no network, no I/O here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.errors import NarratorError
from engine.narrators import TokenCallback
from engine.narrators.llm_output import DraftError
from engine.story.schema import SceneDraft
from engine.story.seeds import derive_seed


@dataclass(frozen=True)
class Attempt:
    """One try at a scene, as the backend should run it."""

    number: int                      # 1 for the first try
    seed: int                        # the scene's seed first, then one derived per retry
    on_token: TokenCallback | None   # the caller's callback first, then a heartbeat of ""

    @property
    def first(self) -> bool:
        return self.number == 1


def attempt_plan(seed: int, attempts: int, on_token: TokenCallback | None) -> list[Attempt]:
    """The tries a narrator makes for a scene seeded with seed (at least one)."""
    heartbeat = None if on_token is None else (lambda _text: on_token(""))
    return [Attempt(number, seed if number == 1 else derive_seed(seed, "retry", number - 1),
                    on_token if number == 1 else heartbeat)
            for number in range(1, max(1, attempts) + 1)]


def first_usable_draft(seed: int, attempts: int, on_token: TokenCallback | None,
                       write: Callable[[Attempt], SceneDraft],
                       failure: Callable[[str], str]) -> SceneDraft:
    """The first draft write() returns, trying up to attempts times.

    Args:
        seed: the scene's seed (request.seed).
        attempts: how many tries at most (at least one is made).
        on_token: the player's streaming callback, or None.
        write: runs one try; returns a valid draft or raises DraftError saying why it is not.
            Anything else it raises (JobCancelled, NarratorError) ends the loop at once.
        failure: turns the joined reasons ("attempt 1: ...; attempt 2: ...") into the message
            of the NarratorError raised when no try gives a draft.

    Raises:
        NarratorError: every try failed; the message comes from failure().
    """
    reasons = []
    for attempt in attempt_plan(seed, attempts, on_token):
        try:
            return write(attempt)
        except DraftError as err:
            reasons.append(f"attempt {attempt.number}: {err}")
    raise NarratorError(failure("; ".join(reasons)))


__all__ = ["Attempt", "attempt_plan", "first_usable_draft"]
