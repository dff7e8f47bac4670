"""Writing an imported card or lorebook into a world: appending to world.toml and lore.toml.

engine.worlds.cards turns a SillyTavern file into plain data (Imported); this module adds that data to a
world folder as new [[characters]] and [[lore]] tables. Existing text and comments are kept and
existing ids are never overwritten (each refusal is reported). The new files are parsed and
validated against the world schema before anything is written, then replaced atomically, and only
paths inside the world folder are read or written. It must not parse cards, load or play the
world, or write anywhere but world.toml and lore.toml.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from engine.atomic import write_atomic
from engine.worlds.cards import Imported, ascii_fold
from engine.errors import WorldError
from engine.story.state import as_id
from engine.text import shorten
from engine.tomlwrite import toml_table
from engine.worlds.loading import MAX_FILE_BYTES
from engine.worlds.world import confined
from engine.worlds.spec import ID_PATTERN, LoreSpec, WorldSpec


def write_import(imported: Imported, root: Path) -> tuple[list[str], list[str]]:
    """Append the imported characters and lore to world.toml and lore.toml.

    Returns:
        (what was added, what was refused and why). Nothing is written when the result would
        not load; WorldError says why.
    """
    root = root.resolve()
    world_text = _read_text(root, "world.toml")
    lore_text = _read_text(root, "lore.toml") if (root / "lore.toml").exists() else \
        "# Lore entries: when the story mentions a keyword, the narrator is reminded of the text.\n"
    character_ids = _ids(_parse(world_text, "world.toml"), "characters")
    lore_ids = _ids(_parse(lore_text, "lore.toml"), "lore")
    added, refused, world_tables, lore_tables = [], [], [], []
    for character in imported.characters:
        if character["id"] in character_ids:
            refused.append(f"character '{character['id']}': world.toml already has a character "
                           "with this id; not overwritten (rename or remove it, then import "
                           "again)")
            continue
        character_ids.add(character["id"])
        world_tables.append(toml_table("characters", character, keep_empty=("keywords",)))
        added.append(f"character '{character['id']}' ({character['name']}) to world.toml")
    taken: set[str] = set()
    for number, item in enumerate(imported.lore, start=1):
        ident = _lore_id(item.name, number, taken)
        if ident in lore_ids:
            refused.append(f"lore '{ident}': lore.toml already has an entry with this id; not "
                           "overwritten")
            continue
        lore_tables.append(toml_table("lore", {"id": ident, "keywords": list(item.keywords),
                                               "priority": item.priority, "text": item.text},
                                      keep_empty=("keywords",)))
        added.append(f"lore '{ident}' to lore.toml")
    new_world_text = _appended(world_text, world_tables)
    new_lore_text = _appended(lore_text, lore_tables)
    _check(new_world_text, new_lore_text)
    if world_tables:
        write_atomic(confined(root, "world.toml"), new_world_text.encode("utf-8"))
    if lore_tables:
        target = confined(root, "lore.toml")
        if target is None:
            raise WorldError(f"{root}/lore.toml is a link that leaves the world folder; refused.")
        write_atomic(target, new_lore_text.encode("utf-8"))
    return added, refused


def _ids(raw: dict, key: str) -> set:
    tables = raw.get(key, [])
    return {t.get("id") for t in tables if isinstance(t, dict)} if isinstance(tables, list) else set()


def _read_text(root: Path, relative: str) -> str:
    path = confined(root, relative)
    if path is None or not path.is_file():
        raise WorldError(f"{root / relative}: not a file inside the world folder; refused.")
    with path.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise WorldError(f"{root / relative}: over the {MAX_FILE_BYTES} byte limit; refused.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise WorldError(f"{root / relative}: not UTF-8 text; save it as UTF-8.") from None


def _parse(text: str, name: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise WorldError(f"{name} is not valid TOML ({err}); fix it before importing.") from None


def _appended(text: str, tables: list[str]) -> str:
    return text if not tables else text.rstrip("\n") + "\n\n" + "\n\n".join(tables) + "\n"


def _check(world_text: str, lore_text: str) -> None:
    """Refuse to write files that would no longer load."""
    try:
        WorldSpec.model_validate(_parse(world_text, "world.toml"))
        for entry in _parse(lore_text, "lore.toml").get("lore", []):
            LoreSpec.model_validate(entry)
    except Exception as err:  # pydantic's message names the field
        raise WorldError(f"The import would make the world unloadable, so nothing was "
                         f"written: {shorten(str(err), 400)}") from None


def _lore_id(name: str, number: int, taken: set[str]) -> str:
    base = as_id(ascii_fold(name))[:34] or f"lore_{number}"
    if not re.match(ID_PATTERN, base):
        base = f"lore_{number}"
    ident, suffix = base, 2
    while ident in taken:
        ident, suffix = f"{base}_{suffix}", suffix + 1
    taken.add(ident)
    return ident


__all__ = ["write_import"]
