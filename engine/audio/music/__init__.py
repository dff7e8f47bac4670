"""Composers: backends that turn a mood, a world and a seed into a music clip, like painters.

`make_composer(spec)` builds one from the `[audio] music` setting: "procedural" (the embedded
score, numpy only), "musicgen:<hub id or folder>" (MusicGen through transformers) or "none"
(no composer: make_composer returns None). `music_for` (engine.audio.music.tracks) picks what
plays for a scene: the world's own track, else the cached clip, else a new one.

Nothing heavy is imported here: numpy comes with the procedural composer when it is made, torch
and transformers with the MusicGen composer, so `import engine.audio.music` stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from engine.errors import AudioError

if TYPE_CHECKING:  # pragma: no cover
    from engine.audio.clips import Clip
    from engine.audio.music.moods import MoodMusic

SPEC_FORMS = '"procedural", "none" or "musicgen:<hub id or local folder>"'
DEFAULT_SECONDS = 32.0   # what a scene's loop lasts (the procedural score rounds to whole bars)
MIN_SECONDS, MAX_SECONDS = 4.0, 120.0


@dataclass(frozen=True)
class MusicRequest:
    """What one clip of music is for. Every composer reads what it needs of it.

    world_id, mood and seed seed the procedural score (so a world sounds like itself);
    settings is the mood's scoring in this world (engine.audio.music.moods.for_world), made
    from the mood when left out. prompt is the rendered music.j2 text for model composers
    (made from style, mood and place when left out).
    """

    world_id: str
    mood: str
    place: str = ""                   # the scene's location, as words
    style: str = ""                   # world.toml [audio] music_style
    seed: int = 0
    seconds: float = DEFAULT_SECONDS
    settings: MoodMusic | None = None
    prompt: str = ""

    def scoring(self) -> MoodMusic:
        """The mood's scoring: the request's own settings, else the world-nudged defaults."""
        from engine.audio.music.moods import for_world  # noqa: PLC0415

        return self.settings if self.settings is not None else for_world(self.mood, self.world_id)

    def text_prompt(self) -> str:
        """The prompt a model composer is given: the rendered template, else a plain one."""
        if self.prompt.strip():
            return self.prompt.strip()
        parts = [self.style.strip(), f"{self.mood} mood",
                 f"for a scene at {self.place.strip()}" if self.place.strip() else "",
                 "instrumental, seamless loop"]
        return ", ".join(p for p in parts if p)


@runtime_checkable
class Composer(Protocol):
    """Anything that composes: an id and a model (both part of every clip key) and compose()."""

    id: str      # backend name: "procedural", "musicgen"
    model: str   # model id or synth version; a new value invalidates cached clips

    def cache_key(self, request: MusicRequest) -> str:
        """The clip cache key of what compose(request) makes: cheap, makes no sound."""
        ...

    def compose(self, request: MusicRequest,
                on_progress: Callable[[float], None] | None = None) -> Clip:
        """A seamless loop for the request: same request -> same clip.

        on_progress(fraction in 0..1) is called a few times; an exception it raises (such as
        engine.errors.JobCancelled) must propagate, which is how a job is cancelled.
        """
        ...


def make_composer(spec: str, **options) -> Composer | None:
    """Build a composer from an `[audio] music` spec.

    Args:
        spec: "procedural", "none" or "musicgen:<hub id or folder>" (e.g.
            "musicgen:facebook/musicgen-small").
        options: for the MusicGen composer only (device, dtype, guidance_scale; see
            engine.audio.music.musicgen.MusicgenComposer).

    Returns:
        The composer, or None for "none" (no music is composed; a world's own tracks still
        play through music_for).

    Raises:
        AudioError: the spec is unknown, or the transformers stack is not installed.
    """
    text = (spec or "").strip()
    kind, _, model = text.partition(":")
    kind, model = kind.strip().lower(), model.strip()
    if kind == "procedural" and not model:
        from engine.audio.music.procedural import ProceduralComposer  # noqa: PLC0415

        return ProceduralComposer()
    if kind == "none" and not model:
        return None
    if kind == "musicgen":
        if not model:
            raise AudioError(f'Music spec "{text}" names no model: use "musicgen:<hub id or '
                             'local folder>", e.g. "musicgen:facebook/musicgen-small".')
        from engine.audio.music.musicgen import MusicgenComposer  # noqa: PLC0415

        return MusicgenComposer(model, **options)
    raise AudioError(f'Unknown music setting "{text}": use {SPEC_FORMS}.')


def __getattr__(name: str):
    """music_for, track_key, MusicTrack, music_request and music_prompt, loaded from
    engine.audio.music.tracks when first used (it imports the worlds and the template sandbox)."""
    if name in ("music_for", "track_key", "MusicTrack", "music_request", "music_prompt"):
        from engine.audio.music import tracks  # noqa: PLC0415

        return getattr(tracks, name)
    raise AttributeError(f"module 'engine.audio.music' has no attribute {name!r}")


__all__ = ["Composer", "DEFAULT_SECONDS", "MusicRequest", "make_composer", "music_for",
           "track_key", "MusicTrack", "music_request", "music_prompt"]
