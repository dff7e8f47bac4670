"""`dreamreel worlds import story.twee --into WORLD`: a Twine story's passages become storylets.

engine.worlds.twee parses the file; this module turns it into [[storylet]] tables and writes
them into a world. Each passage with text becomes a storylet: its id from the name, its title the
name, its text the passage's prose (twee.plain_text: links, HTML, comments, Harlowe and SugarCube
macros, variables and markup removed, and any template syntax too: imported text never acts as
a template), its mood and location from its tags (`tense`, `location:harbour`), other tags as the
words typed actions find it by, and one choice per link (at most four), leading by `goto` to the
storylet of the linked passage. A passage without links is an ending. Passages tagged
`unwritten`, empty ones and missing ones become no storylet: the links to them stay choices
without a goto, so the narrator fills the gap. A picture next to the .twee, named by an `<img>`
tag, is checked like any world picture and copied into images/.

Into a new world folder it writes a world.toml whose start is the story's start passage; into an
existing world it adds the storylets (ids already taken get a suffix, gotos follow) and leaves
its start alone. The storylets go to storylets/<story>.toml, which a later import of the same
story replaces (a file of that name not made by an import is never overwritten). Everything is
validated (schema, then engine.worlds.validate) and written atomically, only inside the world.
"""

from __future__ import annotations

import filecmp
import html
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from urllib.parse import unquote

from engine.atomic import write_atomic
from engine.errors import WorldError
from engine.narrators.matching import infer_intent
from engine.story.schema import MOODS
from engine.story.state import as_id
from engine.text import shorten
from engine.tomlwrite import toml_key, toml_value
from engine.worlds.cards import ascii_fold
from engine.worlds.loading import MAX_FILE_BYTES, MAX_STORYLETS, _read_toml
from engine.worlds.pictures import IMAGE_SUFFIXES, MAX_IMAGE_FILES, check_image
from engine.worlds.spec import ID_PATTERN, StoryletSpec
from engine.worlds.twee import Passage, TweeStory, parse_links, plain_text, read_twee
from engine.worlds.validate import validate_world
from engine.worlds.world import confined

MARKER = "# Made from a Twine story by `dreamreel worlds import`"
MAX_CHOICES = 4           # always-visible choices a storylet offers (the narrator shows 4)
MAX_RAW_TEXT = 40_000     # of a passage's text, read before cleaning (a storylet keeps 8,000)
GAP_CHOICE = {"label": "Look around", "intent": "explore"}   # a one-link passage's second way
FINDINGS = {   # what the import changed in passages' links, said once for all passages
    "missing": "links to passages that do not exist, left to the narrator",
    "ending": "passages tagged ending, whose links are left out",
    "many": f"passages with more than {MAX_CHOICES} links (the first {MAX_CHOICES} became "
            "choices)",
    "one": f"passages with one link (a second choice, '{GAP_CHOICE['label']}', is left to "
           "the narrator)",
}
KIND_TAGS = {"opening", "scene", "ending", "typed", "unwritten", "retelling"}
# Passages and tags that are code or layout to a story format, never scenes.
SKIPPED_NAMES = {"StoryTitle", "StoryData", "StoryInit", "StoryCaption", "StoryMenu",
                 "StoryBanner", "StorySubtitle", "StoryAuthor", "StoryDisplayTitle",
                 "StoryInterface", "StoryShare", "StoryIncludes", "StorySettings",
                 "PassageReady", "PassageDone", "PassageHeader", "PassageFooter"}
SKIPPED_TAGS = {"script", "stylesheet", "widget", "init", "header", "footer", "startup",
                "debug-header", "debug-footer", "debug-startup", "Twine.image", "Twine.audio",
                "Twine.video", "Twine.vtt"}
_IMG = re.compile(r"<img\b[^<>]{0,1000}?\bsrc\s*=\s*[\"']([^\"'<>]{1,400})[\"']", re.I)
_SUGAR_IMG = re.compile(r"\[img\[([^\[\]\n]{1,400})\]")


@dataclass
class TwineImport:
    """What a Twine story gives a world, as plain data (nothing written yet)."""

    title: str
    start: str = ""                                     # storylet id of the start ("": none)
    storylets: list[dict] = field(default_factory=list)   # [[storylet]] tables
    pictures: dict[str, Path] = field(default_factory=dict)  # images/<name> -> source file
    notes: list[str] = field(default_factory=list)


# -- passages to storylets --------------------------------------------------------------------
def storylets_from_twee(story: TweeStory, source_dir: Path | None = None,
                        taken: set[str] = frozenset(),
                        images_dir: Path | None = None) -> TwineImport:
    """Turn passages into storylet tables.

    Args:
        story: the parsed .twee file.
        source_dir: the .twee's folder, where pictures named by `<img>` tags are looked for
            (None: pictures are not taken).
        taken: storylet ids the world already has (new ids avoid them; gotos follow).
        images_dir: the world's images/ folder, whose files new pictures avoid or reuse.
    """
    result = TwineImport(title=story.title or Path(story.file).stem)
    scenes, gaps, skipped, retold = [], set(), 0, set()
    for passage in story.passages:
        if passage.name in SKIPPED_NAMES or SKIPPED_TAGS & set(passage.tags):
            skipped += passage.name not in ("StoryTitle", "StoryData")
        elif "retelling" in passage.tags:
            retold.add(passage.name)
        elif "unwritten" in passage.tags or not passage.text.strip():
            gaps.add(passage.name)
        else:
            scenes.append(passage)
    if len(scenes) > MAX_STORYLETS - len(taken):
        raise WorldError(f"{story.file}: {len(scenes)} passages would become storylets, more "
                         f"than the {MAX_STORYLETS} a world holds; refused.")
    used, ids = set(taken), {}
    for passage in scenes:
        ids[passage.name] = _new_id(passage.name, used)
    findings: dict[str, list[str]] = {}
    for passage in scenes:
        result.storylets.append(_storylet(passage, ids, gaps, retold, story, findings))
    for kind, what in FINDINGS.items():
        found = findings.get(kind, [])
        if found:
            more = f" and {len(found) - 5} more" if len(found) > 5 else ""
            result.notes.append(f"{what}: {', '.join(found[:5])}{more}")
    start = story.start
    result.start = ids.get(start, "")
    if start and not result.start:
        result.notes.append(f"the start passage '{start}' has no text, so it is no storylet; "
                            "set `start` in world.toml")
    if source_dir is not None:
        _take_pictures(scenes, ids, result, source_dir, images_dir)
    if skipped:
        result.notes.append(f"skipped {_count(skipped)} of code or layout for a story format "
                            "(StoryInit, script, stylesheet, header, ...)")
    if retold:
        result.notes.append(f"skipped {_count(len(retold))} tagged 'retelling' (other "
                            "tellings of a scene) and the links to them")
    if gaps:
        verb = "is" if len(gaps) == 1 else "are"
        result.notes.append(f"{_count(len(gaps))} {verb} unwritten or empty: the choices that "
                            "lead there have no goto, so the narrator tells what happens")
    return result


def _count(number: int) -> str:
    return f"{number} passage{'' if number == 1 else 's'}"


def _storylet(passage: Passage, ids: dict[str, str], gaps: set[str], retold: set[str],
              story: TweeStory, findings: dict[str, list[str]]) -> dict:
    raw = passage.text[:MAX_RAW_TEXT]
    tags = set(passage.tags)
    mood = next((t for t in passage.tags if t in MOODS), None) or \
        next((t[5:] for t in passage.tags if t.startswith("mood:") and t[5:] in MOODS), "calm")
    location = next((as_id(ascii_fold(t[9:])) for t in passage.tags
                     if t.startswith("location:") and as_id(ascii_fold(t[9:]))), "")
    words = []                          # other tags: words a typed action finds it by
    for tag in passage.tags:
        word = " ".join(re.sub(r"[-_]", " ", plain_text(tag)).split()).lower()[:40]
        if word and tag not in KIND_TAGS and tag not in MOODS and ":" not in tag \
                and word not in words:
            words.append(word)
    choices, seen = [], set()
    for link in parse_links(raw):
        if link.external or link.target in retold:
            continue
        label = shorten(plain_text(link.text) or plain_text(link.target) or "Go on", 100)
        goto = ids.get(link.target, "")
        if (label, goto) in seen:
            continue
        seen.add((label, goto))
        if not goto and link.target not in gaps:
            findings.setdefault("missing", []).append(
                f"'{passage.name}' (line {passage.line}) to '{shorten(link.target, 60)}'")
        choices.append({"label": label, "intent": infer_intent(label), "goto": goto})
    ending = not choices or "ending" in tags
    name = f"'{shorten(passage.name, 60)}'"
    if ending and choices:
        findings.setdefault("ending", []).append(name)
        choices = []
    if len(choices) > MAX_CHOICES:
        findings.setdefault("many", []).append(name)
        choices = choices[:MAX_CHOICES]
    if len(choices) == 1:
        findings.setdefault("one", []).append(name)
        choices.append(dict(GAP_CHOICE))
    title = shorten(plain_text(passage.name), 120) or ids[passage.name]
    table = {"id": ids[passage.name], "title": title,
             "text": shorten(plain_text(raw, drop_link_lines=True), 8000) or title,
             "tags": words[:40], "once": False, "mood": mood, "ending": ending,
             "effects": {"location": location} if location else {}, "choices": choices}
    try:
        StoryletSpec.model_validate(table)
    except Exception as err:  # pydantic's message names the field
        raise WorldError(f"{story.file}, line {passage.line}: passage '{passage.name}' makes "
                         f"no valid storylet: {shorten(str(err), 300)}") from None
    return table


def _new_id(name: str, used: set[str]) -> str:
    base = as_id(ascii_fold(name))[:34]
    if not re.match(ID_PATTERN, base):
        base = "passage"
    ident, number = base, 2
    while ident in used:
        ident, number = f"{base}_{number}", number + 1
    used.add(ident)
    return ident


def _take_pictures(scenes: list[Passage], ids: dict[str, str], result: TwineImport,
                   source_dir: Path, images_dir: Path | None) -> None:
    """A storylet's image: the first picture its passage shows, if it is a safe file beside
    the .twee (checked by its header, like any world picture). Copied by import_twee into
    images/ under a free name, or the name of the same picture already there."""
    tables = {table["id"]: table for table in result.storylets}
    present = sorted(images_dir.iterdir()) if images_dir is not None and images_dir.is_dir() \
        else []
    names, chosen = {p.name for p in present}, {}
    room = MAX_IMAGE_FILES - len(names)
    for passage in scenes:
        found = _IMG.search(passage.text) or _SUGAR_IMG.search(passage.text)
        if found is None:
            continue
        reference = html.unescape(unquote(found.group(1).split("|")[-1].strip()))
        path = confined(source_dir, reference) \
            if "://" not in reference and not reference.startswith(("/", "\\")) else None
        problem = check_image(source_dir, reference) \
            if path is not None and path.suffix.lower() in IMAGE_SUFFIXES else None
        if path is None or path.suffix.lower() not in IMAGE_SUFFIXES or problem is not None:
            why = problem.message if problem is not None else \
                "is not a PNG, JPEG or WebP file in the story's folder"
            result.notes.append(f"'{passage.name}': picture '{shorten(reference, 60)}' {why}; "
                                "not taken")
            continue
        if path not in chosen:
            same = next((p.name for p in present if p.is_file() and p.suffix.lower() ==
                         path.suffix.lower() and filecmp.cmp(p, path, shallow=False)), None)
            if same is None and len(result.pictures) >= room:
                result.notes.append(f"images/ is full ({MAX_IMAGE_FILES} files); "
                                    f"'{passage.name}' keeps a painted picture")
                continue
            if same is None:
                stem = as_id(ascii_fold(Path(reference).stem))[:40] or "picture"
                same, number = f"{stem}{path.suffix.lower()}", 2
                while same in names:
                    same, number = f"{stem}_{number}{path.suffix.lower()}", number + 1
                names.add(same)
                result.pictures[same] = path
            chosen[path] = same
        tables[ids[passage.name]]["image"] = f"images/{chosen[path]}"


# -- writing into a world ---------------------------------------------------------------------
def import_twee(file: Path, into: Path, config, stream: TextIO) -> int:
    """`dreamreel worlds import FILE.twee --into WORLD`; the exit code (1: validation errors).

    `into` is already resolved by engine.worlds.tools (a bare name is in the worlds folder;
    shipped worlds are refused there).
    """
    story = read_twee(file)
    root = Path(into).resolve()
    created = not (root / "world.toml").exists()
    if created and root.exists() and any(root.iterdir()):
        raise WorldError(f"{root} is not empty and has no world.toml; import into a world "
                         "folder, or a new or empty folder.")
    slug = as_id(ascii_fold(story.title or Path(file).stem))[:30] or "twine"
    owned, taken = _world_contents(root, slug) if not created else ([], set())
    imported = storylets_from_twee(story, Path(file).resolve().parent, taken,
                                   confined(root, "images") if not created else None)
    texts = _storylet_files(imported, Path(file).name, slug)
    root.joinpath("storylets").mkdir(parents=True, exist_ok=True)
    if created:
        _write(root, "world.toml", _world_toml(imported, Path(file).name))
    for name, text in texts.items():
        _write(root, f"storylets/{name}", text)
    for name in owned:                         # parts of an earlier import no longer needed
        if name not in texts:
            confined(root, f"storylets/{name}").unlink(missing_ok=True)
    if imported.pictures:
        root.joinpath("images").mkdir(exist_ok=True)
        for name, source in imported.pictures.items():
            shutil.copyfile(source, confined(root, f"images/{name}"))
    print(f"Imported Twine story '{imported.title}' ({Path(file).name}, "
          f"{len(story.passages)} passages) into {root}", file=stream)
    if created:
        print(f"  (a new world; it opens with '{imported.start or '?'}': write its premise, "
              "tone and art_style in world.toml)", file=stream)
    elif imported.start:
        print(f"  the world keeps its own start; set start = \"{imported.start}\" in "
              "world.toml to open with the Twine story", file=stream)
    print(f"  added {len(imported.storylets)} storylets to "
          f"{', '.join('storylets/' + n for n in texts)}", file=stream)
    for name in imported.pictures:
        print(f"  added picture images/{name}", file=stream)
    for note in story.warnings + imported.notes:
        print(f"  note: {note}", file=stream)
    report = validate_world(root)
    for problem in report.errors:
        print(f"  ERROR {problem}", file=stream)
    print(f"Checked: {len(report.errors)} errors, {len(report.warnings)} warnings.", file=stream)
    print(f"Next: dreamreel worlds validate {into}", file=stream)
    return 0 if report.ok else 1


def _world_contents(root: Path, slug: str) -> tuple[list[str], set[str]]:
    """(storylet files an earlier import of this story made, ids the other files use).
    A file of this story's name not made by an import is refused."""
    owned, taken = [], set()
    folder = confined(root, "storylets")
    files = sorted(folder.glob("*.toml")) if folder is not None and folder.is_dir() else []
    for path in files:
        if re.fullmatch(rf"{re.escape(slug)}(_\d+)?\.toml", path.name):
            with path.open("rb") as handle:
                head = handle.read(len(MARKER.encode())).decode("utf-8", "replace")
            if head == MARKER:
                owned.append(path.name)
                continue
            if path.name == f"{slug}.toml":
                raise WorldError(f"{path} exists and was not made by an import; rename it, or "
                                 "the story (its StoryTitle), and import again.")
        raw = _read_toml(root, f"storylets/{path.name}", [])
        tables = raw.get("storylet", []) if isinstance(raw, dict) else []
        taken |= {t.get("id") for t in tables if isinstance(t, dict)} \
            if isinstance(tables, list) else set()
    return owned, taken


def _storylet_files(imported: TwineImport, source: str, slug: str) -> dict[str, str]:
    """The storylet tables as TOML text, in files kept under the size limit of one."""
    head = (f"{MARKER} from {source}.\n# Importing it again replaces this file: edit the "
            "story in Twine,\n# or rename this file to keep your edits here.\n")
    files, parts = {}, [head]
    for table in imported.storylets:
        text = storylet_toml(table)
        if len("".join(parts).encode()) + len(text.encode()) > MAX_FILE_BYTES - 1000:
            files[f"{slug}.toml" if not files else f"{slug}_{len(files) + 1}.toml"] = \
                "".join(parts)
            parts = [head]
        parts.append("\n" + text)
    files[f"{slug}.toml" if not files else f"{slug}_{len(files) + 1}.toml"] = "".join(parts)
    return files


def storylet_toml(table: dict) -> str:
    """One [[storylet]] table, with its [storylet.effects] and [[storylet.choices]]."""
    lines = ["[[storylet]]"]
    lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in table.items()
              if k not in ("effects", "choices") and v not in ("", None, [])
              and (v is not False or k == "once")]
    if table.get("effects"):
        lines += ["", "[storylet.effects]"]
        lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in table["effects"].items()]
    for choice in table.get("choices", []):
        lines += ["", "[[storylet.choices]]"]
        lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in choice.items() if v]
    return "\n".join(lines) + "\n"


def _world_toml(imported: TwineImport, source: str) -> str:
    lines = [f"# {imported.title}: made from the Twine story {source} by `dreamreel worlds "
             "import`. docs/MODDING.md explains each key.",
             f"title = {toml_value(shorten(plain_text(imported.title), 80) or 'Twine story')}"]
    if imported.start:
        lines.append(f"start = {toml_value(imported.start)}")
    return "\n".join(lines) + "\n"


def _write(root: Path, relative: str, text: str) -> None:
    target = confined(root, relative)
    if target is None:
        raise WorldError(f"{root / relative} is a link that leaves the world folder; refused.")
    write_atomic(target, text.encode("utf-8"))


__all__ = ["TwineImport", "storylets_from_twee", "storylet_toml", "import_twee", "MARKER"]
