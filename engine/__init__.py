"""Dreamreel's engine: story graph, state, narrators, painters, prompts, saves, jobs, Session.

Pure logic. It never imports pygame or the game package, and importing it loads no ML library:
torch, transformers and diffusers are imported lazily inside the backends that need them.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["Session", "__version__"]


def __getattr__(name: str):
    if name == "Session":
        from engine.session.core import Session
        return Session
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
