"""A played story as a Twine story: the whole story graph written as Twee 3.

Every told scene becomes a passage with its narration and one `[[label->Passage]]` link per
choice (and per typed action) of the telling shown; each other telling of a scene becomes a
passage of its own, "Title (telling 2)", linked from the shown one; every way never taken (a
choice whose scene was never told) becomes an empty passage tagged `unwritten`, so a modder sees
the open ends in Twine's map and can write them. StoryTitle and StoryData (a fresh IFID, the
opening as start, Harlowe or SugarCube) come first. Passages are laid out on a grid, one column
per depth, so Twine shows the story as a readable tree.

Names are the scene titles made unique (" (2)"), kept free of what would break a link
(`->`, `<-`, `|`, `]]`, `][`) and escaped per the Twee 3 spec in headers. Tags: the kind
(opening, scene, ending, typed, unwritten; other tellings also `retelling`), the mood and
`location:<place>`. Narration is written so that neither Harlowe nor SugarCube reads it as
markup (HTML entities for `<`, `$name`, `(name:`, `[[`), which engine.worlds.twee's importer
decodes again. Pictures go as JPEG files into `<stem>-pictures/` beside the .twee, named by an
`<img>` tag at the top of each passage.

Like every exporter it reads a story (engine.export.story: a read-only copy of a slot) and
never changes it, streams to a temp file and a temp folder renamed into place at the end,
reports progress, and leaves no partial output when cancelled (JobCancelled) or failing.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote

from engine.errors import DreamreelError
from engine.export.story import Progress, scene_picture
from engine.story.schema import MOODS
from engine.text import shorten, without_controls
from engine.worlds.twee import escape, escape_text

if TYPE_CHECKING:  # pragma: no cover
    from engine.session.core import Session

StoryFormat = Literal["harlowe", "sugarcube"]
FORMATS = {"harlowe": ("Harlowe", "3.3.9"), "sugarcube": ("SugarCube", "2.37.3")}
KINDS = ("opening", "scene", "ending", "typed", "unwritten")
TAG_COLORS = {"opening": "green", "ending": "red", "unwritten": "yellow", "typed": "blue",
              "retelling": "purple"}
# Names the story formats give a meaning of their own (SugarCube's special passages): a scene
# titled so gets " (2)" like any other name already taken.
RESERVED = frozenset({"StoryTitle", "StoryData", "Start", "StoryInit", "StoryCaption",
                      "StoryMenu", "StoryBanner", "StorySubtitle", "StoryAuthor",
                      "StoryDisplayTitle", "StoryInterface", "StoryShare", "StoryIncludes",
                      "StorySettings", "PassageReady", "PassageDone", "PassageHeader",
                      "PassageFooter"})
MAX_NAME_CHARS = 100
COLUMN, ROW, SIZE = 200, 150, 100    # the map's grid: a column per depth, a row per leaf
JPEG_QUALITY = 85
UNWRITTEN_TEXT = "Unwritten: the story never went this way."
# What would end or split a link if it were in a name or a label: [[label->Name]]
_LINK_BREAKERS = (("->", "\u2192"), ("<-", "\u2190"), ("|", "/"), ("[[", "[ ["),
                  ("]]", "] ]"), ("][", "] ["))


@dataclass
class PlannedPassage:
    """One passage to write: what it shows, where it sits on the map, and its picture."""

    key: tuple[int, int]               # (scene id, version index); version -1: unwritten
    name: str
    tags: list[str]
    title: str = ""
    narration: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)   # (label, passage name)
    position: tuple[int, int] = (0, 0)
    picture: str = ""                  # file name inside the pictures folder ("" for none)


def export_twee(session: "Session", out: Path, *, story_format: StoryFormat = "harlowe",
                pictures: bool = True, on_progress: Progress | None = None) -> Path:
    """Write the story's whole graph to `out` as a Twee 3 file (and its pictures beside it).

    Args:
        session: a story, normally from engine.export.story.open_story (read only).
        out: the .twee file to write; its folder is created if needed, a file there replaced.
        story_format: "harlowe" or "sugarcube", named in StoryData.
        pictures: write each scene's picture into `<stem>-pictures/` and show it in the passage
            (a picture missing from the cache is painted, as in play).
        on_progress: called with (fraction done, what is being done); raising JobCancelled
            from it stops the export and leaves nothing behind.

    Returns:
        The path of the written .twee file.

    Raises:
        DreamreelError: an unknown format, or the file cannot be written.
        JobCancelled: from on_progress or the painter; nothing is left behind.
    """
    if story_format not in FORMATS:
        raise DreamreelError(f"Unknown Twine story format '{story_format}': use "
                             f"{' or '.join(FORMATS)}.")
    out = Path(out)
    report = on_progress or (lambda fraction, what: None)
    plan = plan_passages(session)
    folder_name = f"{out.stem}-pictures"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        os.fchmod(handle, 0o644)       # an ordinary file, not mkstemp's private one
    except OSError as err:
        raise DreamreelError(f"Cannot write {out}: {err.strerror}.") from None
    temp_pictures: Path | None = None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            if pictures:
                temp_pictures = Path(tempfile.mkdtemp(prefix=f".{folder_name}.", suffix=".tmp",
                                                      dir=out.parent))
            stream.write(_story_header(session, plan, story_format))
            for number, passage in enumerate(plan):
                report(number / len(plan), f"Passage {number + 1} of {len(plan)}: "
                       f"{passage.name}")
                if temp_pictures is not None and passage.key[1] >= 0:
                    passage.picture = _write_picture(
                        session, passage.key, temp_pictures,
                        lambda f, n=number: report((n + f) / len(plan), "Painting a picture"))
                stream.write(render_passage(passage, folder_name))
            stream.flush()
            os.fsync(stream.fileno())
        if temp_pictures is not None and any(temp_pictures.iterdir()):
            _move_folder(temp_pictures, out.parent / folder_name)
        elif temp_pictures is not None:            # no scene had a picture (painter "none")
            temp_pictures.rmdir()
        os.replace(temp, out)
    except BaseException as err:
        Path(temp).unlink(missing_ok=True)
        if temp_pictures is not None:
            shutil.rmtree(temp_pictures, ignore_errors=True)
        if isinstance(err, OSError):
            raise DreamreelError(f"Cannot write {out}: {err.strerror or err}.") from None
        raise
    report(1.0, f"Wrote {out.name}")
    return out


# -- planning: names, tags, links and places, without any I/O ----------------------------------
def plan_passages(session: "Session") -> list[PlannedPassage]:
    """The passages of the story's whole graph, in map order (each before what it leads to)."""
    graph = session.graph
    taken: set[str] = set()
    passages: dict[tuple[int, int], PlannedPassage] = {}
    children: dict[tuple[int, int], list[tuple[int, int]]] = {}
    depth: dict[tuple[int, int], int] = {}
    for scene in graph.scenes():                 # id order: parents before children
        key = main_key(scene)
        level = 0 if scene.parent is None else \
            depth.get(_owner(graph, scene), 0) + 1
        if scene.current is None:
            passages[key] = PlannedPassage(key, unique_name(scene.label, taken,
                                                            f"Unwritten {scene.id}"),
                                           ["unwritten"], narration=UNWRITTEN_TEXT)
        else:
            base = unique_name(scene.current.title, taken, f"Scene {scene.id}")
            for index, version in enumerate(scene.versions):
                main = index == scene.active
                here = key if main else (scene.id, index)
                tags = _tags(_kind(scene, version.ending), version.mood,
                             graph.state_after(scene.id, index).location or "")
                passages[here] = PlannedPassage(
                    here, base if main else unique_name(f"{base} (telling {index + 1})",
                                                        taken, base),
                    tags if main else tags + ["retelling"], version.title, version.narration)
                if not main:
                    children.setdefault(key, []).append(here)
                    depth[here] = level
        depth[key] = level
        if scene.parent is not None:
            children.setdefault(_owner(graph, scene), []).append(key)
    for scene in graph.scenes():
        for index in range(len(scene.versions)):
            here = passages.get((scene.id, index))
            if here is None:
                continue
            for child in graph.children(scene.id):
                if child.parent_version == index:
                    here.links.append((link_label(child.label), passages[main_key(child)].name))
            if index == scene.active:
                here.links += [(f"Telling {other + 1}", passages[(scene.id, other)].name)
                               for other in range(len(scene.versions)) if other != index]
    root = main_key(graph.scene(graph.root)) if graph.root is not None else None
    if root is None:
        raise DreamreelError("The story has no opening scene; there is nothing to export.")
    order = _layout(root, children, depth, passages)
    return [passages[key] for key in order]


def main_key(scene) -> tuple[int, int]:
    """The key of a scene's passage: its shown telling, or -1 when it was never told."""
    return (scene.id, scene.active if scene.current is not None else -1)


def _owner(graph, scene) -> tuple[int, int]:
    """The passage a scene hangs from: its parent's telling that offered the choice."""
    parent = graph.scene(scene.parent)
    if parent.current is None:
        return (parent.id, -1)
    index = scene.parent_version if scene.parent_version < len(parent.versions) else parent.active
    return (parent.id, index)


def _kind(scene, ending: bool) -> str:
    if scene.parent is None:
        return "opening"
    if ending:
        return "ending"
    return "typed" if scene.free_text else "scene"


def _tags(kind: str, mood: str, location: str) -> list[str]:
    tags = [kind]
    if mood in MOODS:
        tags.append(mood)
    place = re.sub(r"[^\w.-]+", "_", location.strip()).strip("_")[:40]
    if place:
        tags.append(f"location:{place}")
    return tags


def unique_name(title: str, taken: set[str], fallback: str) -> str:
    """A passage name from a title: one line, safe inside a link, not taken (" (2)" ...)."""
    name = " ".join(without_controls(title).split())
    for bad, good in _LINK_BREAKERS:
        name = name.replace(bad, good)
    name = shorten(name, MAX_NAME_CHARS) or fallback
    if name.endswith("]"):            # "[[x->Name]]]" would end the link one bracket early
        name += "."
    base, number = name, 2
    while name in taken or name in RESERVED:
        name, number = f"{base} ({number})", number + 1
    taken.add(name)
    return name


def link_label(label: str) -> str:
    """A choice label as a link's text: one line, no link syntax, no markup."""
    text = " ".join(without_controls(label).split()) or "Go on"
    text = text.replace("[", "(").replace("]", ")")
    for bad, good in _LINK_BREAKERS:
        text = text.replace(bad, good)
    return prose(text)


def _layout(root, children, depth, passages) -> list[tuple[int, int]]:
    """Grid positions (a column per depth; leaves on rows, parents centred on their
    children) and the passages in pre-order. Iterative: stories can be deep."""
    order, rows, next_row = [], {}, 0
    stack: list[tuple[tuple[int, int], bool]] = [(root, False)]
    while stack:
        key, done = stack.pop()
        if not done:
            order.append(key)
            stack.append((key, True))
            stack += [(child, False) for child in reversed(children.get(key, []))]
            continue
        below = [rows[child] for child in children.get(key, []) if child in rows]
        if below:
            rows[key] = (below[0] + below[-1]) / 2
        else:
            rows[key], next_row = float(next_row), next_row + 1
        passages[key].position = (SIZE + depth.get(key, 0) * COLUMN,
                                  SIZE + round(rows[key] * ROW))
    return order


# -- writing ----------------------------------------------------------------------------------
def prose(text: str) -> str:
    """Text that Harlowe and SugarCube show as written: what either would read as markup
    (HTML, a `$variable` or `_temp`, a `(macro:`, a `[[link`, an entity) becomes an entity."""
    text = re.sub(r"&(?=#?\w+;)", "&amp;", text)
    text = text.replace("<", "&lt;").replace("[[", "[&#91;")
    text = re.sub(r"\$(?=[A-Za-z_])", "&#36;", text)
    text = re.sub(r"(?<!\w)_(?=[A-Za-z])", "&#95;", text)
    return re.sub(r"\((?=[\w-]+:)", "&#40;", text)


def render_passage(passage: PlannedPassage, pictures_folder: str) -> str:
    """One passage as Twee 3: header, picture, narration, one link a line; a blank line after."""
    tags = " ".join(escape(tag) for tag in passage.tags)
    metadata = json.dumps({"position": f"{passage.position[0]},{passage.position[1]}",
                           "size": f"{SIZE},{SIZE}"}, separators=(",", ":"))
    lines = [f":: {escape(passage.name)} [{tags}] {metadata}"]
    if passage.picture:
        source = html.escape(f"{quote(pictures_folder)}/{quote(passage.picture)}", quote=True)
        lines += [f'<img src="{source}" alt="{html.escape(passage.title, quote=True)}">', ""]
    narration = escape_text(prose(passage.narration.strip()))
    if narration:
        lines.append(narration)
    if passage.links:
        lines += [""] + [f"[[{label}->{target}]]" for label, target in passage.links]
    return "\n".join(lines) + "\n\n\n"


def _story_header(session: "Session", plan: list[PlannedPassage], story_format: str) -> str:
    name, version = FORMATS[story_format]
    data = {"ifid": str(uuid.uuid4()).upper(), "format": name, "format-version": version,
            "start": plan[0].name, "tag-colors": TAG_COLORS, "zoom": 1}
    title = " ".join(without_controls(session.world.title).split()) or "Dreamreel story"
    return (f":: StoryTitle\n{title}\n\n\n"
            f":: StoryData\n{json.dumps(data, indent=2, ensure_ascii=False)}\n\n\n")


def _write_picture(session: "Session", key: tuple[int, int], folder: Path, on_progress) -> str:
    """The picture of a passage's telling saved as JPEG in folder; its file name, or "" when
    it has none (pictures off, or another telling whose picture was never painted)."""
    node, index = key
    scene = session.scene(node)
    size = (session.config.images.width, session.config.images.height)
    if index == scene.active:
        if session.painter.id == "none" and session.shipped_picture(node) is None:
            return ""
        image = scene_picture(session, node, size, on_progress=on_progress)
        name = f"scene-{node}.jpg"
    else:
        version_key = scene.versions[index].image_key
        cached = session.cache.get(version_key) if version_key else None
        if cached is None:
            return ""
        from engine.worlds.pictures import fill
        image = fill(cached.convert("RGB"), size)
        name = f"scene-{node}-telling-{index + 1}.jpg"
    image.convert("RGB").save(folder / name, "JPEG", quality=JPEG_QUALITY)
    return name


def _move_folder(source: Path, target: Path) -> None:
    """Put a finished pictures folder in place of an older one."""
    old = None
    if target.exists() or target.is_symlink():
        if target.is_symlink() or not target.is_dir():
            raise DreamreelError(f"{target} exists and is not a pictures folder; move it away "
                                 "or export under another name.")
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        os.replace(target, old / target.name)
    os.replace(source, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


__all__ = ["export_twee", "plan_passages", "render_passage", "unique_name", "link_label",
           "prose", "PlannedPassage", "FORMATS", "KINDS", "StoryFormat"]
