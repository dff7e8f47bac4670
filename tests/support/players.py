"""Scripted players for the player model's tests and bench (issue 16, "the world knows you").

Two ways of playing: an aggressive player takes fight and flee choices, quickly, and types
curt, rude actions; a gentle one takes talk and help choices, slowly, and types long, kind
ones. play() drives a Session with one of them for a number of turns (a turn is a choice or a
typed action; at an ending the player rolls back and takes another way) and returns what the
story showed them: the storylet of each scene they arrived at.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ScriptedPlayer:
    """A way of playing: preferred intents, typed lines, how often they type, their pace."""

    name: str
    intents: tuple[str, ...]       # choices with these intents are taken first, in this order
    lines: tuple[str, ...]         # typed actions, used in turn
    type_every: int = 4            # every n-th turn is a typed action
    seconds: float = 5.0           # time taken to choose


AGGRESSIVE = ScriptedPlayer(
    "aggressive", ("fight", "flee"),
    ("Out of my way, fool.", "Smash it.", "Hit him hard.", "Shut up, idiot.",
     "Kill it. Now.", "Damn this place."),
    seconds=1.5)
GENTLE = ScriptedPlayer(
    "gentle", ("talk", "help"),
    ("Thank you, friend. Is there anything at all I can do to help you?",
     "I am so glad you are here; please tell me how you are feeling today.",
     "Kindly offer to carry the heavy things for them, with a warm smile.",
     "Ask gently whether they would like some company for a while, and listen.",
     "Comfort them and thank them for their patience and their kindness."),
    seconds=12.0)
PLAYERS = (AGGRESSIVE, GENTLE)


@dataclass
class Played:
    """What a scripted player was shown: the storylet of every scene they arrived at."""

    player: str
    sources: list[str] = field(default_factory=list)   # storylet ids ("" for reactions)

    def tags(self, world) -> Counter:
        """How often each storylet tag was shown."""
        counts: Counter = Counter()
        for source in self.sources:
            storylet = world.storylets.get(source)
            if storylet is not None:
                counts.update(storylet.spec.tags)
        return counts

    def poles(self, world) -> Counter:
        """How often each tendency the world maps tags to ([player_model] tags) was shown."""
        mapping = world.spec.player_model.tags
        counts: Counter = Counter()
        for tag, count in self.tags(world).items():
            if tag in mapping:
                counts[mapping[tag]] += count
        return counts


def pick(session, player: ScriptedPlayer) -> int:
    """The choice this player takes here: the first of their intents offered, else one
    chosen by the turn (so they do not walk the same way every time)."""
    choices = session.choices()
    for intent in player.intents:
        for index, choice in enumerate(choices):
            if choice.intent == intent:
                return index
    return session.turn % len(choices)


def play(session, player: ScriptedPlayer, turns: int = 40) -> Played:
    """Play `turns` turns with a scripted player; the session must use an InlineRunner (or be
    waited on). At an ending the player goes back to the scene before and takes another way."""
    played = Played(player.name)
    session.wait()
    done = 0
    while done < turns:
        if session.ended or not session.choices():
            while session.back() and not _untaken(session):
                pass
            index = _untaken(session)[0] if _untaken(session) else 0
            session.choose(index, seconds=player.seconds)
        elif (done + 1) % player.type_every == 0:
            session.act(player.lines[(done // player.type_every) % len(player.lines)],
                        seconds=player.seconds * 2)
        else:
            session.choose(pick(session, player), seconds=player.seconds)
        session.wait()
        done += 1
        source = session.scene().current.source if session.scene().current else ""
        played.sources.append(source if ":" not in source else "")
    return played


def _untaken(session) -> list[int]:
    return [i for i, choice in enumerate(session.choices()) if not choice.visited]


def distribution(counts: Counter) -> dict[str, float]:
    """Counts as shares of their total, largest first."""
    total = sum(counts.values()) or 1
    return {key: round(value / total, 4) for key, value in counts.most_common()}


def total_variation(first: Counter, second: Counter) -> float:
    """Total variation distance between two count distributions (0 same .. 1 disjoint)."""
    a, b = distribution(first), distribution(second)
    return round(sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in a.keys() | b.keys()) / 2, 4)
