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
from engine.library import Library


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
    play.add_argument("--painter", help="procedural | none | diffusers:<id or path> | "
                      "openai-images:<model>@<base url>")
    play.add_argument("--music", help="procedural | none | musicgen:<id or path>")
    play.add_argument("--voice", help="espeak | none | transformers:<id or path> (the voice "
                      "that reads the narration aloud, with --read-aloud)")
    play.add_argument("--read-aloud", action="store_true", default=None,
                      help="read the narration aloud as it appears (self-voicing)")
    play.add_argument("--seed", type=seed_number, help="story seed, 0 to 2^63-1 (same seed + "
                      "same input = same story)")
    play.add_argument("--slot", help="slot to autosave into (default: a new slot per story, "
                      "named after its world and the date; a new story is not started over a "
                      "saved one); with --continue, the slot to resume")
    play.add_argument("--continue", dest="resume", action="store_true",
                      help="resume the latest save (or --slot's)")
    play.add_argument("--read-only", action="store_true",
                      help="play without saving into the slot (e.g. one another game has open)")
    play.add_argument("--fork", metavar="NEW", help="with --continue: go on in a new slot NEW, "
                      "leaving the slot resumed as it is")
    play.add_argument("--player-name", metavar="NAME",
                      help="your name in a new story (default: the world's suggestion)")
    play.add_argument("--pronouns", help="your pronouns in a new story, e.g. she/her")
    play.add_argument("--player-look", metavar="TEXT",
                      help="a short description of your looks, used in every picture that shows "
                      "you")
    play.add_argument("--portrait", type=Path, metavar="FILE",
                      help="a picture of you (PNG, JPEG or WebP), kept in the story's slot and "
                      "never uploaded")
    play.add_argument("--saves-dir", type=Path, help="folder for saves and the image cache")
    play.add_argument("--frames", type=int, help="window: run N frames, then exit")
    play.add_argument("--screenshot", type=Path, help="window: save the last frame here")
    play.add_argument("--fullscreen", action="store_true", default=None)

    saves = commands.add_parser("saves", help="list save slots")
    saves.add_argument("action", choices=["list"])
    saves.add_argument("--saves-dir", type=Path)

    models = commands.add_parser("models", help="list or download narrator, painter, music "
                                 "and voice models")
    models.add_argument("action", choices=["list", "pull"])
    models.add_argument("model", nargs="?", help="hub id to download")
    models.add_argument("--painter", action="store_true",
                        help="pull: it is an image model (recommended ones are known)")
    models.add_argument("--music", action="store_true", help="pull: it is a music model")
    models.add_argument("--voice", action="store_true", help="pull: it is a voice model")

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
    evaluate.add_argument("--seed", type=seed_number,
                          help="story seed (default: the config's, else 1)")
    evaluate.add_argument("--words", default="60-200", metavar="MIN-MAX",
                          help="narration words of a well-formed scene (default 60-200)")
    evaluate.add_argument("--json", type=Path, metavar="OUT", help="write every figure as JSON")
    evaluate.add_argument("--transcript", type=Path, metavar="OUT",
                          help="the transcript's file (default: saves/eval/WORLD-seedN.md)")
    export = commands.add_parser("export", help="make a film, a book or a Twine story of a "
                                                 "saved story (the save is only read)")
    export.add_argument("kind", choices=["film", "book", "twee"])
    export.add_argument("slot", nargs="?", help="the save slot (default: the newest)")
    export.add_argument("--out", type=Path, help="the file to write (default: SLOT.mp4, "
                                                 "SLOT.html and SLOT.epub, or SLOT.twee here)")
    export.add_argument("--path", choices=["current", "longest", "all"], default="current",
                        help="film and book: the path played to the end (current), the "
                             "deepest branch, or every scene told")
    export.add_argument("--format", dest="story_format", choices=["harlowe", "sugarcube"],
                        default="harlowe", help="twee: the Twine story format")
    export.add_argument("--size", choices=["720p", "1080p"], default="720p", help="film size")
    export.add_argument("--music", help="film: the music under the shots (procedural | none | "
                        "musicgen:<id or path>; default: the game's [audio] music; none: a "
                        "quiet bed)")
    export.add_argument("--voice", help="film: the voice that reads the narration (espeak | "
                        "none | transformers:<id or path>; default: the game's [audio] voice)")
    export.add_argument("--saves-dir", type=Path)
    return parser


def seed_number(text: str) -> int:
    """--seed: a whole number a save can hold (0 to 2^63-1), checked before anything starts."""
    from engine import SEED_MAX
    try:
        value = int(text.strip()) if len(text) <= 30 else -1
    except ValueError:
        value = -1
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"{text[:30]!r} is not a seed: use a whole number "
                                         f"from 0 to {SEED_MAX}")
    return value


def settings_file(args: argparse.Namespace) -> Path | None:
    """Where settings changed in this run are written (engine.config.settings_file_for)."""
    from engine.config import settings_file_for
    return settings_file_for(getattr(args, "config", None), getattr(args, "saves_dir", None))


def make_config(args: argparse.Namespace) -> Config:
    config = load_config(user_file=args.config)
    if args.config is None and getattr(args, "saves_dir", None) is not None:
        from engine.config import with_settings_file   # what the game wrote there before
        config = with_settings_file(config, settings_file(args))
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
    audio = {name: getattr(args, name) for name in ("music", "voice", "read_aloud")
             if getattr(args, name, None) is not None}
    return config.with_changes(game=game, display=display, audio=audio)


def cmd_play(args: argparse.Namespace) -> int:
    from engine.errors import ConfigError

    config = make_config(args)
    if args.fork and not args.resume:
        raise ConfigError("--fork NEW goes on with a saved story in a new slot: use it with "
                          "--continue (and --slot to say which story).")
    if args.slot and not args.resume and not args.read_only:
        _refuse_taken_slot(config, args.slot)
    if args.text:
        from game.cli.terminal import play_text
        return play_text(_open_story(config, args))
    if args.read_only or args.fork:
        raise ConfigError("--read-only and --fork are for terminal play (--text); the window's "
                          "Load screen opens any slot.")
    from game.launch import run_window
    return run_window(config, resume=args.resume, slot=args.slot, frames=args.frames,
                      screenshot=args.screenshot, settings_file=settings_file(args),
                      player=player_choice(args))


def player_choice(args: argparse.Namespace) -> dict:
    """The player's profile given on the command line (only what was given): Session.new's
    `player`, and what the window's "Who are you?" screen starts from."""
    given = {"name": args.player_name, "pronouns": args.pronouns, "look": args.player_look,
             "portrait": str(args.portrait) if args.portrait else None}
    return {key: value for key, value in given.items() if value is not None}


def _refuse_taken_slot(config: Config, name: str) -> None:
    """A new story never writes over another story's slot: --slot naming a saved story is
    refused (unless a game has it open: then the lock refuses it and says by whom)."""
    from engine.errors import SaveError
    library = Library(config)
    name = library.check_slot_name(name)
    if library.slot_exists(name) and library.slot_holder(name) is None:
        try:
            meta = library.slot_meta(name)
            what = f" ({meta.world_title or meta.world}, turn {meta.turn})"
        except SaveError:
            what = ""
        raise SaveError(f"Slot '{name}' already holds a story{what}. Go on with it: "
                        f"--continue --slot {name}; or leave --slot out and the new story gets "
                        f"a slot of its own.")


def _open_story(config: Config, args: argparse.Namespace):
    """The Session for terminal play. A slot another game has open is refused, with the ways
    to play on anyway."""
    from engine import Session, SlotBusy

    library = Library(config)
    slot = args.fork or args.slot      # None: a new story makes its own, a resumed one keeps its
    if args.fork and library.slot_exists(library.check_slot_name(args.fork)):
        from engine.errors import SaveError
        raise SaveError(f"Slot '{args.fork}' already holds a story; fork into a new name.")
    try:
        if args.resume:    # --slot names the story (any slot, the autosave too); else the newest
            return Session.resume(config, args.slot, slot=slot, read_only=args.read_only)
        return Session.new(config, slot=slot, read_only=args.read_only,
                           player=player_choice(args))
    except SlotBusy as err:
        newest = library.newest_slot()
        shown = args.slot or (newest[0] if newest else None) or "NAME"
        if args.resume:
            hint = (f"To play it anyway: `dreamreel play --text --continue --slot {shown} "
                    f"--read-only` (nothing is saved), or `... --slot {shown} --fork NEW` "
                    f"(goes on in a new slot NEW).")
        else:
            hint = "Start the new story in another slot: --slot NAME."
        raise SlotBusy(f"{err} {hint}", err.holder) from None


def cmd_saves(args: argparse.Namespace) -> int:
    library = Library(make_config(args))
    slots = library.slots()
    if not slots:
        print(f"No saves in {library.slots_dir}.")
        return 0
    print(f"{'slot':<30} {'saved':<17} {'turn':>5} {'scenes':>7}  world / scene")
    for meta, name, problem in slots:
        if meta is None:
            print(f"{name:<30} DAMAGED: {problem}")
            continue
        holder = library.slot_holder(name)
        in_use = f"  (open in process {holder.pid})" if holder is not None else ""
        print(f"{name:<30} {meta.when:<17} {meta.turn:>5} {meta.scenes:>7}  "
              f"{meta.world_title} / {meta.scene_title}{in_use}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    if args.action == "list":
        return Library.list_models(sys.stdout)
    if not args.model:
        print("Name the model to download: dreamreel models pull <hub id>", file=sys.stderr)
        return 2
    kind = next((name for name in ("painter", "music", "voice") if getattr(args, name)), None)
    return Library.pull_model(args.model, sys.stdout, kind=kind)


def cmd_worlds(args: argparse.Namespace) -> int:
    library = Library(make_config(args))
    return library.world_tool(args.action, args.target, sys.stdout, into=args.into)


def cmd_eval(args: argparse.Namespace) -> int:
    library = Library(make_config(args))
    report = library.evaluate(script=args.script, turns=args.turns,
                              prompts=tuple(args.prompts or ()), words=args.words)
    print(report.printed())
    outputs = [(args.transcript or report.default_transcript, report.transcript, "Transcript")]
    if args.json:
        outputs.append((args.json, report.as_json, "JSON"))
    for path, text, what in outputs:
        library.write_report(path, text())
        print(f"{what}: {path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    library = Library(make_config(args))
    progress = ProgressLine(sys.stderr)
    files = library.export(args.kind, args.slot, args.out, path=args.path,
                           story_format=args.story_format, film_size=args.size,
                           on_progress=progress)
    progress.done()
    for file in files:
        print(file)
    return 0


class ProgressLine:
    """An export's progress on one terminal line (a new line each step when not a terminal)."""

    def __init__(self, stream):
        self.stream, self.shown = stream, ""
        self.live = getattr(stream, "isatty", lambda: False)()

    def __call__(self, fraction: float, what: str) -> None:
        line = f"{round(fraction * 100):3d}%  {what}"[:78]
        if line == self.shown:
            return
        self.shown = line
        self.stream.write(f"\r{line:<78}" if self.live else line + "\n")
        self.stream.flush()

    def done(self) -> None:
        if self.live:
            self.stream.write("\n")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["play", *(argv or sys.argv[1:])])
    handlers = {"play": cmd_play, "saves": cmd_saves, "models": cmd_models,
                "worlds": cmd_worlds, "eval": cmd_eval, "export": cmd_export}
    try:
        code = handlers[args.command](args)
    except DreamreelError as err:
        print(f"dreamreel: {err}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:              # `dreamreel saves list | head`: the reader left early
        from game.cli.terminal import silence
        silence(sys.stdout)
        code = 0
    return code


def run() -> None:
    """The `dreamreel` console command: main(), then leave (past a model still busy)."""
    code = main()
    _exit_past_busy_models(code)
    sys.exit(code)


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
    run()
