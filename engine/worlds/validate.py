"""`dreamreel worlds validate`: every problem of a world at once, each with file, line and fix.

Loading (engine.worlds.loading) refuses what cannot be played. Validation goes further, like a compiler:
it renders every storylet title, text and picture prompt and every reaction, and compiles every
condition against a representative game state in the sandbox, checks the names templates use
against the names they get, follows gotos, looks for storylets that can never be told and lore
that can never be recalled, renders the narrator prompts with the world's prompts/ overrides
and measures them.

The rule: errors (anything that breaks loading or playing) make validation fail; warnings are
heuristics (content that may never come up, a long prompt) and never make it fail.
This module reads a world and renders templates in the sandbox; it never writes a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import TemplateSyntaxError, nodes

from engine.worlds import loading as w
from engine.worlds.pictures import check_world_images
from engine.story.memory import lore_hits
from engine.worlds.reaction_checks import check_reaction_templates
from engine.story.state import as_id
from engine.worlds.template_checks import (SourceLines, check_prompts, check_storylet_templates,
                                    key_of, world_facts)
from engine.worlds.templates import Templates
from engine.worlds.world import Problem, World

TOP_LEVEL = {"world.toml", "lore.toml", "reactions.toml", "storylets", "images", "prompts",
             "music"}


@dataclass
class Report:
    """What `worlds validate` found. ok is True when there are no errors."""

    root: Path
    title: str
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    prompt_tokens: dict[str, int] = field(default_factory=dict)  # approximate: characters / 4
    prompt_note: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_world(target: str | Path, user_worlds: Path | None = None) -> Report:
    """Check a world folder (or world id) completely; never raises for a broken world.

    Raises:
        WorldError: only when there is no world at all (no folder or no world.toml).
    """
    root = w.resolve_world(str(target), user_worlds).resolve()
    errors: list[Problem] = []
    warnings: list[Problem] = []
    spec = _world_spec(root, errors)
    lore = w._load_lore(root, errors)
    storylets = w._load_storylets(root, errors)
    world = World(id=root.name, root=root, spec=spec, lore=lore, storylets=storylets,
                  problems=errors, reactions=w.load_reactions(root, errors))
    w._check_links(world)
    _check_world(world, errors, warnings)
    errors.extend(w.check_prompt_files(root))
    errors.extend(check_world_images(world))
    _check_music(world, errors, warnings)
    _check_files(root, warnings)
    facts = world_facts(world)
    template_errors, template_warnings = check_storylet_templates(world, facts=facts)
    errors += template_errors
    warnings += template_warnings
    reaction_errors, reaction_warnings = check_reaction_templates(world, facts=facts)
    errors += reaction_errors
    warnings += reaction_warnings
    _check_reachability(world, facts, warnings)
    _check_lore(world, warnings)
    tokens, note = check_prompts(world, errors, warnings) if world.storylets else ({}, "")
    return Report(root=root, title=spec.title, errors=_ordered(errors),
                  warnings=_ordered(warnings), prompt_tokens=tokens, prompt_note=note)


def _world_spec(root: Path, errors: list[Problem]) -> w.WorldSpec:
    """world.toml, every problem with its line, and the best spec that can be made of it."""
    raw = w._read_toml(root, "world.toml", errors)
    if raw is None:
        return w.WorldSpec(title=root.name)
    source = SourceLines(root, "world.toml")
    data = dict(raw)
    for attempt in range(6):
        try:
            return w.WorldSpec.model_validate(data)
        except w.ValidationError as err:
            drop: dict[str, set[int] | None] = {}
            for item, (message, hint) in zip(err.errors(), w._describe(err)):
                loc = item["loc"]
                if attempt == 0:
                    errors.append(Problem("world.toml", source.locate(loc), message,
                                          hint or "fix the value; see docs/MODDING.md"))
                listed = len(loc) >= 2 and isinstance(loc[1], int)
                if listed and drop.get(str(loc[0]), set()) is not None:
                    drop.setdefault(str(loc[0]), set()).add(loc[1])
                else:
                    drop[str(loc[0])] = None
            for key, indexes in drop.items():
                if indexes is None or not isinstance(data.get(key), list):
                    data.pop(key, None)
                else:
                    data[key] = [x for i, x in enumerate(data[key]) if i not in indexes]
            data.setdefault("title", root.name)
    return w.WorldSpec(title=root.name)


def _check_world(world: World, errors: list[Problem], warnings: list[Problem]) -> None:
    """What load_world refuses as a whole, and ids that are used twice."""
    spec, source = world.spec, SourceLines(world.root, "world.toml")
    if not world.storylets:
        errors.append(Problem("storylets/", 0, "the world has no usable storylets",
                              "add storylets/*.toml files with [[storylet]] tables"))
    if spec.start and spec.start not in world.storylets:
        errors.append(Problem("world.toml", source.key("start", 0, len(source.lines)) or 1,
                              f"start = '{spec.start}' names no usable storylet",
                              "set it to the id of the opening storylet"))
    elif not spec.start:
        warnings.append(Problem("world.toml", 1, "no start is set, so the opening scene is "
                                "picked at random", 'add start = "<id of the opening storylet>"'))
    seen: set[str] = set()
    for index, character in enumerate(spec.characters):
        if character.id in seen:
            errors.append(Problem("world.toml", source.locate(("characters", index, "id")),
                                  f"character id '{character.id}' is used twice",
                                  "give each character its own id"))
        seen.add(character.id)
    for cid in spec.state.characters:
        if as_id(cid) not in seen:
            warnings.append(Problem("world.toml", source.locate(("state", "characters")),
                                    f"[state] characters names '{cid}', who is not in "
                                    "[[characters]]", "add the character or fix the id"))
    for storylet in world.storylets.values():
        effects = storylet.spec.effects
        for cid in (*effects.characters_enter, *effects.characters_leave):
            if as_id(cid) not in seen:
                warnings.append(Problem(storylet.file, storylet.line, f"storylet "
                                        f"'{storylet.id}': '{cid}' is not a character of "
                                        "world.toml, so nobody knows their name or looks",
                                        "add them to [[characters]] or fix the id"))
    lore_source, lore_ids = SourceLines(world.root, "lore.toml"), set()
    for entry in world.lore:
        if entry.id in lore_ids:
            errors.append(Problem("lore.toml", _nth_id_line(lore_source, entry.id, 2),
                                  f"lore id '{entry.id}' is used twice",
                                  "give each lore entry its own id"))
        lore_ids.add(entry.id)


def _check_music(world: World, errors: list[Problem], warnings: list[Problem]) -> None:
    """The world's own tracks (music/: format, length, size) and its music.j2 override."""
    from engine.audio.music.files import check_music_folder  # noqa: PLC0415
    from engine.audio.music.tracks import TEMPLATE, music_prompt  # noqa: PLC0415

    music_errors, music_warnings = check_music_folder(world.root)
    errors += music_errors
    warnings += music_warnings
    if world.prompt_override(TEMPLATE) is not None:
        for mood in ("calm", "tense"):
            _, problem = music_prompt(world, mood, world.spec.state.location or "harbour")
            if problem:
                errors.append(Problem(f"prompts/{TEMPLATE}", 0, problem.split(": ", 1)[-1],
                                      "fix the template; see docs/MODDING.md, Music"))
                break


def _nth_id_line(source: SourceLines, ident: str, nth: int) -> int:
    pattern = re.compile(rf'^\s*id\s*=\s*["\']{re.escape(ident)}["\']')
    found = [i + 1 for i, line in enumerate(source.lines) if pattern.match(line)]
    return found[nth - 1] if len(found) >= nth else (found[0] if found else 0)


def _check_files(root: Path, warnings: list[Problem]) -> None:
    """Files Dreamreel will never read: usually a misspelt name."""
    for entry in sorted(root.iterdir()):
        name = entry.name
        if name in TOP_LEVEL or name.startswith(".") or entry.suffix.lower() in (".md", ".txt") \
                or name.upper().startswith(("README", "LICENSE", "CREDITS")):
            continue
        warnings.append(Problem(name, 0, "is not part of the world format, so it is ignored",
                                "expected world.toml, lore.toml, reactions.toml, storylets/, "
                                "images/, prompts/, music/"))
    folder = root / "storylets"
    if folder.is_dir() and w.confined(root, "storylets") is not None:
        for entry in sorted(folder.iterdir()):
            if entry.suffix != ".toml" and entry.suffix.lower() not in (".md", ".txt"):
                warnings.append(Problem(f"storylets/{entry.name}", 0, "is ignored: only "
                                        "*.toml files are read", "rename it to end in .toml"))
    elif folder.exists() or folder.is_symlink():
        warnings.append(Problem("storylets/", 0, "is not a folder inside the world; refused",
                                "make storylets/ a real folder"))


def _never(expression: str, facts: dict, templates: Templates) -> str:
    """Why a `when` can never hold (a term of its `and` chain no effect makes true), or ""."""
    try:
        tree = templates.env.parse("{{ (" + expression + ") }}")
    except TemplateSyntaxError:
        return ""
    terms, todo = [], [tree.body[0].nodes[0]]
    while todo:
        node = todo.pop()
        todo += [node.left, node.right] if isinstance(node, nodes.And) else []
        terms += [] if isinstance(node, nodes.And) else [node]
    for term in terms:
        if isinstance(term, nodes.Compare) and len(term.ops) == 1:
            left, op, right = term.expr, term.ops[0].op, term.ops[0].expr
            if op == "eq" and getattr(right, "name", "") == "location":
                left, right = right, left
            if getattr(left, "name", "") == "location" and op in ("eq", "in"):
                values = [right] if op == "eq" else list(getattr(right, "items", []) or [None])
                names = [getattr(v, "value", None) for v in values]
                if all(isinstance(n, str) for n in names) and \
                        not any(n.strip() in facts["location"] for n in names):
                    return f"no effect ever sets location to {' or '.join(map(repr, names))}"
        elif isinstance(term, nodes.Call) and getattr(term.node, "name", "") in ("has", "here") \
                and term.args and isinstance(getattr(term.args[0], "value", None), str):
            call, arg = term.node.name, term.args[0].value
            if key_of(call, arg) not in facts[call]:
                return f"{call}('{arg}') never holds: no effect " + \
                    ("gives that item" if call == "has" else "brings that character in")
    return ""


def _check_reachability(world: World, facts: dict, warnings: list[Problem]) -> None:
    """Storylets that can never be told, and storylets no choice leads to."""
    templates = Templates()
    targets = {c.goto for s in world.storylets.values() for c in s.spec.choices if c.goto}
    chosen = {c.intent for s in world.storylets.values() for c in s.spec.choices}
    for storylet in world.storylets.values():
        spec = storylet.spec
        reason = _never(spec.when, facts, templates) if spec.when else ""
        if reason:
            warnings.append(Problem(storylet.file, storylet.line, f"storylet '{spec.id}' can "
                                    f"never be told: {reason}", "fix its `when`, or add an "
                                    "effect somewhere that makes it true"))
        elif storylet.id != world.start and storylet.id not in targets \
                and not set(spec.intents) & chosen:
            warnings.append(Problem(storylet.file, storylet.line, f"storylet '{spec.id}': no "
                                    "choice leads here (no goto names it and none of its intents "
                                    f"{', '.join(spec.intents)} is the intent of a choice), so "
                                    "only chance or typed words bring it up",
                                    f"add goto = \"{spec.id}\" to a choice, or an intent that "
                                    "choices use"))
    if world.storylets and not any(s.spec.ending for s in world.storylets.values()):
        warnings.append(Problem("storylets/", 0, "no storylet has ending = true, so the story "
                                "never ends", "add at least one ending"))


def _check_lore(world: World, warnings: list[Problem]) -> None:
    """Lore whose keywords no storylet, tag or character name mentions may never be recalled."""
    texts = [c.name for c in world.spec.characters]
    quoted = ""
    for storylet in world.storylets.values():
        spec = storylet.spec
        texts += [spec.title, spec.text, " ".join(spec.tags)]
        quoted += spec.text + spec.title
    corpus = "\n".join(texts)
    source = SourceLines(world.root, "lore.toml")
    for entry in world.lore:
        line = _nth_id_line(source, entry.id, 1)
        if not entry.keywords:
            if f"lore.{entry.id}" not in quoted and f"lore['{entry.id}']" not in quoted:
                warnings.append(Problem("lore.toml", line, f"lore '{entry.id}' has no keywords "
                                        "and no storylet quotes it, so it is never used",
                                        f"add keywords, or quote it as {{{{ lore.{entry.id} }}}}"))
        elif not lore_hits(entry, corpus):
            warnings.append(Problem("lore.toml", line, f"lore '{entry.id}': none of its keywords "
                                    f"({', '.join(entry.keywords)}) appears in a storylet text, "
                                    "title or tag or a character name, so it may never be "
                                    "recalled", "use words the story itself says"))


def _ordered(problems: list[Problem]) -> list[Problem]:
    """Without repeats, in reading order: world.toml, lore.toml, storylets, prompts, the rest."""
    rank = {"world.toml": 0, "lore.toml": 1, "storylets": 2, "prompts": 3, "images": 4}
    unique = {str(p): p for p in reversed(problems)}.values()
    return sorted(unique, key=lambda p: (rank.get(p.file.split("/")[0], 5), p.file, p.line))


def format_report(report: Report) -> str:
    """The report as plain text for the terminal, with the exit rule spelt out."""
    lines = [f"Checking '{report.title}' in {report.root}"]
    for label, items in (("error", report.errors), ("warning", report.warnings)):
        if items:
            lines.append(f"\n{_count(items, label)}:")
            lines += [f"  {problem}" for problem in items]
    if report.prompt_tokens:
        sizes = ", ".join(f"{k} ~{v}" for k, v in report.prompt_tokens.items())
        lines.append(f"\nNarrator prompt size in tokens (approximate: characters / 4): {sizes}"
                     + (f" {report.prompt_note}" if report.prompt_note else ""))
    verdict = "OK" if report.ok else "FAILED"
    lines.append(f"\n{verdict}: {_count(report.errors, 'error')}, "
                 f"{_count(report.warnings, 'warning')}. Errors fail validation (exit code 1); "
                 "warnings are hints and never do.")
    return "\n".join(lines)


def _count(items: list, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


__all__ = ["Report", "validate_world", "format_report"]
