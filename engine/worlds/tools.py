"""The modder's toolchain behind `dreamreel worlds <list|validate|new|import>`.

list: the built-in and installed worlds with their titles. validate: every problem of a world at
once (engine.worlds.validate). new: a small world that validates cleanly and plays, to start from.
import: SillyTavern cards and lorebooks into a world folder (engine.worlds.cards parses them,
engine.worlds.append writes them), making a new world from the scaffold when the folder has
none; a Twine story (.twee, .tw) goes to engine.worlds.twine. Writes only inside the world
folder it is given or creates; never into the shipped worlds.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from engine.worlds.cards import read_import
from engine.errors import WorldError
from engine.story.state import as_id
from engine.worlds.validate import format_report, validate_world
from engine.worlds.append import write_import
from engine.worlds.loading import ASSETS, BUILTIN_WORLDS, _read_toml
from engine.worlds.twee import TWEE_SUFFIXES
from engine.worlds.twine import import_twee
from engine.worlds.world import Problem


def run(action: str, target: str | None, args, config, stream: TextIO) -> int:
    """Run one `dreamreel worlds` action; the return value is the process exit code.

    Exit codes: 0 success; 1 validation found errors, or an import refused some entries;
    2 (raised as WorldError, shown by the CLI) when the command cannot run at all.
    """
    if action == "list":
        return list_worlds(config, stream)
    if not target:
        raise WorldError(f"Say what to {action}: dreamreel worlds {action} "
                         + {"validate": "PATH", "new": "NAME", "import": "FILE --into WORLD"}
                         .get(action, "TARGET"))
    if action == "validate":
        report = validate_world(target, config.worlds_dir)
        print(format_report(report), file=stream)
        return 0 if report.ok else 1
    if action == "new":
        path = new_world(target, config.worlds_dir)
        print(f"Created a new world in {path}\nNext: dreamreel worlds validate {path}\n"
              f"      dreamreel play --world {path} --text", file=stream)
        return 0
    if action == "import":
        return import_file(Path(target).expanduser(), getattr(args, "into", None), config, stream)
    raise WorldError(f"Unknown action '{action}'; use list, validate, new or import.")


def list_worlds(config, stream: TextIO) -> int:
    """Print the built-in and installed worlds with their titles, and where they live."""
    builtin = _titles(BUILTIN_WORLDS)
    installed = _titles(config.worlds_dir)
    print(f"Built-in worlds ({BUILTIN_WORLDS}):", file=stream)
    for world_id, title in builtin:
        print(f"  {world_id:<24} {title}", file=stream)
    print(f"\nInstalled worlds ({config.worlds_dir}):", file=stream)
    for world_id, title in installed:
        shadow = "  (used instead of the built-in world)" if world_id in dict(builtin) else ""
        print(f"  {world_id:<24} {title}{shadow}", file=stream)
    if not installed:
        print("  none yet: `dreamreel worlds new NAME` makes one here, or copy a world folder "
              "in", file=stream)
    print("\nPlay one with: dreamreel play --world ID", file=stream)
    return 0


def _titles(base: Path) -> list[tuple[str, str]]:
    if not base.is_dir():
        return []
    found = []
    for folder in sorted(base.iterdir()):
        if not (folder / "world.toml").is_file():
            continue
        problems: list[Problem] = []
        raw = _read_toml(folder, "world.toml", problems)
        title = raw.get("title") if isinstance(raw, dict) else None
        found.append((folder.name, str(title)[:80] if title else
                      f"(unreadable world.toml: {problems[0] if problems else 'no title'})"))
    return found


def new_world(name: str, worlds_dir: Path) -> Path:
    """Scaffold a small, playable world: a bare NAME goes into the user's worlds folder."""
    bare = "/" not in name and "\\" not in name and not name.startswith(".")
    path = (worlds_dir / (as_id(name) or "my_world")) if bare else Path(name).expanduser()
    if path.exists() and any(path.iterdir()):
        raise WorldError(f"{path} already exists and is not empty. Choose another name, or "
                         "delete the folder first.")
    title = " ".join(word.capitalize() for word in as_id(path.name).split("_")) or "My World"
    for relative, text in scaffold_files().items():
        file = path / relative
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text.replace("{{TITLE}}", title.replace('"', "'")), encoding="utf-8")
    return path


# -- importing -------------------------------------------------------------------------------
def import_file(file: Path, into: Path | None, config, stream: TextIO) -> int:
    """Import a card or lorebook into a world folder, creating the world when there is none."""
    if into is None:
        raise WorldError("Say which world to add to: dreamreel worlds import FILE --into "
                         "WORLD_FOLDER (a new folder becomes a new world).")
    into = Path(into).expanduser()
    if len(into.parts) == 1 and not into.is_absolute():   # a bare name: like --world ID
        installed = config.worlds_dir / into
        into = into if (into / "world.toml").is_file() and not installed.exists() else installed
    if into.resolve().is_relative_to(BUILTIN_WORLDS.resolve()):
        raise WorldError(f"{into} is a shipped world; copy it into your worlds folder "
                         f"({config.worlds_dir}) and import into the copy.")
    if file.suffix.lower() in TWEE_SUFFIXES:   # a Twine story: its passages become storylets
        return import_twee(file, into, config, stream)
    created = not (into / "world.toml").exists()
    imported = read_import(file, player=_player_name(into) if not created else "Rowan")
    if created:
        new_world(str(into.resolve()), config.worlds_dir)
    added, refused = write_import(imported, into)
    print(f"Imported {imported.kind} {file.name} into {into}", file=stream)
    if created:
        print("  (a new world was made from the scaffold: bring the characters into its "
              "storylets)", file=stream)
    for line in added:
        print(f"  added {line}", file=stream)
    for line in refused:
        print(f"  REFUSED {line}", file=stream)
    for note in imported.notes:
        print(f"  note: {note}", file=stream)
    print(f"Next: dreamreel worlds validate {into}", file=stream)
    return 1 if refused else 0


def _player_name(root: Path) -> str:
    raw = _read_toml(root.resolve(), "world.toml", [])
    player = raw.get("player", {}) if isinstance(raw, dict) else {}
    return str(player.get("name", "the player")) if isinstance(player, dict) else "the player"


# -- the scaffold of `dreamreel worlds new` ----------------------------------------------------
# assets/scaffold/ is a small but complete world: every feature once (conditions, effects, items,
# a character, lore, gotos, a conditional choice, a repeatable storylet, an ending), validating
# without a warning. "{{TITLE}}" in its files becomes the new world's title.
SCAFFOLD_DIR = ASSETS / "scaffold"


def scaffold_files() -> dict[str, str]:
    """The scaffold's files: relative path -> text."""
    return {path.relative_to(SCAFFOLD_DIR).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(SCAFFOLD_DIR.rglob("*")) if path.is_file()}


__all__ = ["run", "list_worlds", "new_world", "import_file", "scaffold_files", "SCAFFOLD_DIR"]
