"""What music plays for a scene, and getting it: the world's own track, a cached clip or a new one.

`track_key` says cheaply which track a scene gets (what the session records and compares to
decide whether to crossfade); `music_for` does the slow part (compose and cache) and must run on
the job runner, never on the frame loop. A world's `music/<mood>.ogg` (or .wav) wins over any
composer; a track that is broken or hostile is skipped (and the problem handed back for the
player's notices) and the composer plays instead. The music prompt for model composers comes
from the sandboxed template music.j2, which a world may override in its prompts/ folder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.audio.clips import ClipCache
from engine.audio.music import DEFAULT_SECONDS, Composer, MusicRequest
from engine.audio.music.files import MUSIC_DIR, world_track
from engine.audio.music.moods import DEFAULT_MOOD, DEFAULTS, for_world
from engine.errors import TemplateError
from engine.paths import ASSETS
from engine.story.persona import default_persona
from engine.worlds.templates import Templates
from engine.worlds.world import World

TEMPLATE = "music.j2"
MAX_TEMPLATE_BYTES = 64_000   # as the other prompt templates
MAX_PROMPT_CHARS = 500        # what the music model is given, at most
_templates = Templates()


@dataclass(frozen=True)
class MusicTrack:
    """The music a scene plays: a file to loop, and what it is.

    key is what a session records: "world:<world id>/music/<file>" for a world's own track, the
    clip cache key (64 hex digits) for a composed one. problem says why the world's track was
    passed over or its music.j2 refused ("" when nothing went wrong), for the player's notices.
    """

    key: str
    path: Path
    source: str            # "world", "cache" or "composed"
    mood: str
    problem: str = ""


def _mood(mood: str) -> str:
    return mood if mood in DEFAULTS else DEFAULT_MOOD


def music_prompt(world: World | None, mood: str, place: str = "",
                 player: dict | None = None) -> tuple[str, str]:
    """The music model's prompt for a mood and place, from the world's music.j2 or the default.

    `player` is the template name of the player's profile (engine.story.persona.Persona
    .template_context(): name, pronouns, look, role); default: the world's suggestions.

    Returns:
        (prompt, problem): problem names the world's template and what is wrong with it when it
        was refused (the default template is used instead), else "".
    """
    spec = world.spec if world is not None else None
    context = {"world": {"title": spec.title if spec else "", "tone": spec.tone if spec else "",
                         "music_style": spec.audio.music_style if spec else ""},
               "mood": _mood(mood), "place": " ".join(str(place).replace("_", " ").split()),
               "player": player or _suggested_player(world)}
    problem = ""
    override = world.prompt_override(TEMPLATE) if world is not None else None
    if override is not None:
        where = f"{world.id}/prompts/{TEMPLATE}"
        try:
            data = override.read_bytes()
            if len(data) > MAX_TEMPLATE_BYTES:
                raise TemplateError(f"{where}: over the {MAX_TEMPLATE_BYTES} byte limit")
            return _tidy(_templates.render(data.decode("utf-8"), context, where)), ""
        except (OSError, UnicodeDecodeError, TemplateError) as err:
            problem = f"{where} refused, the default music prompt is used: {err}"
    source = (ASSETS / "prompts" / TEMPLATE).read_text(encoding="utf-8")
    return _tidy(_templates.render(source, context, f"assets/prompts/{TEMPLATE}")), problem


def _suggested_player(world: World | None) -> dict:
    if world is None:
        return {"name": "", "pronouns": "", "look": "", "role": ""}
    return default_persona(world).template_context()


def _tidy(text: str) -> str:
    return " ".join(text.split())[:MAX_PROMPT_CHARS]


def music_request(world: World | None, mood: str, place: str = "", seed: int = 0,
                  seconds: float = DEFAULT_SECONDS, *, prompt: bool = True,
                  player: dict | None = None) -> tuple[MusicRequest, str]:
    """The request a composer gets for a scene: the mood's scoring in this world (with its
    [audio.moods.<mood>] settings) and, when `prompt`, the rendered music.j2.

    Returns:
        (request, problem): problem is music_prompt's, else "".
    """
    mood = _mood(mood)
    world_id = world.id if world is not None else ""
    override = world.spec.audio.moods.get(mood) if world is not None else None
    text, problem = music_prompt(world, mood, place, player) if prompt else ("", "")
    return MusicRequest(world_id=world_id, mood=mood, place=place,
                        style=world.spec.audio.music_style if world is not None else "",
                        seed=int(seed), seconds=float(seconds),
                        settings=for_world(mood, world_id, override), prompt=text), problem


def _needs_prompt(composer: Composer | None) -> bool:
    return composer is not None and getattr(composer, "id", "") != "procedural"


def _world_track(world: World | None, mood: str) -> tuple[MusicTrack | None, str]:
    if world is None:
        return None, ""
    path, problem = world_track(world.root, mood)
    if path is None:
        return None, (f"{world.id}/{problem}; composed music plays instead" if problem else "")
    return MusicTrack(f"world:{world.id}/{MUSIC_DIR}/{path.name}", path, "world", mood), ""


def track_key(world: World | None, mood: str, place: str = "", composer: Composer | None = None,
              seed: int = 0, seconds: float = DEFAULT_SECONDS,
              player: dict | None = None) -> str | None:
    """Which track a scene plays, without composing it: the key music_for's track will have.

    Cheap (a world track's headers are read once per file version; a template render for
    model composers), so the session can call it on the frame thread. None: no music (no world
    track and no composer).
    """
    mood = _mood(mood)
    own, _ = _world_track(world, mood)
    if own is not None:
        return own.key
    if composer is None:
        return None
    request, _ = music_request(world, mood, place, seed, seconds, prompt=_needs_prompt(composer),
                               player=player)
    return composer.cache_key(request)


def music_for(world: World | None, mood: str, place: str = "", *,
              composer: Composer | None, cache: ClipCache, seed: int = 0,
              seconds: float = DEFAULT_SECONDS,
              on_progress: Callable[[float], None] | None = None,
              player: dict | None = None) -> MusicTrack | None:
    """The music for a scene, as a file to loop: the world's own track for the mood, else the
    composer's clip from the cache, else a new clip composed now and cached.

    Slow when it composes (a fraction of a second procedurally, much longer with a model): call
    it from a background job. on_progress is the composer's; raising from it cancels.
    `player` is music.j2's player (the profile's template context; default: the world's
    suggestions).

    Returns:
        The track, or None when there is no world track and no composer ("none").

    Raises:
        AudioError: the composer failed or the cache could not be written.
    """
    mood = _mood(mood)
    own, problem = _world_track(world, mood)
    if own is not None:
        return own
    if composer is None:
        return None
    request, prompt_problem = music_request(world, mood, place, seed, seconds,
                                            prompt=_needs_prompt(composer), player=player)
    problem = "; ".join(p for p in (problem, prompt_problem) if p)
    key = composer.cache_key(request)
    path = cache.get_path(key)
    if path is not None:
        return MusicTrack(key, path, "cache", mood, problem)
    clip = composer.compose(request, on_progress)
    return MusicTrack(key, cache.put(key, clip), "composed", mood, problem)


__all__ = ["MusicTrack", "music_for", "music_prompt", "music_request", "track_key"]
