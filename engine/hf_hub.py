"""The Hugging Face Hub as Dreamreel uses it: whether the network is off, and how to download.

Play never downloads: the narrator and painter backends load models with local_files_only, and
a model missing from the local cache is an error that tells the player the one command that
downloads it (pull_command). Only `dreamreel models pull` (engine.models) touches the network,
and not even that while HF_HUB_OFFLINE is set. This module reads the environment at call time
and imports nothing from the ML stack.
"""

from __future__ import annotations

import os

_TRUE = ("1", "true", "yes", "on")   # what huggingface_hub itself reads as "set"


def offline() -> bool:
    """True when HF_HUB_OFFLINE asks for no network access (read now, not at import)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def pull_command(model: str) -> str:
    """The exact command that downloads model into the local cache, for error messages."""
    return f"dreamreel models pull {model}"


__all__ = ["offline", "pull_command"]
