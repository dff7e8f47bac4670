"""A loaded world as data: its storylets, reactions, problems and the World itself.

What every part of the engine that reads a world needs, with no file reading: engine.worlds
.loading builds these from a world's folder, engine.worlds.pictures checks its pictures, the
narrators tell its storylets. `confined` keeps every path a world names inside its folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.story.state import WorldState, as_id, initial_state
from engine.worlds.spec import CharacterSpec, LoreSpec, ReactionSpec, StoryletSpec, WorldSpec


@dataclass(frozen=True)
class Storylet:
    """One authored scene the storylet narrator can tell, with where it was written."""

    spec: StoryletSpec
    file: str   # path relative to the world folder
    line: int   # line of its `id = ...` in that file

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def where(self) -> str:
        return f"{self.file}, line {self.line} (storylet '{self.spec.id}')"


@dataclass(frozen=True)
class Reaction:
    """One authored in-place answer to a typed action that no storylet fits."""

    spec: ReactionSpec
    file: str   # path relative to the world folder (or to assets/ for the engine's own)
    line: int   # line of its `id = ...` in that file

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def where(self) -> str:
        return f"{self.file}, line {self.line} (reaction '{self.spec.id}')"


@dataclass(frozen=True)
class Problem:
    """Something wrong in a world file, said so that a modder can fix it."""

    file: str
    line: int
    message: str
    hint: str = ""
    fatal: bool = False

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}" if self.line else self.file
        return f"{where}: {self.message}" + (f" ({self.hint})" if self.hint else "")


@dataclass
class World:
    """A loaded world: its bible, characters, lore and storylets."""

    id: str
    root: Path
    spec: WorldSpec
    lore: list[LoreSpec]
    storylets: dict[str, Storylet]
    problems: list[Problem] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)   # reactions.toml, in file order

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def characters(self) -> dict[str, CharacterSpec]:
        return {c.id: c for c in self.spec.characters}

    @property
    def start(self) -> str:
        return self.spec.start

    def location_picture(self, location: str) -> str:
        """What world.toml declares for pictures at a location (`[locations.<id>]`), as the
        painter's prompt marker; "" when it declares nothing."""
        declared = self.spec.locations.get(location)
        return declared.marker("location") if declared is not None else ""

    def initial_state(self) -> WorldState:
        s = self.spec.state
        return initial_state(s.location, s.inventory, s.flags, s.characters)

    def prompt_override(self, name: str) -> Path | None:
        path = confined(self.root, Path("prompts") / name)
        return path if path is not None and path.is_file() else None


def confined(root: Path, relative: Path | str) -> Path | None:
    """The path inside root, or None when it would escape root (.. or a symlink)."""
    root = root.resolve()
    candidate = (root / relative).resolve()
    return candidate if candidate.is_relative_to(root) else None


def character_name(world: World, cid: str) -> str:
    character = world.characters.get(as_id(cid))
    return character.name if character else cid.replace("_", " ").title()


__all__ = ["Storylet", "Reaction", "Problem", "World", "confined", "character_name"]
