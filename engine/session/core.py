"""The Session: the one front door to a running story (like ink's Story object).

The pygame game, the terminal mode, `dreamreel eval` and the benchmarks all drive a Session: it
holds the story graph and the play state (engine.story), the narrator and painter and the job
runner, and is composed of parts with state of their own: narration, pictures, saving, hot
reload, sound and the outbox of events (engine.session.narration, .pictures, .saving, .reload,
.sound, .outbox). Front ends call its actions (choose, act, back,
jump, regenerate, save) and poll() it every frame; slow work runs on the runner and its results
are applied here, on the caller's thread. Nothing reaches around it. No pygame, no torch.

A story holds its save slot while it is open (engine.saves.slotlock): a second game on the same
slot is refused, and may open a read-only copy or fork it into a new slot. Every notice and error goes
into the one event stream that poll() returns (engine.events): the terminal prints them, the
window shows them as toasts. A scene is never left "generating" without a job telling it
(check_invariants), so no wait can hang on one. close() ends everything the story started.
"""

from __future__ import annotations

import io
import time
import weakref
from pathlib import Path

from engine.config import Config
from engine.errors import DreamreelError, SaveError
from engine.events import EventKind, SessionEvent
from engine.narrators.storylets import infer_intent
from engine.painters import painter_from_config
from engine.painters.imagecache import ImageCache
from engine.saves.portrait import keep_portrait, load_portrait, portrait_file, read_portrait
from engine.saves.saver import give_memory_back
from engine.saves.snapshot import from_snapshot
from engine.saves.store import SaveStore, check_name
from engine.session.jobs import NARRATE_CURRENT, InlineRunner, ThreadedRunner
from engine.session.narration import Narration, NarrationTiming
from engine.session.outbox import Outbox
from engine.session.pictures import Pictures
from engine.session.reload import WorldReload
from engine.session.saving import Saving
from engine.session.sound import Sound
from engine.story.graph import FAILED, GENERATING, READY, STUB, Scene, StoryGraph
from engine.story.persona import MAX_LOOK, MAX_NAME, MAX_PRONOUNS, Persona, persona_of, tidy
from engine.story.player_model import PlayerModel, PlayerProfile
from engine.story.playstate import PlayState
from engine.story.seeds import derive_seed, fresh_seed, story_seed
from engine.story.state import WorldState
from engine.worlds.loading import load_world
from engine.worlds.world import World

MAX_ACTION_CHARS = 300   # a typed action is cut to this length
MAX_PACE_MS = 3_600_000  # a choice's recorded pace is capped at an hour
AUTOSAVE_SLOT = "autosave"
WAIT_STEP_S = 0.1        # a wait looks at the story at least this often (it never spins)


class Session:
    """A story being played. Create with Session.new() or Session.resume().

    It is composed of parts, each holding its own state: `narration` (telling scenes, prefetch,
    timings, prompts), `pictures` (painting jobs, pictures in memory, the image cache),
    `saving` (autosave, named saves, the slot), `reload` (hot reload of the world) and
    `outbox` (the events the next poll() returns). The story itself is `graph` (what was told)
    and `play` (the player's place in it: engine.story.playstate.PlayState).

    One turn, top to bottom (each step is a method below, in this order):
      1. narrate  - choose()/act() enter a scene; if it is not told yet, a job tells it
                    (Narration.narrate) on the runner, off the caller's thread;
      2. apply    - poll() hands the finished draft to Narration.on_job_event, which checks
                    its effects and adds it to the graph, with a stub for each choice;
      3. autosave - _arrived(): one journal line on the saver thread (Saving.autosave);
      4. picture  - _arrived(): the scene's picture is painted or loaded (Pictures);
      5. prefetch - _arrived(): the scenes behind the likeliest choices are told ahead.
    """

    def __init__(self, config: Config, world: World, narrator, painter, runner=None,
                 seed: int | None = None, slot: str = AUTOSAVE_SLOT, read_only: bool = False,
                 claim=None, graph: StoryGraph | None = None, play: PlayState | None = None,
                 images: ImageCache | None = None):
        """Args (besides the obvious): slot: the slot this story writes; read_only: write no
        slot (a copy of a story another game is playing); claim: the slot's claim when the
        caller took it already (engine.saves.slotlock), else it is taken here (SlotBusy if
        held); graph and play: a story read from a save (default: a new, empty story);
        images: the image cache to paint into (a front end's Library shares its own; default:
        the one in the saves folder)."""
        self.config = config
        self.slot = check_name(slot)
        store = SaveStore(config.saves_dir)
        # First, before any thread starts: a refused slot leaves nothing running.
        claim = None if read_only else (claim or store.claim(self.slot))
        if claim is not None:   # a story dropped without close() still frees its slot
            self._claim_finalizer = weakref.finalize(self, claim.release)
        self.world = world
        self.narrator = narrator
        self.painter = painter
        self.runner = runner or ThreadedRunner()
        self.graph = graph if graph is not None else StoryGraph(world.initial_state())
        self.play = play if play is not None else PlayState(
            seed=story_seed(seed) if seed else fresh_seed(), author_note=config.game.author_note)
        self.saving = Saving(self, store, claim, read_only)
        self.narration = Narration(self)
        self.pictures = Pictures(self, images if images is not None else ImageCache(
            config.saves_dir / "cache", max_bytes=config.images.cache_mb << 20))
        self.outbox = Outbox()                   # events for the next poll()
        self.reload = WorldReload(self)          # hot reload of the world's files
        self.sound = Sound(self)                 # music and voice, once a front end asks
        # What the game believes about the player, derived from the path (engine.story
        # .player_model); [game] player_model turns it off.
        self.player_model = PlayerModel(self.graph)
        self.reads_player = config.game.player_model
        self._portrait_png: tuple[str, bytes] | None = None     # (hash, PNG) set this session
        self._portrait_image = None                             # (hash, PIL image) decoded
        self._loaded_from: Path | None = None                   # the slot folder read, if any
        self._closed = False

    # -- the play state, for reading (and for tools that set up a story) -------------------
    @property
    def current(self) -> int:
        """The id of the scene the player is at."""
        return self.play.current

    @current.setter
    def current(self, node: int) -> None:
        self.play.current = node

    @property
    def turn(self) -> int:
        """Choices and typed actions taken so far."""
        return self.play.turn

    @property
    def seed(self) -> int:
        """The story's seed: every scene's seed derives from it, so a save replays exactly."""
        return self.play.seed

    @property
    def author_note(self) -> str:
        """The player's standing instruction to the narrator (may be empty)."""
        return self.play.author_note

    @author_note.setter
    def author_note(self, note: str) -> None:
        self.play.author_note = note

    @property
    def characters(self) -> dict[str, str]:
        """The recorded appearance of each character met, by id (kept with the story)."""
        return self.play.characters

    @property
    def read_only(self) -> bool:
        """True for a copy of a story another game is playing: it writes no slot."""
        return self.saving.read_only

    @property
    def store(self):
        """The save slots this story's game uses (engine.saves.store.SaveStore)."""
        return self.saving.store

    @property
    def cache(self) -> ImageCache:
        """The image cache on disk that pictures are painted into."""
        return self.pictures.cache

    @property
    def closed(self) -> bool:
        """True once close() ran: the story does nothing more."""
        return self._closed

    # -- creating ---------------------------------------------------------------------------
    @classmethod
    def new(cls, config: Config, *, world: World | None = None, narrator=None, painter=None,
            runner=None, seed: int | None = None, slot: str | None = None,
            read_only: bool = False, images: ImageCache | None = None,
            player: dict | None = None) -> "Session":
        """Start a new story: the opening scene is narrated at once (poll to receive it).

        Every story keeps its own slot: with no `slot`, a new one named after the world and
        the date is made ("lantern_coast-2026-12-07", then "-2", "-3"), so a new game never
        touches another story's saves. When the world names a start storylet and the narrator
        is a language model, the opening is the world's own, told by the storylet narrator
        (see Narration._teller). `player` is the player's profile (name, pronouns, look,
        portrait: a file; see set_player), the world's suggestions where left out. Raises
        SlotBusy when another game is playing in `slot`."""
        from engine.saves.slotlock import SlotBusy

        store = SaveStore(config.saves_dir)
        world = world or load_world(config.game.world, config.worlds_dir)
        claim = None
        if slot is None:
            for _ in range(100):        # another game may take the same fresh name first
                slot = store.fresh_name(world.id)
                if read_only:
                    break
                try:
                    claim = store.claim(slot, share=False)
                except SlotBusy:
                    continue
                if store.slot_dir(slot).exists():   # made by another game meanwhile
                    claim.release()
                    claim = None
                    continue
                break
            else:
                raise SaveError(f"Could not find a free slot name for a new story in "
                                f"{store.slots_dir}.")
        elif not read_only:
            claim = store.claim(slot)
        try:
            narrator = narrator or config.make_narrator()
            painter = painter or painter_from_config(config)
            session = cls(config, world, narrator, painter, runner,
                          seed=seed or config.game.seed or None, slot=slot, read_only=read_only,
                          claim=claim, images=images)
        except BaseException:
            if claim is not None:
                claim.release()
            raise
        session._took_over(claim)
        suggested = session.world.spec.player
        chosen = {"name": suggested.name, "pronouns": suggested.pronouns,
                  "look": suggested.look, **(player or {})}
        session.set_player(**chosen)
        root = session.graph.add_root(seed=derive_seed(session.seed, "root"))
        session.play.current = root.id
        session.saving.mark(root.id)
        session.narration.narrate(root.id)
        return session

    @classmethod
    def resume(cls, config: Config, name: str | None = None, *, narrator=None, painter=None,
               runner=None, slot: str | None = None, read_only: bool = False,
               images: ImageCache | None = None) -> "Session":
        """Load a slot (default: the newest) and go on from where it stopped, writing into
        `slot` (default: the slot it was loaded from: every story keeps its own). Raises SlotBusy when another game is playing in `slot` (nothing is read then);
        with read_only the story is read and played but never saved into any slot but one the
        player names (:save NAME), so a story another game is playing can still be opened."""
        store = SaveStore(config.saves_dir)
        name = name or store.latest()
        if name is None:
            raise SaveError(f"No saved story in {store.slots_dir} to continue. Start a new game.")
        name = check_name(name)
        slot = name if slot is None else slot
        claim = None if read_only else store.claim(slot)
        try:
            loaded = store.read(name)
            session = from_snapshot(cls, config, loaded.snapshot, f"{store.slot_dir(name)}",
                                    narrator=narrator, painter=painter, runner=runner, slot=slot,
                                    read_only=read_only, claim=claim, images=images)
        except BaseException:
            if claim is not None:
                claim.release()
            raise
        session._took_over(claim)
        session._loaded_from = store.slot_dir(name)
        if slot != name and not read_only and session.play.portrait:   # a fork keeps its own
            portrait = session.portrait_png()
            if portrait is not None:
                keep_portrait(store.slot_dir(slot), session.play.portrait, portrait)
        for note in loaded.notes:
            session._notice(EventKind.NOTICE, note)
        for warning in loaded.warnings:
            session._notice(EventKind.ERROR, warning)
        if name == session.slot and not loaded.warnings and not loaded.notes:
            session.saving.has_snapshot = True
            session.saving.journal_lines = loaded.journal_lines
        scene = session.scene()
        if scene.status in (STUB, GENERATING, FAILED):
            scene.status = STUB
            session.narration.narrate(scene.id)
        return session

    def _took_over(self, claim) -> None:
        holder = getattr(claim, "took_over", None)
        if holder is not None:
            self._notice(EventKind.NOTICE, f"Slot '{self.slot}' was left locked by a game that stopped "
                                   f"without closing (process {holder.pid}); this game took it "
                                   f"over. Its story is kept up to its last autosave.")

    # -- reading ----------------------------------------------------------------------------
    def scene(self, node: int | None = None) -> Scene:
        """A scene of the story (default: the current one). KeyError for an unknown id."""
        return self.graph.scene(self.current if node is None else node)

    def choices(self) -> list[Scene]:
        """The choices the current scene offers (none while it is told, or at an ending)."""
        scene = self.scene()
        if scene.status != READY or scene.current.ending:
            return []
        return self.graph.choices(self.current)

    def state(self) -> WorldState:
        """The world state once the current scene has happened (inventory, flags, place)."""
        return self.graph.state_after(self.current)

    @property
    def waiting(self) -> bool:
        """True while the current scene is being narrated."""
        return self.scene().status in (STUB, GENERATING)

    @property
    def ended(self) -> bool:
        """True at an ending: the current scene is told and closes the story."""
        scene = self.scene()
        return scene.status == READY and scene.current.ending

    def prompt_for(self, node: int | None = None) -> dict | None:
        """The exact prompt (and its token count) a narrator was given for a scene, also while
        it is still narrating; None for narrators without prompts (storylets)."""
        return self.narration.prompt_for(self.current if node is None else node)

    def stream_text(self, node: int | None = None) -> str:
        """The words streamed so far into a scene being told (default: the current one)."""
        return self.narration.streams.get(self.current if node is None else node, "")

    def narration_timing(self, node: int | None = None) -> NarrationTiming | None:
        """How long a scene's telling took: the time to its first word and in all, also while
        it is being told (for a status line). None for a scene not told in this session."""
        return self.narration.timing(self.current if node is None else node)

    # -- the player model (engine.story.player_model) ---------------------------------------
    def player_profile(self, node: int | None = None) -> PlayerProfile | None:
        """What the game believes about the player at a scene (default: the current one):
        their tendencies and current tone, derived from the path, so it is right after a
        rollback or a jump. None while the player model is off."""
        if not self.reads_player:
            return None
        return self.player_model.profile(self.current if node is None else node)

    # -- the player's profile (engine.story.persona) ----------------------------------------
    def player(self) -> Persona:
        """The player's profile: name, pronouns, look, role and portrait hash, with the
        world's suggestions where the story has none of its own."""
        return persona_of(self.world, self.play)

    def prepare_portrait(self, path: str | Path) -> tuple[str, bytes]:
        """Check a portrait file, make it small and keep it in the story's slot folder: the
        slow part of set_player(portrait=...), safe to run on a background thread (it touches
        no story state). Returns what set_player takes as `portrait`.

        Raises:
            SaveError: naming the file and what is wrong with it."""
        digest, data = read_portrait(Path(str(path).strip()))
        if not self.read_only:
            keep_portrait(self.store.slot_dir(self.slot), digest, data)
        return digest, data

    def set_player(self, name: str | None = None, pronouns: str | None = None,
                   look: str | None = None,
                   portrait: str | Path | tuple[str, bytes] | None = None) -> Persona:
        """Change the player's profile; it applies from the next scene told on (scenes told
        already keep their text and pictures). None leaves a field as it is; "" clears it
        (the world's suggestion then applies; portrait="" removes the portrait).

        A portrait file is checked like world pictures (type, size, pixel bomb), made small
        and kept in the story's slot folder; it is never sent to any server. A broken one is
        an ERROR event naming the file, and the story goes on without a portrait. A front end
        that must not wait on the file passes what prepare_portrait() returned instead.
        """
        if name is not None:
            self.play.player_name = tidy(name, MAX_NAME)
        if pronouns is not None:
            self.play.pronouns = tidy(pronouns, MAX_PRONOUNS)
        if look is not None:
            self.play.look = tidy(look, MAX_LOOK)
        if portrait is not None:
            self.play.portrait = ""
            if isinstance(portrait, tuple):              # checked already (prepare_portrait)
                self._portrait_png = portrait
                self.play.portrait = portrait[0]
            elif str(portrait).strip():
                try:
                    self._portrait_png = self.prepare_portrait(portrait)
                    self.play.portrait = self._portrait_png[0]
                except SaveError as err:
                    self._notice(EventKind.ERROR, str(err))
        if self.graph.root is not None and not self.closed:
            self.saving.autosave()
        return self.player()

    def portrait(self):
        """The player's portrait as a PIL image, or None (no portrait, or its file is missing
        or refused: then an ERROR event says why, once)."""
        digest = self.play.portrait
        if not digest:
            return None
        if self._portrait_image is not None and self._portrait_image[0] == digest:
            return self._portrait_image[1]
        image = None
        if self._portrait_png is not None and self._portrait_png[0] == digest:
            from PIL import Image
            image = Image.open(io.BytesIO(self._portrait_png[1]))
            image.load()
        else:
            for folder in self._portrait_folders():
                try:
                    image = load_portrait(folder, digest)
                except SaveError as err:
                    self._notice(EventKind.ERROR, f"{err} The story goes on without it.")
                    self.play.portrait = ""
                    return None
                if image is not None:
                    break
        self._portrait_image = (digest, image) if image is not None else None
        return image

    def portrait_png(self) -> bytes | None:
        """The portrait as the slot keeps it (PNG bytes), for copying into another slot."""
        digest = self.play.portrait
        if not digest:
            return None
        if self._portrait_png is not None and self._portrait_png[0] == digest:
            return self._portrait_png[1]
        for folder in self._portrait_folders():
            path = portrait_file(folder, digest)
            if path.is_file() and self.portrait() is not None:
                return path.read_bytes()
        return None

    def _portrait_folders(self) -> list[Path]:
        folders = [self.store.slot_dir(self.slot)]
        if self._loaded_from is not None and self._loaded_from not in folders:
            folders.append(self._loaded_from)
        return folders

    def player_tone(self) -> str | None:
        """The player's current tone (calm, angry, afraid, happy, sad), or None while the
        player model is off."""
        profile = self.player_profile()
        return profile.tone if profile is not None else None

    def set_player_model(self, on: bool) -> None:
        """Turn the player model on or off ([game] player_model): off, prompts get no profile
        line and the storylet narrator weighs no storylet by it. Scenes told from now on
        follow the setting; a scene told ahead for the old one is told again."""
        if bool(on) == self.reads_player:
            return
        self.reads_player = bool(on)
        self.narration.retell_ahead()

    # -- sound ---------------------------------------------------------------------------------
    def enable_sound(self, on: bool = True) -> None:
        """Make music and voice for the scenes the player reaches (a front end that can play
        sound turns it on; poll() then brings MUSIC and VOICE events). Off by default."""
        self.sound.enable(on)

    def set_audio(self, settings) -> None:
        """New [audio] settings (engine.config.AudioSettings): reading aloud on or off, another
        music or voice backend. The current scene's sound is made again to match."""
        self.sound.set_settings(settings)

    @property
    def heard(self) -> dict[int, dict]:
        """What sound each scene was given, by scene id: {"music": its track's key, "mood",
        "voice": the keys of the lines read}. Empty while sound is off."""
        return self.sound.heard

    def painting_progress(self, node: int | None = None) -> float | None:
        """How far a scene's picture is painted (0.0-1.0), or None when it is not painting."""
        return self.pictures.progress.get(self.current if node is None else node)

    def path(self) -> list[int]:
        """Scene ids from the opening to the current scene: the path the player took."""
        return self.graph.path(self.current)

    @property
    def scene_count(self) -> int:
        """How many scenes the story holds, told or not (it grows as the story does)."""
        return len(self.graph)

    def knows(self, node: int) -> bool:
        """Whether a scene id belongs to this story (told or not)."""
        return node in self.graph

    def typed_actions(self) -> list[Scene]:
        """The typed actions taken from the current scene (its shown version) that were told:
        they stay reachable, as choices of the player's own making."""
        scene = self.scene()
        return [child for child in self.graph.children(scene.id)
                if child.free_text and child.parent_version == scene.active
                and child.status == READY]

    def map_view(self):
        """What a story map draws, as plain data (engine.story.graph.MapView): the scenes the
        player has been to and the choices hanging from them, laid out as a tree."""
        return self.graph.map_view(self.current)

    # -- pictures (engine.session.pictures) -------------------------------------------------
    def image(self, node: int | None = None):
        """The scene's picture if it is in memory (a PIL image), else None. Reading changes
        nothing: the current scene's picture is requested on arrival; ask for another one with
        request_image() and an IMAGE event says when it is ready."""
        return self.pictures.image(self.current if node is None else node)

    def request_image(self, node: int | None = None) -> None:
        """Make sure a scene's picture is (being) painted or loaded (default: the current)."""
        self.pictures.request_image(self.current if node is None else node)

    def image_prompt(self, node: int | None = None) -> str:
        """The full prompt a scene's picture is painted from (the world's image.j2)."""
        return self.pictures.image_prompt(self.current if node is None else node)

    def image_key(self, node: int | None = None) -> str:
        """The content-addressed cache key of a scene's picture."""
        return self.pictures.image_key(self.current if node is None else node)

    def shipped_picture(self, node: int | None = None) -> str | None:
        """The world's own picture file a scene shows instead of a painted one, or None."""
        return self.pictures.shipped_picture(self.current if node is None else node)

    def picture_for_thumbnail(self):
        """The current scene's picture for a slot's thumbnail: in memory or in the image
        cache, else None (a save does not wait for a painting)."""
        if self.painter.id == "none":
            return None
        image = self.image()
        version = self.scene().current
        if image is None and version is not None and version.image_key:
            image = self.cache.get(version.image_key)
        return image

    # -- saving (engine.session.saving) -----------------------------------------------------
    def autosave(self) -> bool:
        """Save this turn into the story's slot on the saver thread (see Saving.autosave).
        False while autosaving fails; the failure comes as an ERROR event."""
        return self.saving.autosave()

    def save(self, name: str, quiet: bool = False) -> str:
        """A full save into a named slot, with a thumbnail. Raises SaveError on failure (the
        slot is then as it was). Returns the slot's name."""
        return self.saving.save(name, quiet)

    def flush_saves(self) -> bool:
        """Wait until every autosave is on disk. False (and an ERROR event) if saving fails."""
        return self.saving.flush()

    @property
    def save_problem(self) -> str | None:
        """Why autosaving fails now, or None while it works."""
        return self.saving.problem

    def meta(self, name: str):
        """What the slot list shows for this story saved as `name` (SlotMeta)."""
        return self.saving.meta(name)

    def check_invariants(self) -> list[str]:
        """What is wrong between the scene states and the jobs telling them (empty: all is
        well). Reads every scene: for tests, not for the frame loop."""
        return self.narration.check_invariants()

    # -- acting -----------------------------------------------------------------------------
    def choose(self, index: int, seconds: float | None = None) -> Scene:
        """Take the index-th visible choice (0-based): step 1 of the turn (see the class).

        `seconds`: how long the player took to choose, from when the choices showed (a front
        end that knows says so); the player model reads it as pace."""
        choices = self.choices()
        if self.waiting:
            raise DreamreelError("The story is still being told; wait for this scene first.")
        if not choices:
            raise DreamreelError("There are no choices here. Go back (:back) or load a save.")
        if not 0 <= index < len(choices):
            raise DreamreelError(f"There is no choice {index + 1}; pick 1-{len(choices)}.")
        self._note_pace(choices[index], seconds)
        self._enter(choices[index].id)
        return self.scene()

    def act(self, text: str, seconds: float | None = None) -> Scene:
        """Do something the player typed: a new branch from the current scene. `seconds`:
        how long the player took, as for choose()."""
        text = " ".join(text.split())[:MAX_ACTION_CHARS]
        if not text:
            raise DreamreelError("Type what you want to do.")
        if self.waiting:
            raise DreamreelError("The story is still being told; wait for this scene first.")
        if self.ended:
            raise DreamreelError("This story has ended. Go back (:back) to choose differently.")
        parent = self.scene()
        count = len(self.graph.children(parent.id))
        child = self.graph.add_child(parent.id, label=text, intent=infer_intent(text),
                                     seed=derive_seed(parent.seed, "act", count, text),
                                     free_text=True)
        self._note_pace(child, seconds)
        self.saving.mark(child.id)
        self._enter(child.id)
        return child

    def back(self) -> bool:
        """Roll back one scene along the path. False at the beginning."""
        scene = self.scene()
        if scene.parent is None:
            return False
        self.play.current = scene.parent
        self._drop_stale_work()
        self._arrived(self.current)
        return True

    def jump(self, node: int) -> None:
        """Go to any scene already told (from the story map)."""
        if node not in self.graph or self.graph.scene(node).status != READY:
            raise DreamreelError("That scene has not been told yet; choose it to explore it.")
        if node != self.current:
            self.play.current = node
            self._drop_stale_work()
            self._arrived(node)

    def regenerate(self) -> None:
        """Tell the current scene again; the old telling stays as an alternative version.

        The opening too: with a language model narrator its retelling is the model's own (the
        world's authored opening stays as version 1); the storylet narrator tells it again.
        A scene already being told goes on being told (no second telling is started)."""
        scene = self.scene()
        if scene.status == GENERATING and self.narration.telling_alive(scene.id):
            return
        self.narration.narrate(scene.id)

    def switch_narrator(self, spec: str) -> None:
        """Tell the story from now on with another narrator (e.g. 'storylets' after a model
        failed to load). Raises NarratorError for a bad spec; the story so far is kept."""
        narrator = self.config.make_narrator(spec)
        self.narration.cancel_all()
        self.narrator = narrator
        self._notice(EventKind.NOTICE, f"The {narrator.id} narrator tells the story from here.")
        scene = self.scene()
        if scene.status in (STUB, FAILED) or (scene.status == GENERATING
                                               and not self.narration.telling_alive(scene.id)):
            self.narration.narrate(scene.id)

    def select_version(self, index: int) -> None:
        """Show another telling of the current scene (and the choices it offered)."""
        self.graph.select_version(self.current, index)
        self.graph.forget_states()
        self.saving.mark(self.current)
        self._arrived(self.current)

    # -- polling ----------------------------------------------------------------------------
    def poll(self) -> list[SessionEvent]:
        """Apply finished work and return every event since the last poll, in order: the one
        channel from the story to its front ends (engine.events). Never blocks; call it every
        frame. Notices made by the player's actions (a save, a failed autosave) come here too.
        Step 2 of the turn (apply) happens here."""
        if self._closed:
            return self.outbox.take()
        self.reload.check()
        self.saving.outcomes()
        for event in self.runner.poll():
            job = event.job
            if job.kind == "narrate":
                self.outbox.post(self.narration.on_job_event(job, event.kind, event.payload))
            elif job.kind in ("paint", "load"):
                self.outbox.post(self.pictures.on_job_event(job, event.kind, event.payload))
            elif job.kind == "reload":
                self.reload.on_job_event(job, event.kind, event.payload)
        self.sound.follow()
        self.outbox.post(self.sound.poll())
        return self.outbox.take()

    def check_world(self, now: bool = False) -> None:
        """Hot reload (engine.session.reload): notice edits to the world's files and load them
        on the runner; poll() does it every frame, `now` scans at once."""
        self.reload.check(now)

    def wait(self, timeout: float = 600.0, images: bool = False) -> list[SessionEvent]:
        """Block until the current scene is told, and painted if `images` (terminal, scripts).
        Returns the events of the polls it made (see poll()).

        It sleeps on the runner (woken when a job finishes) and never spins. A current scene
        that nothing is telling (it cannot happen; if it did, it would wait for ever) is given
        a telling at once."""
        deadline = time.monotonic() + timeout
        events = self.poll()
        while (self.waiting or (images and self.current in self.pictures.painting)) \
                and time.monotonic() < deadline and not self._closed:
            if self.waiting and not self.narration.telling_alive(self.current):
                self.narration.narrate(self.current)
            self.runner.wait(max(0.0, min(WAIT_STEP_S, deadline - time.monotonic())))
            events += self.poll()
        return events

    # -- the turn ---------------------------------------------------------------------------
    def _enter(self, node: int) -> None:
        """Step 1, narrate: the player takes a choice or an action into node."""
        self.play.current = node
        self.play.turn += 1
        self._drop_stale_work()
        scene = self.scene(node)
        if scene.status in (STUB, FAILED):
            self.narration.narrate(node)
        elif scene.status == GENERATING:
            if self.narration.telling_alive(node):
                self.runner.reprioritise(self.narration.tellings[node].job, NARRATE_CURRENT)
            else:                          # dropped as stale a moment ago: tell it afresh
                self.narration.narrate(node)
        elif scene.status == READY:        # told ahead (prefetch): on at once
            self._arrived(node)

    def _note_pace(self, scene: Scene, seconds: float | None) -> None:
        """Record how long the player took to take a choice, the first time it is taken."""
        if seconds is None or scene.visited or scene.pace_ms or not seconds > 0:
            return
        scene.pace_ms = max(1, min(MAX_PACE_MS, round(seconds * 1000)))
        self.player_model.forget(scene.id)
        self.saving.mark(scene.id)

    def _arrived(self, node: int) -> None:
        """Steps 3-5: the player is at a told scene (its draft applied, step 2, by poll())."""
        scene = self.scene(node)
        if not scene.visited:
            scene.visited = True
            self.saving.mark(node)
        self.saving.autosave()                        # 3. autosave
        if self.painter.id != "none":
            self.pictures.request_image(node)         # 4. picture
        self.narration.prefetch(node)                 # 5. prefetch

    def _drop_stale_work(self) -> None:
        """Cancel telling and painting that the player's move made pointless."""
        self.narration.drop_stale_work()
        self.pictures.drop_stale_work()

    def _notice(self, kind: EventKind, message: str, node: int | None = None) -> SessionEvent:
        """Tell the front ends something (a NOTICE or an ERROR) at their next poll()."""
        return self.outbox.notice(kind, message, node)

    def close(self) -> None:
        """End everything the story started: its jobs and workers, the saver thread (after the
        autosaves reach the disk), hot reload, the pictures in memory, and its hold on the
        slot. Safe to call twice; a closed story does nothing more."""
        if self._closed:
            return
        self.runner.shutdown()
        self.sound.close()
        self.saving.close()
        self._closed = True
        self.reload.stop()
        self.pictures.forget()
        give_memory_back()


__all__ = ["Session", "SessionEvent", "InlineRunner", "ThreadedRunner", "AUTOSAVE_SLOT"]
