"""The Hugging Face Hub as Dreamreel uses it: whether the network is off, and how to download.

Play never downloads: the narrator and painter backends load models with local_files_only, and
a model missing from the local cache is an error that tells the player the one command that
downloads it (pull_advice). Only `dreamreel models pull` (engine.models) touches the network,
and not even that while HF_HUB_OFFLINE is set. This module reads the environment at call time;
huggingface_hub is imported only inside in_local_cache.
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


def pull_advice(model: str, subject: str = "it") -> str:
    """What a player does about a model that is not downloaded, to end an error message:
    "download it with `dreamreel models pull ID`", and while HF_HUB_OFFLINE is set, that the
    download needs it unset (pull refuses otherwise). subject names what is downloaded."""
    advice = f"download {subject} with `{pull_command(model)}`"
    return advice + " once HF_HUB_OFFLINE is unset" if offline() else advice


def in_local_cache(repo_id: str, filename: str = "config.json") -> bool:
    """True when the hub id's filename is in the local Hugging Face cache (no network).

    Asks huggingface_hub itself, so every way of moving the cache (HF_HOME, HF_HUB_CACHE)
    counts; False when huggingface_hub is missing or repo_id is not a hub id.
    """
    try:
        from huggingface_hub import try_to_load_from_cache  # noqa: PLC0415
        return isinstance(try_to_load_from_cache(repo_id, filename), str)
    except Exception:  # not installed, or not a valid repo id (HFValidationError)
        return False


__all__ = ["in_local_cache", "offline", "pull_advice", "pull_command"]
