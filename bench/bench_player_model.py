"""The player model (issue 16, "the world knows you"). Prints one JSON object.

- Two scripted players (tests/support/players.py: an aggressive one taking fight / flee choices
  quickly and typing curt, rude actions; a gentle one taking talk / help choices slowly and
  typing long, kind ones) play N turns on each shipped world with the storylet narrator and
  the same seed, with the player model on and, for comparison, off. For each: the profile
  (tendencies, tone, the profile line a language model's prompt gets), the distribution of
  the storylet tags shown, of the tendencies those tags map to ([player_model] tags), and the
  total variation distance between the two players' distributions.
- The cost of the profile per turn 10k scenes deep: the first fold of the whole path (cold),
  then a new scene per turn (median, p99, max), as the Session pays it.

Run: .venv/bin/python bench/bench_player_model.py [--turns 40] [--seed 7] [--depth 10000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.config import load_config  # noqa: E402
from engine.narrators.prompting import PromptBuilder  # noqa: E402
from engine.session.core import Session  # noqa: E402
from engine.session.jobs import InlineRunner  # noqa: E402
from engine.story.graph import StoryGraph  # noqa: E402
from engine.story.player_model import PlayerModel  # noqa: E402
from engine.worlds.loading import load_world  # noqa: E402
from tests.support.players import PLAYERS, distribution, play, total_variation  # noqa: E402

WORLDS = ("lantern_coast", "hollow_orbit")
PROFILE_LINE = ("The player tends to", "The player seems")


def profile_of(profile) -> dict:
    return {"tendencies": {t.name: {"value": t.value, "confidence": t.confidence,
                                    "said": t.said or "not clear yet"}
                           for t in profile.tendencies()},
            "tone": profile.tone, "line": profile.describe()}


def prompt_line(session) -> str:
    """The profile line of the prompt a language model would get for the scene after this
    one (the real PromptBuilder and templates)."""
    request = session.narration.request(session.current, seed=1)
    text = PromptBuilder().build(request).user
    return next((line for line in text.splitlines() if line.startswith(PROFILE_LINE)), "")


def players_on(world: str, turns: int, seed: int, on: bool, saves: Path) -> dict:
    config = load_config(use_user_file=False).with_changes(
        game={"saves_dir": str(saves), "seed": seed, "painter": "none", "world": world,
              "player_model": on})
    out, shown = {}, {}
    for player in PLAYERS:
        session = Session.new(config, runner=InlineRunner(), read_only=True)
        began = time.perf_counter()
        played = play(session, player, turns)
        seconds = time.perf_counter() - began
        shown[player.name] = played
        profile = session.player_model.profile(session.current)
        entry = {"profile": profile_of(profile),
                 "tags": distribution(played.tags(session.world)),
                 "tendencies_shown": dict(played.poles(session.world).most_common()),
                 "storylets_shown": sum(1 for s in played.sources if s),
                 "reactions_shown": sum(1 for s in played.sources if not s),
                 "seconds": round(seconds, 3)}
        if on:
            entry["prompt_line"] = prompt_line(session)
        out[player.name] = entry
        world_data = session.world
        session.close()
    rough, kind = shown["aggressive"], shown["gentle"]
    out["tag_distance"] = total_variation(rough.tags(world_data), kind.tags(world_data))
    out["tendency_distance"] = total_variation(rough.poles(world_data), kind.poles(world_data))
    return out


def deep_cost(depth: int, turns: int = 300) -> dict:
    """Profile cost per turn at `depth` scenes deep: a chain of scenes with choices and typed
    actions, folded once cold, then one new scene a turn."""
    world = load_world("lantern_coast")
    graph = StoryGraph(world.initial_state())
    node = graph.add_root(seed=1).id
    intents = ("fight", "talk", "explore", "help", "flee", "investigate")
    for index in range(depth):
        typed = index % 5 == 4
        scene = graph.add_child(node, "Thank you, friend, truly." if typed else "Go on",
                                intents[index % len(intents)], seed=index, free_text=typed)
        scene.pace_ms = 0 if typed else 1000 + 997 * index % 20_000
        node = scene.id
    model = PlayerModel(graph)
    began = time.perf_counter()
    model.profile(node)
    cold = time.perf_counter() - began
    costs = []
    for turn in range(turns):
        typed = turn % 4 == 3
        scene = graph.add_child(node, f"Out of my way, fool number {turn}." if typed else "On",
                                intents[turn % len(intents)], seed=turn, free_text=typed)
        began = time.perf_counter()
        model.profile(scene.id)
        costs.append(time.perf_counter() - began)
        node = scene.id
    costs.sort()
    micro = [c * 1e6 for c in costs]
    return {"depth": depth, "cold_fold_ms": round(cold * 1000, 2),
            "per_turn_us": {"median": round(statistics.median(micro), 1),
                            "p99": round(micro[int(len(micro) * 0.99) - 1], 1),
                            "max": round(micro[-1], 1)},
            "note": "typed actions include reading the words with VADER (cached per text)"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--depth", type=int, default=10_000)
    args = parser.parse_args()
    result: dict = {"turns": args.turns, "seed": args.seed, "worlds": {}}
    with tempfile.TemporaryDirectory() as saves:
        for world in WORLDS:
            result["worlds"][world] = {
                "player_model_on": players_on(world, args.turns, args.seed, True, Path(saves)),
                "player_model_off": players_on(world, args.turns, args.seed, False,
                                               Path(saves)),
            }
    result["profile_cost"] = deep_cost(args.depth)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
