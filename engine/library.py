"""The Library: everything a front end needs outside a running story, behind one object.

A Session is one story being played; the Library is the shelf around it: the installed worlds
and their covers, the save slots with their details and thumbnails (delete, and undo a delete),
the painted pictures in the image cache, and the tools behind the `dreamreel` subcommands
(worlds, models, eval). A front end builds one Library from its Config and asks it, so that the
window, the terminal and the command line read worlds, saves and pictures the same way and
share one image cache.

Most methods delegate to the engine module that owns the logic (engine.worlds, engine.saves,
engine.painters, engine.models, engine.evaluation); this module adds no rules of its own beyond
keeping the undo list of deleted slots and the loaded world list. It never imports pygame,
never starts a story and never draws. Importing it is cheap: every engine part it uses is
imported inside the method that needs it. Methods that read the disk or paint are meant to run
on a front end's background thread; none of them touches a Session.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, NamedTuple, TextIO

from engine.config import Config
from engine.errors import DreamreelError, SaveError

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image as PILImage

    from engine.evaluation import EvalSettings, RunResult
    from engine.painters.imagecache import ImageCache
    from engine.saves.slotlock import Holder
    from engine.saves.store import SaveStore, SlotMeta
    from engine.worlds.world import World

SLOT_PORTRAIT_SNAPSHOT_BYTES = 8 << 20   # larger snapshots are not parsed for a slot's portrait
COVER_SIZE = (768, 432)   # painted covers: part of their cache key, so kept the same everywhere


class WorldEntry(NamedTuple):
    """One installed world as a front end lists it: playable (world set) or broken (error set).

    A tuple, so `for world_id, world, error in library.worlds()` reads naturally.
    """

    id: str                 # the world's id, or the folder it was given by (--world ./w)
    world: World | None     # None when it cannot be played
    error: str = ""         # why it cannot be played

    @property
    def title(self) -> str:
        """The world's title, or its id when it is broken (so a list can still name it)."""
        return self.world.title if self.world is not None else self.id


@dataclass(frozen=True)
class EvalReport:
    """What `dreamreel eval` measured, and the ways to show it."""

    settings: EvalSettings
    results: list[RunResult]
    default_transcript: Path   # where the transcript goes unless the person names a file

    def printed(self) -> str:
        """The tables printed to the terminal: every scene, then the totals."""
        from engine.evaluation import printed
        return printed(self.settings, self.results)

    def transcript(self) -> str:
        """The Markdown transcript of every run, for reading what the narrator wrote."""
        from engine.evaluation import transcripts
        return transcripts(self.settings, self.results)

    def as_json(self) -> str:
        """Every figure as JSON, for comparing runs with other tools."""
        from engine.evaluation import as_json
        return as_json(self.settings, self.results)


def fill_picture(image: PILImage.Image, size: tuple[int, int]) -> PILImage.Image:
    """Scale and centre-crop a picture so it fills `size` exactly.

    Front ends call this on a worker thread to fit a scene picture to their window, the same way
    the engine fits a world's own pictures (engine.worlds.pictures.fill).
    """
    from engine.worlds.pictures import fill
    return fill(image, size)


class Library:
    """Worlds, covers, save slots, thumbnails, cached pictures and tools, for one Config.

    Args:
        config: where the worlds, saves and image cache are, and which painter paints covers.

    Safe to share between the main thread and background jobs: the world list and the image
    cache are created once under a lock; each call reads the disk afresh otherwise.
    """

    def __init__(self, config: Config):
        self.config = config
        self._lock = threading.Lock()
        self._worlds: list[WorldEntry] | None = None
        self._images: ImageCache | None = None
        self._deleted: list = []       # engine.saves.trash.Deleted, newest last

    # -- worlds -----------------------------------------------------------------------------
    def world_ids(self) -> list[str]:
        """The ids of every installed world, sorted; a world folder the config names by path
        (`--world ./my_world`) comes first, so a modder's world is offered before the others.

        A front end calls this to list worlds without loading them.
        """
        from engine.worlds.loading import list_world_ids
        ids = sorted(list_world_ids(self.config.worlds_dir))
        wanted = self.config.game.world
        if wanted and wanted not in ids:
            ids.insert(0, wanted)
        return ids

    def load_world(self, world_id: str | Path) -> World:
        """Load and check one world by id or folder (WorldError when it cannot be played).

        A front end calls this to start a story in a world the player picked.
        """
        from engine.worlds.loading import load_world
        return load_world(world_id, self.config.worlds_dir)

    def worlds(self, reload: bool = False) -> list[WorldEntry]:
        """Every installed world, loaded, in world_ids() order; a broken one says why instead
        of hiding the others. Loaded once and kept (reload=True reads them again).

        A front end calls this on a background thread for its world picker and title backdrop.
        """
        if self._worlds is not None and not reload:
            return self._worlds
        found = []
        for world_id in self.world_ids():
            try:
                found.append(WorldEntry(world_id, self.load_world(world_id)))
            except DreamreelError as err:
                found.append(WorldEntry(world_id, None, str(err)))
        self._worlds = found
        return found

    @property
    def known_worlds(self) -> list[WorldEntry] | None:
        """The worlds as last loaded by worlds(), or None before: lets a front end show them at
        once instead of starting a background job when they are already known."""
        return self._worlds

    def world_titles(self) -> list[tuple[str, str]]:
        """(id, title) of every installed world, from worlds(); a broken world shows its id.

        For short lists (a menu, a prompt) that need no more than a name.
        """
        return [(entry.id, entry.title) for entry in self.worlds()]

    def cover(self, world: World, size: tuple[int, int] = COVER_SIZE,
              painter=None) -> PILImage.Image | None:
        """A world's cover picture, `size` pixels: the picture file its `cover` names, else one
        painted from its art style and cover prompt (or premise) and kept in the image cache.

        Args:
            world: a loaded world.
            size: the picture's size (COVER_SIZE unless a front end shows covers otherwise).
            painter: the painter to use; default the one the config names. A front end passes
                the painter its stories already use, so a model is not loaded twice.

        Returns:
            The picture, or None when the painter paints nothing ("none"). Slow on a first
            call (a painter runs): call it on a background thread.
        """
        from engine.worlds.pictures import load_world_picture, shipped_picture
        shipped = shipped_picture(world, world.spec.cover)
        if shipped is not None:
            return load_world_picture(world, shipped, size)
        if painter is None:
            from engine.painters import make_painter
            painter = make_painter(self.config.game.painter)
        if painter.id == "none":
            return None
        from engine.painters.imagecache import cache_key
        prompt, seed = cover_prompt(world), cover_seed(world)
        key = cache_key(painter.id, painter.model, prompt, "", seed, size, painter.steps)
        image = self.images.get(key)
        if image is None:
            image = painter.paint(prompt, seed, size)
            self.images.put(key, image)
        return image

    # -- save slots -------------------------------------------------------------------------
    @property
    def store(self) -> SaveStore:
        """The save slots' folder as an engine.saves SaveStore (for engine code that needs it)."""
        from engine.saves.store import SaveStore
        return SaveStore(self.config.saves_dir)

    @property
    def slots_dir(self) -> Path:
        """The folder the slots live in, for messages that tell a person where to look."""
        return self.store.slots_dir

    @staticmethod
    def check_slot_name(name: str) -> str:
        """The name if it can be a slot's name, else SaveError saying which names can.

        A front end calls this before offering a name, so a bad one is refused up front.
        """
        from engine.saves.store import check_name
        return check_name(name)

    def slots(self) -> list[tuple[SlotMeta | None, str, str]]:
        """(details, slot name, problem) of every slot, newest first; a damaged slot has no
        details and says why. Reads only the slots' small files, never a story.

        A front end calls this (on a background thread) for its Load and Save lists.
        """
        return self.store.list()

    def newest_slot(self) -> tuple[str, SlotMeta] | None:
        """The newest readable slot's name and details, or None: what "Continue" goes on with."""
        for meta, name, _ in self.slots():
            if meta is not None:
                return name, meta
        return None

    def slot_exists(self, name: str) -> bool:
        """Whether a slot holds a story: a quickload or a fork checks this before it starts."""
        return self.store.exists(name)

    def slot_meta(self, name: str) -> SlotMeta:
        """A slot's details (world, turn, time, scene) without loading it; SaveError if damaged."""
        return self.store.meta(name)

    def slot_holder(self, name: str) -> Holder | None:
        """The game that has a slot open now, or None: slot lists say "open in process N"."""
        return self.store.holder(name)

    def thumbnail(self, name: str, meta: SlotMeta | None = None) -> PILImage.Image | None:
        """A slot's picture: its saved thumbnail, else its current scene's picture from the image
        cache; None when it has neither (or the file is damaged: a list then shows no picture).

        Args:
            name: the slot.
            meta: its details when the caller has them already (saves reading them again).
        """
        from PIL import Image
        path = self.store.thumbnail_path(name)
        if path is not None:
            try:
                with Image.open(path) as handle:
                    return handle.convert("RGB")
            except (OSError, ValueError, Image.DecompressionBombError):
                pass
        if meta is None:
            try:
                meta = self.slot_meta(name)
            except SaveError:
                return None
        return self.picture(meta.image_key) if meta.image_key else None

    def slot_portrait(self, name: str) -> PILImage.Image | None:
        """The player's portrait in a slot's story, or None (no portrait, or its file is
        missing, damaged or refused: a slot list then shows none).

        Which portrait the story has now is read from the newest autosave (the journal's
        tail), else from the snapshot when it is small (SLOT_PORTRAIT_SNAPSHOT_BYTES; a larger
        story is not parsed for a list). The file is checked as Session.portrait checks it.
        """
        import orjson

        from engine.saves.journal import TAIL_BYTES, parse_line
        from engine.saves.portrait import load_portrait
        folder, play = self.store.slot_dir(name), None
        try:
            journal = folder / "journal.jsonl"
            if journal.is_file():
                with open(journal, "rb") as handle:
                    handle.seek(max(0, journal.stat().st_size - TAIL_BYTES))
                    for raw in reversed(handle.read().split(b"\n")):
                        record = parse_line(raw + b"\n") if raw.strip() else None
                        if record is not None and isinstance(record.get("play"), dict):
                            play = record["play"]
                            break
            story = folder / "story.json"
            if play is None and story.is_file() and \
                    story.stat().st_size <= SLOT_PORTRAIT_SNAPSHOT_BYTES:
                snapshot = orjson.loads(story.read_bytes())
                play = snapshot.get("play") if isinstance(snapshot, dict) else None
            digest = play.get("portrait") if isinstance(play, dict) else None
            if not isinstance(digest, str) or not digest:
                return None
            return load_portrait(folder, digest)
        except (OSError, ValueError, SaveError):
            return None

    def delete_slot(self, name: str) -> None:
        """Move a slot to the trash; undo_delete() brings it back while this process runs.

        Refused (SaveError) for a slot a game has open. The Library remembers the deletes, so
        every screen of a front end can undo them.
        """
        deleted = self.store.delete(name)
        with self._lock:
            self._deleted.append(deleted)

    @property
    def can_undo_delete(self) -> bool:
        """Whether a delete can be undone (an Undo button is enabled by this)."""
        return bool(self._deleted)

    def undo_delete(self) -> str | None:
        """Bring back the slot deleted last; its name, or None when nothing was deleted.

        SaveError when its name was taken again meanwhile: the delete stays undoable then.
        """
        with self._lock:
            if not self._deleted:
                return None
            deleted = self._deleted[-1]
        name = self.store.restore(deleted)
        with self._lock:
            if self._deleted and self._deleted[-1] is deleted:
                self._deleted.pop()
        return name

    # -- pictures ---------------------------------------------------------------------------
    @property
    def images(self) -> ImageCache:
        """The image cache (painted scenes and covers by content key), one per Library."""
        with self._lock:
            if self._images is None:
                from engine.painters.imagecache import ImageCache
                self._images = ImageCache(self.config.saves_dir / "cache",
                                          max_bytes=self.config.images.cache_mb << 20)
            return self._images

    def picture(self, key: str) -> PILImage.Image | None:
        """The cached picture with this key (a scene's image_key), or None when it is not (or
        no longer) cached. Front ends use it for pictures of stories that are not open."""
        return self.images.get(key)

    # -- tools (the dreamreel subcommands) --------------------------------------------------
    def world_tool(self, action: str, target: str | None, stream: TextIO,
                   into: Path | None = None) -> int:
        """Run `dreamreel worlds list|validate|new|import`, writing to stream; the exit code.

        Args:
            action: list, validate, new or import.
            target: the world folder (validate), new world's name (new) or file (import).
            stream: where the report goes.
            into: import: the world folder to add to.
        """
        from engine.worlds import tools
        return tools.run(action, target, SimpleNamespace(into=into), self.config, stream)

    @staticmethod
    def list_models(stream: TextIO, kind: str | None = None) -> int:
        """Print the recommended models, marking those downloaded (`dreamreel models list`).
        Needs no Config: models live in the Hugging Face cache, not in the game's folders."""
        from engine import models
        return models.list_models(stream, kind=kind)

    @staticmethod
    def pull_model(repo_id: str, stream: TextIO, kind: str | None = None) -> int:
        """Download a model into the local cache with progress (`dreamreel models pull ID`);
        play never downloads, so this is how a player gets a model before using it."""
        from engine import models
        return models.pull_model(repo_id, stream, kind=kind)

    def evaluate(self, *, script: Path | None = None, turns: int | None = None,
                 prompts: tuple[str, ...] = (), words: str = "60-200") -> EvalReport:
        """Play scripted turns with the config's narrator and world and measure each scene
        (`dreamreel eval`): how a change to prompts or sampling is judged.

        Args:
            script: one action a line (a number picks that choice); default the built-in walk.
            turns: actions after the opening; default the script's length, or 10.
            prompts: prompt folders to compare side by side ("default": the world's own).
            words: the narration length of a well-formed scene, "MIN-MAX".
        """
        from engine import evaluation
        lines = evaluation.read_script(script) if script else evaluation.DEFAULT_SCRIPT
        if turns is None:
            turns = len(lines) if script else evaluation.DEFAULT_TURNS
        game = self.config.game
        settings = evaluation.EvalSettings(
            narrator=game.narrator, world=game.world, turns=turns, script=lines,
            seed=game.seed or 1, prompts=tuple(prompts),
            word_range=evaluation.parse_word_range(words))
        results = evaluation.evaluate(self.config, settings)
        transcript = (self.config.saves_dir / "eval" /
                      f"{results[0].world_id}-seed{settings.seed}.md")
        return EvalReport(settings, results, transcript)

    # -- exports ----------------------------------------------------------------------------
    @property
    def exports_dir(self) -> Path:
        """Where the window puts films, books and Twine stories: `exports/` beside the slots."""
        return self.config.saves_dir / "exports"

    def export(self, kind: str, slot: str | None = None, out: Path | None = None, *,
               folder: Path | None = None, path: str = "current", story_format: str = "harlowe",
               film_size: str = "720p", on_progress=None) -> list[Path]:
        """Make a film, a book or a Twine story of a saved story (engine.export.export_story):
        the save is only read. Slow (it may paint missing pictures, and encodes a film), so a
        window runs it on a background thread; on_progress(fraction, what) reports, and
        raising engine.errors.JobCancelled from it cancels, leaving no file behind.

        Returns:
            The files written, the main one first.
        """
        from engine.export import export_story
        return export_story(self.config, kind, slot, out, folder=folder, path=path,
                            story_format=story_format, film_size=film_size,
                            on_progress=on_progress)

    @staticmethod
    def write_report(path: Path, text: str) -> None:
        """Write a report file (an eval transcript or JSON) whole or not at all, making its
        folder; an error a person can act on (EvalError) when the disk refuses it."""
        from engine.atomic import write_atomic
        from engine.evaluation import EvalError
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, text.encode("utf-8"), durable=False)
        except OSError as err:
            raise EvalError(f"Cannot write {path}: {err.strerror or err}.") from None


def cover_prompt(world: World) -> str:
    """What a world's cover is painted from: its art style, then its cover prompt or premise."""
    spec = world.spec
    return ", ".join(p for p in (spec.art_style, spec.cover or spec.premise) if p)


def cover_seed(world: World) -> int:
    """A world's cover seed: fixed by its id, so a cover is painted once and then cached."""
    import zlib
    return zlib.crc32(world.id.encode("utf-8"))


__all__ = ["COVER_SIZE", "EvalReport", "Library", "WorldEntry", "cover_prompt", "cover_seed",
           "fill_picture"]
