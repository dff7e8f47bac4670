"""SessionEvent: what a Session reports to its front ends from poll()."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SessionEvent:
    """What changed, for front ends: 'scene', 'token', 'image', 'progress', 'error', 'notice'."""

    kind: str
    node: int | None = None
    payload: Any = None
