"""Playing scripted turns for `dreamreel eval`: one Session per prompt variant, timed, measured.

Drives the real front door (engine.session.core.Session) as a player would, with prefetch off (so a
scene's timings are its own), no painter and saves in a temporary folder. Each scene is measured
with engine.evaluation.metrics; totals and printing live in engine.evaluation.report. To compare
prompt folders, the world is copied to a temporary folder with the folder's templates in its
prompts/, so the ordinary override lookup applies them. Never imports pygame.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from engine.config import Config
from engine.errors import DreamreelError
from engine.evaluation.metrics import (WORD_RANGE, longest_shared_run, repeated_ngram_share,
                                       shape_problems, words)
from engine.story.graph import FAILED, STUB
from engine.session.jobs import ThreadedRunner
from engine.session.core import Session
from engine.worlds.loading import default_reactions, load_world, prompt_names
from engine.worlds.world import World

DEFAULT_SCRIPT = ("1", "2", "I ask what happened here", "1", "I search the ground for tracks",
                  "3", "2", "I stop and listen carefully", "1", "I ask who I can trust",
                  "2", "I look for another way forward")
DEFAULT_TURNS = 10
FALLBACK_ACTION = "I look for another way forward"   # typed when no untold choice is left
SCENE_TIMEOUT_S = 900.0     # one scene may take this long before the eval gives up
MAX_FAILURES_IN_A_ROW = 3   # scenes that fail one after another before the run stops
MAX_SCRIPT_BYTES = 200_000
DEFAULT_PROMPTS = "default"  # --prompts default: the world's own prompts (a baseline column)


class EvalError(DreamreelError):
    """The eval cannot run as asked (a script or prompt folder is unusable, nothing was told)."""


@dataclass(frozen=True)
class EvalSettings:
    """What `dreamreel eval` plays."""

    narrator: str                              # narrator spec, options in its query
    world: str                                 # world id or folder
    turns: int = DEFAULT_TURNS                 # actions taken after the opening scene
    script: tuple[str, ...] = DEFAULT_SCRIPT   # cycled until `turns` actions are taken
    seed: int = 1                              # story seed: same seed + script = same story
    prompts: tuple[str, ...] = ()              # prompt folders to compare; () : the world's own
    word_range: tuple[int, int] = WORD_RANGE   # narration words of a well-formed scene
    scene_timeout: float = SCENE_TIMEOUT_S


@dataclass
class SceneRecord:
    """One scene as played, with its figures (seconds, words, shares 0-1)."""

    turn: int
    action: str                  # the script line ("" for the opening)
    taken: str                   # what was done: the choice label or the typed text
    kind: str                    # opening | choice | text
    title: str = ""
    narration: str = ""
    choices: list[str] = field(default_factory=list)
    ending: bool = False
    source: str = ""             # storylet id of an authored scene
    authored: bool = False       # the text is the world's own, not the narrator's
    author: str = ""             # backend:model that told it
    failed: str = ""             # why the scene could not be told
    words: int = 0
    repeated_4gram_share: float = 0.0
    copied_from_scene: int = 0           # longest run shared with an earlier scene's narration
    copied_from_scene_text: str = ""
    copied_from_prompt: int | None = None  # ... with the prompt it was told from (None: n/a)
    copied_from_prompt_text: str = ""
    prompt_tokens: int | None = None
    attempts: int = 1                    # drafts the narrator wrote before one was usable
    first_word_s: float = 0.0
    scene_s: float = 0.0
    tokens: int | None = None
    tokens_per_s: float | None = None
    tokens_estimated: bool = False       # no narrator timings: estimated from the text
    well_formed: bool = False
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class RunResult:
    """One playthrough: its scenes, notes on what happened, and (filled in by report) totals."""

    label: str                   # the prompt folder's name, or "default"
    prompts: str                 # the folder as given ("" : the world's own prompts)
    world_id: str
    world_title: str
    narrator: str                # backend:model
    scenes: list[SceneRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load_s: float = 0.0          # loading the narrator's model (before the first scene)


def read_script(path: str | Path) -> tuple[str, ...]:
    """Actions from a script file: one a line, `#` comments and blank lines skipped."""
    path = Path(path).expanduser()
    try:
        data = path.read_bytes()[:MAX_SCRIPT_BYTES + 1]
    except OSError as err:
        raise EvalError(f"Script {path}: cannot be read ({err.strerror or err}).") from None
    if len(data) > MAX_SCRIPT_BYTES:
        raise EvalError(f"Script {path}: over {MAX_SCRIPT_BYTES} bytes; one action a line.")
    lines = [" ".join(line.split()) for line in data.decode("utf-8", "replace").splitlines()]
    actions = tuple(line for line in lines if line and not line.startswith("#"))
    if not actions:
        raise EvalError(f"Script {path}: no actions. Write one a line: a choice number or "
                        f"what the player does.")
    return actions


def parse_word_range(text: str) -> tuple[int, int]:
    """`60-200` as (60, 200): the narration words of a well-formed scene."""
    low, dash, high = text.partition("-")
    if not (dash and low.strip().isdigit() and high.strip().isdigit()
            and int(low) <= int(high)):
        raise EvalError(f"--words {text}: give a range of narration words such as 60-200.")
    return int(low), int(high)


class Stopwatch:
    """Wraps a narrator to note when each scene's first narration word streamed out."""

    def __init__(self, narrator):
        self.inner = narrator
        self.id, self.model = narrator.id, narrator.model
        self.first_word: dict[int, float] = {}

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def narrate(self, request, on_token=None):
        node = request.node

        def relay(text: str) -> None:
            if node not in self.first_word and text and any(ch.isalnum() for ch in text):
                self.first_word[node] = time.perf_counter()
            if on_token is not None:
                on_token(text)

        return self.inner.narrate(request, on_token=relay)


def evaluate(config: Config, settings: EvalSettings, narrator=None) -> list[RunResult]:
    """Play the script once per prompt variant (once with the world's own prompts if none),
    with the same narrator, seed and script. Raises EvalError / NarratorError / WorldError."""
    if settings.turns < 0:
        raise EvalError("--turns must be 0 or more.")
    if not settings.script:
        raise EvalError("The script has no actions.")
    world = load_world(settings.world, config.worlds_dir)
    folders = settings.prompts or ("",)
    for folder in folders:
        _check_prompt_folder(folder)
    narrator = narrator or config.make_narrator(settings.narrator)
    start = time.perf_counter()
    if callable(getattr(narrator, "load", None)):
        narrator.load()            # a missing model fails here, before any scene
    load_s = time.perf_counter() - start
    labels = _labels(folders)
    results = []
    with tempfile.TemporaryDirectory(prefix="dreamreel-eval-") as tmp:
        for index, folder in enumerate(folders):
            variant, notes = _with_prompts(world, folder, Path(tmp) / f"world{index}")
            result = RunResult(label=labels[index], prompts=folder, world_id=world.id,
                               world_title=world.title, narrator=f"{narrator.id}:{narrator.model}",
                               notes=notes, load_s=round(load_s, 3))
            _play(config, settings, narrator, variant, result, Path(tmp) / f"saves{index}")
            results.append(result)
    return results


def _check_prompt_folder(folder: str) -> None:
    if not folder or (folder == DEFAULT_PROMPTS and not Path(folder).is_dir()):
        return
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise EvalError(f"--prompts {folder}: no such folder.")
    if not any((path / name).is_file() for name in prompt_names()):
        raise EvalError(f"--prompts {folder}: holds none of {', '.join(prompt_names())}. "
                        f"Put the templates to try there (or use --prompts default).")


def _labels(folders: tuple[str, ...]) -> list[str]:
    names = [Path(f).name if f else DEFAULT_PROMPTS for f in folders]
    return [name if names.count(name) == 1 else folder or DEFAULT_PROMPTS
            for name, folder in zip(names, folders)]


def _with_prompts(world: World, folder: str, into: Path) -> tuple[World, list[str]]:
    """The world with a prompt folder's templates in its prompts/ (a copy in `into`)."""
    notes = [f"world problem: {problem}" for problem in world.problems]
    if not folder or (folder == DEFAULT_PROMPTS and not Path(folder).is_dir()):
        return world, notes
    source = Path(folder).expanduser()
    copy = into / world.id
    shutil.copytree(world.root, copy, symlinks=True)
    (copy / "prompts").mkdir(exist_ok=True)
    used = []
    for entry in sorted(source.iterdir()):
        if entry.name in prompt_names() and entry.is_file():
            shutil.copyfile(entry, copy / "prompts" / entry.name)
            used.append(entry.name)
        elif entry.suffix == ".j2":
            notes.append(f"{folder}/{entry.name} is not a prompt template name; ignored "
                         f"(known: {', '.join(prompt_names())})")
    notes.insert(0, f"prompts from {folder}: {', '.join(used)}")
    variant = load_world(copy)
    notes += [f"world problem: {problem}" for problem in variant.problems
              if str(problem) not in {str(p) for p in world.problems}]
    return variant, notes


def _play(config: Config, settings: EvalSettings, narrator, world: World, result: RunResult,
          saves: Path) -> None:
    config = config.with_changes(game={"painter": "none", "saves_dir": str(saves),
                                       "seed": settings.seed}, prefetch={"enabled": False})
    watch = Stopwatch(narrator)
    started = time.perf_counter()
    session = Session.new(config, world=world, narrator=watch, runner=ThreadedRunner(),
                          seed=settings.seed)
    try:
        opening = _told(session, watch, world, settings, result, started,
                        SceneRecord(turn=0, action="", taken="(opening)", kind="opening"))
        if opening.failed:
            raise EvalError(f"The opening scene could not be told: {opening.failed}")
        failures = 0
        for turn in range(1, settings.turns + 1):
            if session.ended or session.scene().current is None:
                why = "the story ended" if session.ended else "the scene failed"
                if not session.back():
                    result.notes.append(f"turn {turn}: {why} at the opening; stopped")
                    break
                result.notes.append(f"turn {turn}: {why}; went back one scene")
            line = settings.script[(turn - 1) % len(settings.script)]
            record = SceneRecord(turn=turn, action=line, taken="", kind="")
            started = _act(session, line, record)
            record = _told(session, watch, world, settings, result, started, record)
            failures = failures + 1 if record.failed else 0
            if failures >= MAX_FAILURES_IN_A_ROW:
                result.notes.append(f"turn {turn}: {failures} scenes failed in a row; stopped")
                break
    finally:
        session.close()


def _act(session: Session, line: str, record: SceneRecord) -> float:
    """Take one script line; returns the moment it was taken. A number picks that choice (the
    last one if too large); a choice already told (after going back from an ending) gives way
    to the first untold one, or to a typed action when none is left."""
    choices = session.choices()
    if line.isdigit() and choices:
        index = min(max(int(line), 1), len(choices)) - 1
        if choices[index].status not in (STUB, FAILED):
            untold = [i for i, c in enumerate(choices) if c.status == STUB]
            index = untold[0] if untold else -1
        if index >= 0:
            record.kind, record.taken = "choice", choices[index].label
            started = time.perf_counter()
            session.choose(index)
            return started
    text = line if not line.isdigit() else FALLBACK_ACTION
    record.kind, record.taken = "text", text
    started = time.perf_counter()
    session.act(text)
    return started


def _told(session: Session, watch: Stopwatch, world: World, settings: EvalSettings,
          result: RunResult, started: float, record: SceneRecord) -> SceneRecord:
    """Wait for the current scene, then measure it and add it to the result."""
    node = session.current
    deadline = started + settings.scene_timeout
    while True:
        session.poll()
        if not session.waiting:
            break
        if time.perf_counter() > deadline:
            raise EvalError(f"Turn {record.turn}: no scene after {settings.scene_timeout:.0f} s.")
        session.runner.wait(0.01)
    record.scene_s = round(time.perf_counter() - started, 4)
    first = watch.first_word.pop(node, None)
    record.first_word_s = round(first - started, 4) if first else record.scene_s
    scene = session.scene(node)
    version = scene.current
    extras = session.prompt_for(node) or {}
    if version is None:
        record.failed = scene.error or "the narrator gave no scene"
        record.problems = [f"failed: {record.failed}"]
        result.scenes.append(record)
        return record
    told = words(version.narration)
    record.title, record.narration, record.ending = version.title, version.narration, version.ending
    record.choices = [choice.label for choice in session.graph.choices(node)]
    record.source, record.author = version.source, version.author
    record.authored = _authored(world, version.source, told)
    record.words = len(told)
    record.repeated_4gram_share = round(repeated_ngram_share(told, 4), 4)
    earlier = [words(s.narration) for s in result.scenes if not s.failed]
    run = longest_shared_run(told, earlier)
    record.copied_from_scene, record.copied_from_scene_text = run.length, run.text
    if "prompt" in extras and not record.authored:
        run = longest_shared_run(told, [words(extras["prompt"])])
        record.copied_from_prompt, record.copied_from_prompt_text = run.length, run.text
    if isinstance(extras.get("prompt_tokens"), int):
        record.prompt_tokens = extras["prompt_tokens"]
    if isinstance(extras.get("attempts"), list) and extras["attempts"]:
        record.attempts = len(extras["attempts"])
    _speed(record, extras, first is not None)
    record.problems = shape_problems(version.title, record.words, record.choices,
                                     version.ending, settings.word_range)
    record.well_formed = not record.problems
    result.scenes.append(record)
    return record


def _authored(world: World, source: str, told: list[str]) -> bool:
    """True when the text is really a storylet's own (most of its 4-grams are in the storylet's
    text), not a model's scene that merely names a storylet; or a reaction of the world (its
    source `reaction:<id>:...`, the player's words in its text)."""
    if source.startswith("reaction:"):
        reaction = source.split(":")[1]
        return any(r.id == reaction for r in (*world.reactions, *default_reactions()))
    storylet = world.storylets.get(source) if source else None
    if storylet is None or not told:
        return False
    own = words(storylet.spec.text)
    if len(told) < 4:
        return set(told) <= set(own)
    grams = {tuple(own[i:i + 4]) for i in range(len(own) - 3)}
    found = sum(tuple(told[i:i + 4]) in grams for i in range(len(told) - 3))
    return found >= 0.5 * (len(told) - 3)


def _speed(record: SceneRecord, extras: dict, streamed: bool) -> None:
    """Tokens and tokens per second: the narrator's own timings, else estimated from the text
    (about 4 characters of output, or 0.75 words of narration, per token)."""
    timings = extras.get("timings") or {}
    if isinstance(timings.get("new_tokens"), int):
        record.tokens = timings["new_tokens"]
        rate = timings.get("decode_tokens_per_s")
        record.tokens_per_s = round(float(rate), 2) if rate else None
        return
    if record.authored:
        return
    raw = extras.get("raw_output")
    tokens = len(raw) / 4 if isinstance(raw, str) and raw else record.words / 0.75
    seconds = record.scene_s - record.first_word_s if streamed else record.scene_s
    seconds = seconds if seconds > 0.05 * record.scene_s else record.scene_s
    record.tokens = round(tokens)
    record.tokens_per_s = round(tokens / seconds, 2) if seconds > 0 else None
    record.tokens_estimated = True


__all__ = ["EvalSettings", "EvalError", "SceneRecord", "RunResult", "evaluate", "read_script",
           "parse_word_range", "DEFAULT_SCRIPT", "DEFAULT_TURNS", "Stopwatch"]
