"""Loading worlds: a folder of plain files (world.toml, lore.toml, reactions.toml, storylets/).

Worlds come from strangers, so every file is size-capped, confined to the world's folder and
validated field by field. Problems name the file, line and a fix. A broken storylet is left out
(and reported) so the rest of the world still plays; a broken world.toml stops the load. The
fields each file may hold are declared in engine.worlds.spec. This module reads files and builds
data; it does not render or narrate.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from pydantic import ValidationError

from engine.paths import ASSETS
from engine.errors import WorldError
from engine.worlds.pictures import check_world_images, names_a_file
from engine.story.schema import INTENTS, MOODS
from engine.story.state import WorldState, as_id, initial_state
from engine.worlds.spec import LoreSpec, ReactionSpec, StoryletSpec, WorldSpec
from engine.worlds.world import Problem, Reaction, Storylet, World, character_name, confined

BUILTIN_WORLDS = ASSETS / "worlds"
MAX_FILE_BYTES = 1_000_000   # a single world file
MAX_FILES = 400              # storylet files in one world
MAX_STORYLETS = 2_000        # storylets in one world
MAX_REACTIONS = 500          # reactions in one world
MAX_PROMPT_BYTES = 64_000    # a prompt override (as engine.narrators.prompting's own cap)
MAX_PROMPT_FILES = 20        # files in a world's prompts/ folder


def resolve_world(spec: str, user_worlds: Path | None = None) -> Path:
    """Find a world by id (user folder first, then built-in) or by folder path."""
    candidates = []
    if "/" in spec or "\\" in spec or spec.startswith("."):
        candidates.append(Path(spec).expanduser())
    else:
        if user_worlds is not None:
            candidates.append(user_worlds / spec)
        candidates.append(BUILTIN_WORLDS / spec)
        candidates.append(Path(spec))
    for path in candidates:
        if (path / "world.toml").is_file():
            return path
    known = ", ".join(sorted(list_world_ids(user_worlds))) or "none"
    raise WorldError(f"World '{spec}' not found: no world.toml there. Give a world id "
                     f"({known}) or the path of a world folder.")


def list_world_ids(user_worlds: Path | None = None) -> set[str]:
    found = set()
    for base in (BUILTIN_WORLDS, user_worlds):
        if base is not None and base.is_dir():
            found |= {p.name for p in base.iterdir() if (p / "world.toml").is_file()}
    return found


def _read_toml(root: Path, relative: str, problems: list[Problem]) -> dict | None:
    path = confined(root, relative)
    if path is None:
        problems.append(Problem(relative, 0, "is outside the world folder", "remove the link",
                                fatal=True))
        return None
    try:
        if not path.is_file():   # a FIFO or device would block or never end
            problems.append(Problem(relative, 0, "is not a regular file; refused",
                                    "replace it with a plain text file"))
            return None
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            problems.append(Problem(relative, 0, f"is {path.stat().st_size} bytes, over the "
                                    f"{MAX_FILE_BYTES} byte limit", "split or shorten it"))
            return None
        return tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as err:
        line = getattr(err, "lineno", 0) or _line_from_message(str(err))
        problems.append(Problem(relative, line, f"is not valid TOML: {err.args[0] if err.args else err}",
                                "check quotes, brackets and = signs"))
    except UnicodeDecodeError:
        problems.append(Problem(relative, 0, "is not UTF-8 text", "save it as UTF-8"))
    except OSError as err:
        problems.append(Problem(relative, 0, f"cannot be read ({err.strerror})"))
    return None


def _line_from_message(message: str) -> int:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else 0


def _id_lines(text: str) -> dict[str, int]:
    """Line numbers of `id = "..."` entries, so problems can point at the right place."""
    lines = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = re.match(r'\s*id\s*=\s*["\']([^"\']+)["\']', line)
        if match and match.group(1) not in lines:
            lines[match.group(1)] = number
    return lines


def _describe(err: ValidationError) -> list[tuple[str, str]]:
    out = []
    for item in err.errors():
        place = ".".join(str(p) for p in item["loc"])
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key"
            hint = "remove it or check its spelling against docs/MODDING.md"
        elif item["type"] == "missing":
            hint = "add it"
        elif item["type"] == "literal_error":
            expected = str((item.get("ctx") or {}).get("expected", "")).replace("'", "")
            hint = "allowed: " + (expected or ", ".join(INTENTS if "intent" in place else MOODS))
        else:
            hint = ""
        out.append((f"{place}: {message}", hint))
    return out


def load_world(spec: str | Path, user_worlds: Path | None = None) -> World:
    """Load and check a world. Raises WorldError when it cannot be played at all."""
    root = resolve_world(str(spec), user_worlds).resolve()
    problems: list[Problem] = []
    raw = _read_toml(root, "world.toml", problems)
    if raw is None:
        raise WorldError("; ".join(str(p) for p in problems) or f"{root}/world.toml is unusable")
    try:
        world_spec = WorldSpec.model_validate(raw)
    except ValidationError as err:
        details = "; ".join(f"{m}" + (f" ({h})" if h else "") for m, h in _describe(err))
        raise WorldError(f"{root / 'world.toml'}: {details}") from None

    lore = _load_lore(root, problems)
    storylets = _load_storylets(root, problems)
    world = World(id=root.name, root=root, spec=world_spec, lore=lore, storylets=storylets,
                  problems=problems, reactions=load_reactions(root, problems))
    _check_links(world)
    problems.extend(check_prompt_files(root))
    if (root / "images").exists() or (root / "images").is_symlink() or \
            any(names_a_file(text) for text in [world_spec.cover] +
                [s.spec.image for s in storylets.values()]):
        problems.extend(check_world_images(world))   # imports PIL: only for worlds with pictures
    if not world.storylets:
        raise WorldError(f"{root}: no usable storylets. " +
                         "; ".join(str(p) for p in problems[:5]))
    if world.start and world.start not in world.storylets:
        raise WorldError(f"{root / 'world.toml'}: start = '{world.start}' names no usable "
                         f"storylet. Set it to the id of the opening storylet.")
    return world


def _load_lore(root: Path, problems: list[Problem]) -> list[LoreSpec]:
    if not (root / "lore.toml").exists():
        return []
    raw = _read_toml(root, "lore.toml", problems)
    if raw is None:   # refused or broken: never read it again, not even for line numbers
        return []
    unknown = set(raw) - {"lore"}
    for key in unknown:
        problems.append(Problem("lore.toml", 0, f"unknown table '{key}'", "use [[lore]] entries"))
    text = (root / "lore.toml").read_text(encoding="utf-8", errors="replace")
    lines = _id_lines(text)
    entries = []
    for index, item in enumerate(_tables(raw, "lore", "lore.toml", problems)):
        try:
            entries.append(LoreSpec.model_validate(item))
        except ValidationError as err:
            ident = item.get("id", f"#{index + 1}") if isinstance(item, dict) else f"#{index + 1}"
            for message, hint in _describe(err):
                problems.append(Problem("lore.toml", lines.get(ident, 0),
                                        f"lore '{ident}': {message}", hint))
    return entries


def load_reactions(root: Path, problems: list[Problem],
                   relative: str = "reactions.toml") -> list[Reaction]:
    """A world's reactions (none when it has no reactions.toml). A broken entry is left out and
    reported; the others still answer."""
    if not (root / relative).exists():
        return []
    raw = _read_toml(root, relative, problems)
    if raw is None:
        return []
    reactions: list[Reaction] = []
    seen: dict[str, Reaction] = {}
    for spec, line in _valid_tables(root, relative, raw, "reaction", ReactionSpec,
                                    "reactions.toml holds only [[reaction]] tables", problems):
        if spec.id in seen:
            problems.append(Problem(relative, line, f"reaction id '{spec.id}' is used twice "
                                    f"(also line {seen[spec.id].line})",
                                    "give each reaction its own id"))
            continue
        if len(reactions) >= MAX_REACTIONS:
            problems.append(Problem(relative, line, "too many reactions; the rest are ignored"))
            break
        seen[spec.id] = Reaction(spec=spec, file=relative, line=line)
        reactions.append(seen[spec.id])
    return reactions


_DEFAULT_REACTIONS: list[Reaction] | None = None


def default_reactions() -> list[Reaction]:
    """The engine's own reactions (assets/reactions.toml): how a world without reactions of
    its own, or without one for an intent, still answers in place. Read once."""
    global _DEFAULT_REACTIONS
    if _DEFAULT_REACTIONS is None:
        problems: list[Problem] = []
        loaded = load_reactions(ASSETS, problems)
        if problems:
            raise WorldError("assets/reactions.toml: " + "; ".join(map(str, problems)))
        _DEFAULT_REACTIONS = loaded
    return _DEFAULT_REACTIONS


def _tables(raw: dict, key: str, relative: str, problems: list[Problem]) -> list:
    items = raw.get(key, [])
    if isinstance(items, list):
        return items
    problems.append(Problem(relative, 0, f"'{key}' must be a list of [[{key}]] tables",
                            f"write each entry under its own [[{key}]] line"))
    return []


def _valid_tables(root: Path, relative: str, raw: dict, kind: str, spec_class, only: str,
                  problems: list[Problem]):
    """(spec, line) for each [[kind]] table of a file that validates; other tables and broken
    entries are reported (`only`: the hint for a table of another kind) and left out."""
    for key in set(raw) - {kind}:
        problems.append(Problem(relative, 0, f"unknown table '{key}'", only))
    lines = _id_lines((root / relative).read_text(encoding="utf-8", errors="replace"))
    for index, item in enumerate(_tables(raw, kind, relative, problems)):
        ident = item.get("id", f"#{index + 1}") if isinstance(item, dict) else f"#{index + 1}"
        line = lines.get(str(ident), 0)
        try:
            yield spec_class.model_validate(item), line
        except ValidationError as err:
            for message, hint in _describe(err):
                problems.append(Problem(relative, line, f"{kind} '{ident}': {message}",
                                        hint or f"this {kind} is left out until fixed"))


def _load_storylets(root: Path, problems: list[Problem]) -> dict[str, Storylet]:
    folder = confined(root, "storylets")
    files = sorted(folder.glob("*.toml")) if folder is not None and folder.is_dir() else []
    if len(files) > MAX_FILES:
        problems.append(Problem("storylets/", 0, f"{len(files)} files, over the limit of "
                                f"{MAX_FILES}; the rest are ignored"))
        files = files[:MAX_FILES]
    storylets: dict[str, Storylet] = {}
    for path in files:
        relative = f"storylets/{path.name}"
        raw = _read_toml(root, relative, problems)
        if raw is None:
            continue
        for spec, line in _valid_tables(root, relative, raw, "storylet", StoryletSpec,
                                        "storylet files hold only [[storylet]] tables",
                                        problems):
            if spec.id in storylets:
                problems.append(Problem(relative, line, f"storylet id '{spec.id}' is used "
                                        f"twice (also {storylets[spec.id].where})",
                                        "give each storylet its own id"))
                continue
            if len(storylets) >= MAX_STORYLETS:
                problems.append(Problem(relative, line, "too many storylets; the rest are ignored"))
                return storylets
            if spec.picture is not None and spec.picture.marker() and not names_a_file(spec.image):
                # the declaration travels in the image prompt, so it reaches the painter and
                # its cache key; first in the prompt, so a long prompt's cut never drops it
                image = f"{spec.picture.marker()} {spec.image}".strip()
                spec = spec.model_copy(update={"image": image})
            storylets[spec.id] = Storylet(spec=spec, file=relative, line=line)
    return storylets


def prompt_names() -> tuple[str, ...]:
    """The prompt templates a world may override: the names of the defaults in assets/prompts."""
    return tuple(sorted(p.name for p in (ASSETS / "prompts").glob("*.j2")))


def check_prompt_files(root: Path) -> list[Problem]:
    """Refuse prompt files that could never be used safely (size, links), and name strays.

    Their templates are checked when rendered and by `dreamreel worlds validate`.
    """
    folder, known, problems = root / "prompts", prompt_names(), []
    if not (folder.exists() or folder.is_symlink()):
        return []
    if confined(root, "prompts") is None or not folder.is_dir():
        return [Problem("prompts/", 0, "is not a folder inside the world; refused",
                        "make prompts/ a real folder, not a link or a file")]
    entries = sorted(folder.iterdir())
    if len(entries) > MAX_PROMPT_FILES:
        problems.append(Problem("prompts/", 0, f"{len(entries)} files, over the limit of "
                                f"{MAX_PROMPT_FILES}; the rest are not checked"))
    for entry in entries[:MAX_PROMPT_FILES]:
        relative = f"prompts/{entry.name}"
        path = confined(root, relative)
        if path is None:
            problems.append(Problem(relative, 0, "is a link that leaves the world folder; "
                                    "refused", "copy the template in instead"))
        elif entry.suffix.lower() in (".md", ".txt"):
            continue
        elif entry.name not in known or not path.is_file():
            problems.append(Problem(relative, 0, "is not a prompt file Dreamreel uses, so it "
                                    "is ignored", "name a text file " + " or ".join(known)))
        elif path.stat().st_size > MAX_PROMPT_BYTES:
            problems.append(Problem(relative, 0, f"is {path.stat().st_size} bytes, over the "
                                    f"{MAX_PROMPT_BYTES} byte limit for a prompt template; "
                                    "refused", "shorten it"))
    return problems


def _check_links(world: World) -> None:
    """Drop storylets whose shape cannot play, and report gotos that lead nowhere."""
    for storylet in list(world.storylets.values()):
        spec = storylet.spec
        fixed = [c for c in spec.choices if not c.when]
        if not spec.ending and len(fixed) < 2:
            world.problems.append(Problem(storylet.file, storylet.line,
                                          f"storylet '{spec.id}' has {len(fixed)} always-visible "
                                          "choices; it needs 2-4 (or ending = true)",
                                          "this storylet is left out until fixed"))
            del world.storylets[spec.id]
            continue
        for choice in spec.choices:
            if choice.goto and choice.goto not in world.storylets:
                world.problems.append(Problem(storylet.file, storylet.line,
                                              f"storylet '{spec.id}': choice '{choice.label}' "
                                              f"goes to unknown storylet '{choice.goto}'",
                                              "fix the id or remove goto"))


__all__ = ["World", "Storylet", "Reaction", "Problem", "load_world", "load_reactions",
           "default_reactions", "resolve_world", "list_world_ids",
           "confined", "character_name", "check_prompt_files", "prompt_names",
           "BUILTIN_WORLDS", "ASSETS"]
