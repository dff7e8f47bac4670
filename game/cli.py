"""The `dreamreel` command: play (window or terminal), saves, models, worlds, eval.

Parses flags, builds the Config (defaults < user file < flags) and hands over to the front end.
Every DreamreelError becomes a one-paragraph message and exit code 2, never a traceback.
pygame is imported only when a window is opened.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.config import Config, load_config
from engine.errors import DreamreelError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dreamreel", description="Dreamreel: a local AI story "
                                     "game that writes itself as you play.")
    parser.add_argument("--config", type=Path, help="a config file to use instead of the user's")
    commands = parser.add_subparsers(dest="command")

    play = commands.add_parser("play", help="play a story (window, or --text for the terminal)")
    play.add_argument("--text", action="store_true", help="play in the terminal")
    play.add_argument("--world", help="world id or folder")
    play.add_argument("--narrator", help="storylets | transformers:<id or path> | "
                      "openai:<model>@<base url>")
    play.add_argument("--painter", help="procedural | none | diffusers:<id or path>")
    play.add_argument("--seed", type=int, help="story seed (same seed + same input = same story)")
    play.add_argument("--slot", default="autosave", help="slot to autosave into")
    play.add_argument("--continue", dest="resume", action="store_true",
                      help="resume the latest save (or --slot's)")
    play.add_argument("--saves-dir", type=Path, help="folder for saves and the image cache")
    play.add_argument("--frames", type=int, help="window: run N frames, then exit")
    play.add_argument("--screenshot", type=Path, help="window: save the last frame here")
    play.add_argument("--fullscreen", action="store_true", default=None)

    saves = commands.add_parser("saves", help="list save slots")
    saves.add_argument("action", choices=["list"])
    saves.add_argument("--saves-dir", type=Path)

    models = commands.add_parser("models", help="list or download narrator and painter models")
    models.add_argument("action", choices=["list", "pull"])
    models.add_argument("model", nargs="?", help="hub id to download")
    models.add_argument("--painter", action="store_true",
                        help="pull: it is an image model (recommended ones are known)")

    worlds = commands.add_parser("worlds", help="list, check, create or import worlds")
    worlds.add_argument("action", choices=["list", "validate", "new", "import"])
    worlds.add_argument("target", nargs="?", help="world folder, new world name or file")
    worlds.add_argument("--into", type=Path, help="import: the world folder to add to")

    evaluate = commands.add_parser("eval", help="play scripted turns with a narrator and "
                                   "report narration quality and speed")
    evaluate.add_argument("--narrator", help="narrator spec, options in a query: "
                          "transformers:<path>?max_new_tokens=256")
    evaluate.add_argument("--world", help="world id or folder")
    evaluate.add_argument("--turns", type=int, help="actions after the opening (default 10, "
                          "or the script's length)")
    evaluate.add_argument("--script", type=Path, help="one action a line: a number picks that "
                          "choice, other text is typed; # starts a comment")
    evaluate.add_argument("--prompts", action="append", metavar="DIR", help="a folder of prompt "
                          "templates to try; repeat to compare folders side by side "
                          "('default': the world's own)")
    evaluate.add_argument("--seed", type=int, help="story seed (default: the config's, else 1)")
    evaluate.add_argument("--words", default="60-200", metavar="MIN-MAX",
                          help="narration words of a well-formed scene (default 60-200)")
    evaluate.add_argument("--json", type=Path, metavar="OUT", help="write every figure as JSON")
    evaluate.add_argument("--transcript", type=Path, metavar="OUT",
                          help="the transcript's file (default: saves/eval/WORLD-seedN.md)")
    return parser


def make_config(args: argparse.Namespace) -> Config:
    config = load_config(user_file=args.config)
    game = {}
    for name in ("world", "narrator", "painter", "seed"):
        value = getattr(args, name, None)
        if value is not None:
            game[name] = value
    if getattr(args, "saves_dir", None) is not None:
        game["saves_dir"] = str(args.saves_dir)
    display = {}
    if getattr(args, "fullscreen", None):
        display["fullscreen"] = True
    return config.with_changes(game=game, display=display)


def cmd_play(args: argparse.Namespace) -> int:
    from engine.jobs import ThreadedRunner
    from engine.session import Session

    config = make_config(args)
    if args.text:
        from game.terminal import play_text
        if args.resume:
            name = args.slot if args.slot != "autosave" else None
            session = Session.resume(config, name, slot=args.slot, runner=ThreadedRunner())
        else:
            session = Session.new(config, slot=args.slot, runner=ThreadedRunner())
        return play_text(session)
    from game.app import run_window
    return run_window(config, resume=args.resume, slot=args.slot, frames=args.frames,
                      screenshot=args.screenshot)


def cmd_saves(args: argparse.Namespace) -> int:
    from engine.saves import SaveStore
    config = make_config(args)
    store = SaveStore(config.saves_dir)
    slots = store.list()
    if not slots:
        print(f"No saves in {store.slots_dir}.")
        return 0
    print(f"{'slot':<20} {'saved':<17} {'turn':>5} {'scenes':>7}  world / scene")
    for meta, name, problem in slots:
        if meta is None:
            print(f"{name:<20} DAMAGED: {problem}")
        else:
            print(f"{name:<20} {meta.when:<17} {meta.turn:>5} {meta.scenes:>7}  "
                  f"{meta.world_title} / {meta.scene_title}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from engine import models
    if args.action == "list":
        return models.list_models(sys.stdout)
    if not args.model:
        print("Name the model to download: dreamreel models pull <hub id>", file=sys.stderr)
        return 2
    return models.pull_model(args.model, sys.stdout, kind="painter" if args.painter else None)


def cmd_worlds(args: argparse.Namespace) -> int:
    from engine import worldtools
    return worldtools.run(args.action, args.target, args, make_config(args), sys.stdout)


def cmd_eval(args: argparse.Namespace) -> int:
    from engine import evaluation
    from engine.atomic import write_atomic

    config = make_config(args)
    script = evaluation.read_script(args.script) if args.script else evaluation.DEFAULT_SCRIPT
    turns = args.turns if args.turns is not None else (
        len(script) if args.script else evaluation.DEFAULT_TURNS)
    settings = evaluation.EvalSettings(
        narrator=config.game.narrator, world=config.game.world, turns=turns, script=script,
        seed=config.game.seed or 1, prompts=tuple(args.prompts or ()),
        word_range=evaluation.parse_word_range(args.words))
    results = evaluation.evaluate(config, settings)
    print(evaluation.printed(settings, results))
    transcript = args.transcript or (config.saves_dir / "eval" /
                                     f"{results[0].world_id}-seed{settings.seed}.md")
    outputs = [(transcript, evaluation.transcripts(settings, results), "Transcript")]
    if args.json:
        outputs.append((args.json, evaluation.as_json(settings, results), "JSON"))
    for path, text, what in outputs:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, text.encode("utf-8"), durable=False)
        except OSError as err:
            raise evaluation.EvalError(f"Cannot write {path}: {err.strerror or err}.") from None
        print(f"{what}: {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["play", *(argv or sys.argv[1:])])
    handlers = {"play": cmd_play, "saves": cmd_saves, "models": cmd_models,
                "worlds": cmd_worlds, "eval": cmd_eval}
    try:
        code = handlers[args.command](args)
    except DreamreelError as err:
        print(f"dreamreel: {err}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:              # `dreamreel saves list | head`: the reader left early
        from game.terminal import silence
        silence(sys.stdout)
        code = 0
    _exit_past_busy_models(code)
    return code


def _exit_past_busy_models(code: int) -> None:
    """Saves are on disk by now (sessions flush them when closed). A model still inside one
    long forward pass on a worker thread would make quitting hang, and tearing Python down
    under it would abort the process: leave at once instead."""
    import os
    import threading
    if any(t.name.startswith("dreamreel-job") and t.is_alive() for t in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
