"""Painters: backends that turn an image prompt into a picture, behind one small protocol.

`make_painter(spec)` builds one from a command-line style spec. Nothing heavy is imported here:
the procedural painter pulls in numpy only when made, the diffusers painter pulls in torch and
diffusers only when made, the openai-images painter its HTTP code only when made, so
`import engine.painters` stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from engine.errors import PainterError

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

NOTICE_KEY = "dreamreel_notice"   # a painted image's info entry: a note for the player
SPEC_FORMS = ('"procedural", "none", "diffusers:<hub id or local path>" or '
              '"openai-images:<model>@<base url>"')


@runtime_checkable
class Painter(Protocol):
    """Anything that paints: an id and model (both part of every image cache key) and paint()."""

    id: str  # backend name, e.g. "procedural"
    model: str  # model id or version; a new value invalidates cached images
    steps: int  # inference steps (1 for painters without steps)
    # A painter that can keep the player's likeness also sets `takes_portrait = True`, accepts
    # paint(..., portrait=PIL image) and names what its portrait pictures depend on in
    # `likeness_key` (str). Only such painters are ever given the portrait (see
    # takes_portrait()); one that talks to a server never declares it.

    def paint(self, prompt: str, seed: int, size: tuple[int, int],
              on_progress: Callable[[float], None] | None = None) -> Image.Image:
        """Paint prompt at size (width, height) as an RGB image; same inputs -> same image.

        on_progress(fraction in 0..1) is called a few times; an exception it raises (such as
        engine.errors.JobCancelled) must propagate, which is how a job is cancelled.
        """
        ...


def takes_portrait(painter) -> bool:
    """Whether painter may be given the player's portrait: it must say so itself."""
    return getattr(painter, "takes_portrait", False) is True


def make_painter(spec: str, **options) -> Painter:
    """Build a painter from a spec such as "procedural", "none", "diffusers:stabilityai/sd-turbo"
    or "openai-images:sd-turbo@http://127.0.0.1:8080/v1".

    options go to the diffusers painter (e.g. steps=0, content_filter="standard"; see
    engine.painters.diffusers.DiffusersPainter), whose spec may name an IP-Adapter after a
    "?" (`diffusers:<model>?ip_adapter=h94/IP-Adapter&ip_adapter_scale=0.6`), and, but for
    content_filter (a server filters its own pictures), to the openai-images painter, whose spec may carry options of its own
    after a "?" (`...?steps=4&timeout=300`; see engine.painters.openai_images); the spec's
    win. The embedded painters have no settings.

    Raises:
        PainterError: the spec is unknown, or the diffusers stack is not installed.
    """
    text = (spec or "").strip()
    kind, _, model = text.partition(":")
    kind = kind.strip().lower()
    if kind == "procedural" and not model:
        from engine.painters.procedural.painter import ProceduralPainter  # noqa: PLC0415

        return ProceduralPainter()
    if kind == "none" and not model:
        from engine.painters.none import NonePainter  # noqa: PLC0415

        return NonePainter()
    if kind == "diffusers":
        model = model.strip()
        if not model:
            raise PainterError(f'Painter spec "{text}" names no model: use "diffusers:<hub id or local path>", '
                               'e.g. "diffusers:stabilityai/sd-turbo".')
        try:
            from engine.painters.diffusers import DiffusersPainter  # noqa: PLC0415
        except ImportError as err:
            raise PainterError(
                f'The diffusers painter is not available ({err}). Install the image extras with '
                '`pip install "dreamreel[ml]"`, or use --painter procedural.') from err
        from engine.narrators import split_spec  # noqa: PLC0415

        model, inline = split_spec(model)
        return DiffusersPainter(model.strip(), **{**options, **inline})
    if kind == "openai-images":
        from engine.narrators import split_spec  # noqa: PLC0415
        from engine.painters.openai_images import OpenAIImagesPainter  # noqa: PLC0415

        rest, inline = split_spec(model.strip())
        options.pop("content_filter", None)
        return OpenAIImagesPainter.from_spec(rest, **{**options, **inline})
    raise PainterError(f'Unknown painter "{text}": use {SPEC_FORMS}.')


def painter_from_config(config) -> Painter:
    """The painter a Config asks for, with the image settings that apply to it."""
    return make_painter(config.game.painter, content_filter=config.images.content_filter,
                        steps=config.images.steps)
