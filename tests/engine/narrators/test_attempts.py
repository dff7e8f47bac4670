"""engine.narrators.attempts: the retry loop the transformers and openai narrators share."""

import pytest

from engine.errors import JobCancelled, NarratorError
from engine.narrators.attempts import attempt_plan, first_usable_draft
from engine.narrators.llm_output import DraftError
from engine.story.seeds import derive_seed

def test_only_the_first_try_streams_and_retries_get_derived_seeds():
    shown: list[str] = []
    plan = attempt_plan(42, 3, shown.append)
    assert [a.number for a in plan] == [1, 2, 3] and plan[0].first and not plan[1].first
    assert [a.seed for a in plan] == [42, derive_seed(42, "retry", 1), derive_seed(42, "retry", 2)]
    plan[0].on_token("Rain")
    plan[1].on_token("Rain again")          # a heartbeat: nothing shown twice
    assert shown == ["Rain", ""]
    assert attempt_plan(42, 0, None)[0].on_token is None and len(attempt_plan(42, 0, None)) == 1


def test_the_first_usable_draft_wins_after_failed_tries():
    seen, draft = [], object()     # the loop hands back whatever the backend validated

    def write(attempt):
        seen.append(attempt.number)
        if attempt.number < 2:
            raise DraftError("no JSON object")
        return draft

    assert first_usable_draft(7, 3, None, write, lambda reasons: reasons) is draft
    assert seen == [1, 2]


def test_every_reason_is_listed_when_all_tries_fail():
    def write(attempt):
        raise DraftError(f"bad {attempt.number}")

    with pytest.raises(NarratorError, match=r"^no scene: attempt 1: bad 1; attempt 2: bad 2$"):
        first_usable_draft(7, 2, None, write, lambda reasons: f"no scene: {reasons}")


def test_a_cancellation_is_not_retried():
    calls = []

    def write(attempt):
        calls.append(attempt.number)
        raise JobCancelled()

    with pytest.raises(JobCancelled):
        first_usable_draft(7, 3, None, write, lambda reasons: reasons)
    assert calls == [1]
