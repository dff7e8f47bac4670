"""Seed derivation: every random choice in Dreamreel comes from a seed stored in the story.

A child's seed is a hash of its parent's seed and what led to it, so the same save and the same
inputs replay exactly, on any machine and in any Python (no use of hash() or global random).
"""

from __future__ import annotations

import hashlib
import random

SEED_LIMIT = 2**31 - 1  # seeds fit in a signed 32-bit int, which every backend accepts


def derive_seed(*parts: object) -> int:
    """Mix any printable parts into a stable seed in [0, SEED_LIMIT)."""
    text = "\x1f".join(str(p) for p in parts).encode("utf-8")
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big") % SEED_LIMIT


def rng_for(*parts: object) -> random.Random:
    """A private random generator for one decision, seeded from its parts."""
    return random.Random(derive_seed(*parts))


def fresh_seed() -> int:
    """A new root seed for a new game when the player did not ask for one."""
    return random.SystemRandom().randrange(1, SEED_LIMIT)
