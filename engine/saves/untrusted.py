"""Reading files that may come from other people (saves shared online, a damaged disk).

Two rules: a file's size is checked before it is read, and read no further than that size (a
damaged or hostile file of a gigabyte costs nothing); JSON is parsed by orjson, which refuses
nesting deeper than 1024 levels with an error instead of overflowing the stack. Failures are
SaveErrors naming the file. This module reads; it never writes or interprets what it read.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from engine.errors import SaveError


def loads(data: bytes, where: str) -> object:
    """JSON from an untrusted file: orjson refuses nesting deeper than 1024 levels with an error
    (Python's json would overflow the stack on a file nested 200,000 deep)."""
    try:
        return orjson.loads(data)
    except ValueError as err:
        raise SaveError(f"{where} is damaged ({err}); it may have been cut off or edited.") from None


def read_capped(path: Path, limit: int, what: str) -> bytes:
    """A file's bytes, its size checked first: a damaged or hostile file is never read whole."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limit:
                raise SaveError(f"{path} is {size:,} bytes, over the {limit:,} byte limit for "
                                f"{what}; it is not a Dreamreel save.")
            data = handle.read(size + 1)   # read(n) allocates n bytes up front: not the limit
    except OSError as err:
        raise SaveError(f"{path} cannot be read ({err.strerror or err}).") from None
    if len(data) > limit:
        raise SaveError(f"{path} grew past the {limit:,} byte limit for {what} while read.")
    return data


__all__ = ["loads", "read_capped"]
