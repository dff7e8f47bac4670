"""How many CPU threads model backends may use, so a window's frame loop keeps its share.

The pygame front end calls reserve_cores_for_ui() before any model loads; backends call
torch_threads() when they load and pass it to torch.set_num_threads. With a window open on a
CPU-only machine, models leave one core to the frame loop; in the terminal they may use all.
No torch import here.
"""

from __future__ import annotations

import os

_reserved = 0  # cores kept free for the user interface


def reserve_cores_for_ui(cores: int = 1) -> None:
    """Keep `cores` CPU cores out of the model backends' thread pools (the window calls this)."""
    global _reserved
    _reserved = max(0, int(cores))


def torch_threads() -> int:
    """Threads a CPU model backend should use: all cores, minus those reserved for the UI.
    DREAMREEL_TORCH_THREADS overrides it (e.g. 1 on a machine shared with other work)."""
    override = os.environ.get("DREAMREEL_TORCH_THREADS", "")
    if override.isdigit() and int(override) > 0:
        return int(override)
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    return max(1, available - _reserved)
