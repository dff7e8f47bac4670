"""Seed derivation: every random choice in Dreamreel comes from a seed stored in the story.

A child's seed is a hash of its parent's seed and what led to it, so the same save and the same
inputs replay exactly, on any machine and in any Python (no use of hash() or global random).
A story's own seed is a whole number from 0 to SEED_MAX (it is saved as a JSON number, which
every reader holds in 64 bits); anything else is refused at the edge (flags, config) or, where
code passes one in, hashed into that range.
"""

from __future__ import annotations

import hashlib
import random

SEED_LIMIT = 2**31 - 1  # seeds fit in a signed 32-bit int, which every backend accepts
SEED_MAX = 2**63 - 1    # the largest story seed: a signed 64-bit integer, as saves store it


def derive_seed(*parts: object) -> int:
    """Mix any printable parts into a stable seed in [0, SEED_LIMIT)."""
    text = "\x1f".join(str(p) for p in parts).encode("utf-8")
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big") % SEED_LIMIT


def story_seed(seed: int) -> int:
    """A story seed that a save can hold: seeds in 0..SEED_MAX are kept as they are; any other
    integer (a negative one, or one past 64 bits) is hashed into 1..SEED_MAX, the same way
    every time, so it still names one story."""
    if 0 <= seed <= SEED_MAX:
        return seed
    raw = int(seed).to_bytes(seed.bit_length() // 8 + 1, "big", signed=True)
    digest = hashlib.sha256(b"story-seed\x1f" + raw).digest()
    return int.from_bytes(digest[:8], "big") % SEED_MAX + 1


def rng_for(*parts: object) -> random.Random:
    """A private random generator for one decision, seeded from its parts."""
    return random.Random(derive_seed(*parts))


def fresh_seed() -> int:
    """A new root seed for a new game when the player did not ask for one."""
    return random.SystemRandom().randrange(1, SEED_LIMIT)
