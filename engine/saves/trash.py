"""Deleted save slots, kept for the session so that a delete can be undone.

A deleted slot's folder is moved (one rename) into `<saves>/.trash/<pid>-<n>/`, where the slot
list never looks; Undo moves it back. What this process put in the trash is removed when it
ends, and what a game that was killed left there is removed by the next delete. This module
moves folders; it knows nothing of the slots' files or of locks (engine.saves.store checks those).
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from engine.errors import SaveError

TRASH_FOLDER = ".trash"       # under the saves root

_TRASHED: list[Path] = []     # this process's trash folders, removed when it ends
_LOCK = threading.Lock()
_COUNTER = itertools.count(1)


@dataclass(frozen=True)
class Deleted:
    """A slot moved to the trash: what restore_from_trash puts back."""

    name: str        # the slot's name
    trashed: Path    # where its folder is now


def _empty_trash() -> None:
    with _LOCK:
        for folder in _TRASHED:
            shutil.rmtree(folder, ignore_errors=True)
        _TRASHED.clear()


atexit.register(_empty_trash)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True            # it exists (another user's), or we cannot tell: keep its trash
    return True


def sweep(trash_root: Path) -> None:
    """Remove what games that are gone left in the trash (no one can undo it any more)."""
    if not trash_root.is_dir():
        return
    for entry in trash_root.iterdir():
        pid = entry.name.split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def move_to_trash(trash_root: Path, folder: Path) -> Deleted:
    """Move a slot's folder into this process's trash. Raises SaveError when it cannot."""
    sweep(trash_root)
    trash = trash_root / f"{os.getpid()}-{next(_COUNTER)}"
    try:
        trash.mkdir(parents=True, exist_ok=True)
        with _LOCK:
            _TRASHED.append(trash)
        os.replace(folder, trash / folder.name)
    except OSError as err:
        raise SaveError(f"Could not delete slot '{folder.name}': {err.strerror or err}.") from None
    return Deleted(name=folder.name, trashed=trash / folder.name)


def restore_from_trash(deleted: Deleted, folder: Path) -> str:
    """Put a deleted slot back at `folder`. Refused when that name was taken again meanwhile."""
    if folder.exists():
        raise SaveError(f"Cannot undo: a slot named '{deleted.name}' exists again.")
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        os.replace(deleted.trashed, folder)
    except OSError as err:
        raise SaveError(f"Could not restore slot '{deleted.name}': {err.strerror or err}.") from None
    shutil.rmtree(deleted.trashed.parent, ignore_errors=True)
    return deleted.name
