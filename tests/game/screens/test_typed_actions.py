"""Typed actions answered, as a player meets them: a real `dreamreel play --text` process.

Twenty actions typed into each world, some a storylet can satisfy, some it cannot, some
nonsense. Every narration that follows names the action or its object; the location changes
only when a storylet that fits says so (a reaction in place gives back the scene's choices);
the counts of fitting storylets and in-place reactions are printed (pytest -s shows them).
"""

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.narrators.matching import parse_action, stem, tokens
from engine.worlds.loading import load_world

# Starts the game in a process of its own: `pytest -m "not slow"` leaves it out.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]

LANTERN_COAST = [
    "Kiss Ivy", "Light the lamp", "Jump into the sea", "xyzzy", "ask Ivy about her brother",
    "hello?", "look around the harbour", "buy a drink at the inn", "punch the wall",
    "go up to the lighthouse", "search the cottage", "read the keeper's log",
    "climb to the lamp room", "Climb to the lamp room and light the lamp", "plugh",
    "dance a jig", "sleep", "sell the lens", "walk to the moor", "talk to Maren",
]
HOLLOW_ORBIT = [
    "Punch the wall", "hello?", "what day is it?", "xyzzy", "examine the empty pod",
    "search the lockers", "swap the canister", "sing a song", "kiss CANTOR",
    "go to the reactor", "hello?", "talk to Petra", "sell my boots", "asdf",
    "fix the reactor", "go to hydroponics", "burn the roots", "look around", "dance",
    "go back to the cryo bay",
]


@dataclass
class Turn:
    """One typed action and what the terminal showed after it."""

    action: str
    title: str
    narration: str
    choices: list[str]
    location: str


def play(tmp_path: Path, world: str, seed: int, actions: list[str]) -> str:
    """Type each action followed by :state; return the transcript."""
    script = "".join(f"{action}\n:state\n" for action in actions)
    result = subprocess.run(
        [sys.executable, "-m", "game.cli.main", "play", "--text", "--world", world, "--seed",
         str(seed), "--painter", "none", "--saves-dir", str(tmp_path / "saves")],
        input=script.encode(), capture_output=True, cwd=ROOT, timeout=300,
        env={**os.environ, "DREAMREEL_CONFIG": "/nonexistent"})
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert "Traceback" not in out + result.stderr.decode()
    return out


def scenes(transcript: str) -> tuple[list[str], list[Turn]]:
    """The opening's choices and every typed action's scene, choices and location after it."""
    blocks = re.split(r"^> ", transcript, flags=re.M)
    opening_choices = _choices(blocks[0])
    turns = []
    for block, state in zip(blocks[1::2], blocks[2::2]):
        action, _, body = block.partition("\n")
        title = re.search(r"^== (.*) ==$", body, re.M)
        narration = body[title.end():] if title else body
        narration = narration.split("\n  1. ")[0].split("*** THE END")[0]
        location = re.search(r"^  Location: (\S+)", state, re.M)
        turns.append(Turn(action, title.group(1) if title else "", " ".join(narration.split()),
                          _choices(body), location.group(1) if location else ""))
    return opening_choices, turns


def _choices(text: str) -> list[str]:
    return re.findall(r"^  \d\. (.*)$", text, re.M)


def names_the_action(world, action: str, narration: str) -> bool:
    """The narration names the action (its verb, or its words) or its object, or those of
    one of its clauses ("climb to the lamp room and light the lamp")."""
    whole = parse_action(action, world)
    said = {stem(t) for t in tokens(narration)}
    for parsed in [whole] + [parse_action(clause, world) for clause in whole.clauses]:
        thing = [stem(t) for t in tokens(parsed.thing)]
        if (parsed.verb and stem(parsed.verb) in said) or (thing and all(t in said for t in thing)):
            return True
    return action.lower().strip("?!. ") in narration.lower()


@pytest.mark.parametrize("world_id, seed, actions", [("lantern_coast", 5, LANTERN_COAST),
                                                     ("hollow_orbit", 5, HOLLOW_ORBIT)])
def test_twenty_typed_actions_are_answered_in_the_terminal(tmp_path, world_id, seed, actions):
    world = load_world(world_id)
    assert len(actions) == 20
    previous_choices, turns = scenes(play(tmp_path, world_id, seed, actions))
    assert [turn.action for turn in turns] == actions
    location = world.initial_state().location
    fitting, reactions = [], []
    for turn in turns:
        assert turn.title and turn.narration, turn
        assert names_the_action(world, turn.action, turn.narration), turn
        in_place = turn.choices == previous_choices
        if in_place:
            reactions.append(turn.action)
            assert turn.location == location, f"a reaction moved the player: {turn}"
        else:
            fitting.append(turn.action)
            told = [s for s in world.storylets.values() if s.spec.title == turn.title]
            assert told, f"not a storylet of the world: {turn}"
            if turn.location != location:
                assert turn.location in {s.spec.effects.location for s in told}, turn
        location, previous_choices = turn.location, turn.choices
    print(f"\n{world_id}: {len(fitting)} of 20 typed actions got a fitting storylet, "
          f"{len(reactions)} an in-place reaction")
    print("  storylet:", "; ".join(fitting))
    print("  reaction:", "; ".join(reactions))
    assert len(fitting) >= 8 and len(reactions) >= 8
    for nonsense in ("xyzzy", "plugh", "asdf"):
        assert nonsense not in fitting


def test_the_issues_examples_in_the_terminal(tmp_path):
    _, turns = scenes(play(tmp_path, "lantern_coast", 5, LANTERN_COAST[:4]))
    titles = [turn.title for turn in turns]
    assert len(set(titles[:3])) == 3 and "The Drowned Wall" not in titles
    assert all(turn.location == "harbour" for turn in turns)          # xyzzy moves no one
    lamp = next(t for t in scenes(play(tmp_path / "b", "lantern_coast", 5, LANTERN_COAST))[1]
                if t.action == "Climb to the lamp room and light the lamp")
    assert "Gull" not in lamp.title and lamp.location == "lighthouse"
    _, turns = scenes(play(tmp_path / "c", "hollow_orbit", 5, ["Punch the wall", "hello?"]))
    assert [turn.location for turn in turns] == ["cryo_bay", "cryo_bay"]


def test_regenerating_a_reaction_keeps_the_player_where_they_were(tmp_path):
    opening, turns = scenes(play(tmp_path, "lantern_coast", 5, ["Kiss Ivy", ":regen"]))
    assert turns[0].choices == opening and turns[0].location == "harbour"
    regenerated = turns[1]
    assert regenerated.choices == opening and regenerated.location == "harbour"
    assert "Ivy" in regenerated.narration
