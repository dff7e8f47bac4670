"""A world's own music files (music/<mood>.ogg or .wav): are they safe and fit to play?

Tracks come from strangers, like everything in a world, so a file is checked before it is ever
handed to a player: a regular file inside the world folder, at most MAX_TRACK_BYTES, a format the
game plays (Ogg Vorbis or PCM WAV) with sane headers, and between MIN_SECONDS and MAX_SECONDS
long. The check reads headers only (for Ogg, the page headers down the file: no decoding), so it
is cheap, and its answer is remembered per file version. `worlds validate` reports every problem;
music_for skips a bad track and composes instead. This module reads files and never plays them.
"""

from __future__ import annotations

import struct
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

from engine.story.schema import MOODS
from engine.worlds.world import Problem, confined

MUSIC_DIR = "music"
SUFFIXES = (".ogg", ".wav")         # in order of preference when a mood has both
MAX_TRACK_BYTES = 20 * 1024 * 1024  # one track
MIN_SECONDS, MAX_SECONDS = 5.0, 600.0
MAX_FILES = 40                      # entries of music/ that are looked at
_checked: dict[tuple[str, int, int], "TrackCheck"] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class TrackCheck:
    """What checking one track found: its length, or the problem that keeps it from playing."""

    seconds: float = 0.0
    problem: str = ""      # "" when the track is fit to play

    @property
    def ok(self) -> bool:
        return not self.problem


def _wav_seconds(path: Path, size: int) -> float:
    try:
        with wave.open(str(path), "rb") as handle:
            channels, width = handle.getnchannels(), handle.getsampwidth()
            rate, frames = handle.getframerate(), handle.getnframes()
    except (wave.Error, EOFError) as err:
        raise ValueError(f"is not a PCM WAV file this game can play ({err})") from None
    if channels not in (1, 2) or width not in (1, 2, 3, 4) or not 8000 <= rate <= 96000:
        raise ValueError(f"is a WAV file with {channels} channels, {width * 8}-bit samples at "
                         f"{rate} Hz; use 1 or 2 channels, 8 to 32 bits, 8000 to 96000 Hz")
    if frames * channels * width > size:
        raise ValueError("is cut short: its header promises more sound than the file holds")
    return frames / float(rate)


def _ogg_seconds(path: Path, size: int) -> float:
    """The length of an Ogg Vorbis file from its page headers (the last granule position)."""
    rate, serial, last, offset = 0, None, 0, 0
    with path.open("rb") as handle:
        while offset < size:
            handle.seek(offset)
            head = handle.read(27)
            if len(head) < 27 or head[:4] != b"OggS" or head[4] != 0:
                raise ValueError(f"is not a well-formed Ogg file (bad page at byte {offset})")
            granule, page_serial = struct.unpack_from("<qI", head, 6)
            segments = handle.read(head[26])
            if len(segments) < head[26]:
                raise ValueError("is cut short in the middle of an Ogg page")
            body = sum(segments)
            if serial is None:
                packet = handle.read(min(body, 30))
                if packet[:7] != b"\x01vorbis" or len(packet) < 16:
                    kind = "Opus" if packet[:8] == b"OpusHead" else "not Vorbis"
                    raise ValueError(f"is an Ogg file whose sound is {kind}; save it as Ogg "
                                     "Vorbis")
                rate, serial = struct.unpack_from("<I", packet, 12)[0], page_serial
                if not 8000 <= rate <= 192000:
                    raise ValueError(f"declares a sample rate of {rate} Hz")
            elif page_serial == serial and granule > 0:
                last = granule
            offset += 27 + head[26] + body
    if offset != size:
        raise ValueError("is cut short: its last Ogg page is incomplete")
    return last / float(rate)


def check_track(path: Path) -> TrackCheck:
    """Check one track file (already confined to its world): size, format and length.

    Never raises: every problem is in the answer, said so a modder can fix it. The answer is
    remembered until the file changes (its size or modification time)."""
    try:
        stat = path.stat()
    except OSError as err:
        return TrackCheck(problem=f"cannot be read ({err.strerror})")
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    with _lock:
        known = _checked.get(key)
    if known is not None:
        return known
    result = _check(path, stat.st_size)
    with _lock:
        if len(_checked) > 256:
            _checked.clear()
        _checked[key] = result
    return result


def _check(path: Path, size: int) -> TrackCheck:
    if not path.is_file():
        return TrackCheck(problem="is not a regular file; refused")
    if size > MAX_TRACK_BYTES:
        return TrackCheck(problem=f"is {size} bytes, over the {MAX_TRACK_BYTES} byte limit "
                          "for a track")
    try:
        reader = _ogg_seconds if path.suffix.lower() == ".ogg" else _wav_seconds
        seconds = reader(path, size)
    except ValueError as err:
        return TrackCheck(problem=str(err))
    except OSError as err:
        return TrackCheck(problem=f"cannot be read ({err.strerror})")
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        return TrackCheck(seconds, f"lasts {seconds:.1f} s; a track must last "
                                   f"{MIN_SECONDS:g} s to {MAX_SECONDS / 60:g} minutes")
    return TrackCheck(seconds)


def world_track(root: Path, mood: str) -> tuple[Path | None, str]:
    """A world's own track for a mood, if it ships one that is fit to play.

    Returns:
        (the file, "") for a good track; (None, "") when the world has none; (None, problem)
        when it has one that cannot be played, the problem naming the file.
    """
    for suffix in SUFFIXES:
        relative = f"{MUSIC_DIR}/{mood}{suffix}"
        candidate = root / relative
        if not (candidate.exists() or candidate.is_symlink()):
            continue
        path = confined(root, relative)
        if path is None:
            return None, f"{relative}: is a link that leaves the world folder; refused"
        result = check_track(path)
        if not result.ok:
            return None, f"{relative}: {result.problem}"
        return path, ""
    return None, ""


def check_music_folder(root: Path) -> tuple[list[Problem], list[Problem]]:
    """`worlds validate` on a world's music/ folder: (errors, warnings), each naming its file."""
    folder, errors, warnings = root / MUSIC_DIR, [], []
    if not (folder.exists() or folder.is_symlink()):
        return errors, warnings
    if confined(root, MUSIC_DIR) is None or not folder.is_dir():
        return [Problem(f"{MUSIC_DIR}/", 0, "is not a folder inside the world; refused",
                        "make music/ a real folder, not a link or a file")], warnings
    entries = sorted(folder.iterdir())
    if len(entries) > MAX_FILES:
        warnings.append(Problem(f"{MUSIC_DIR}/", 0, f"{len(entries)} files, over the limit of "
                                f"{MAX_FILES}; the rest are not checked"))
    for entry in entries[:MAX_FILES]:
        relative = f"{MUSIC_DIR}/{entry.name}"
        if entry.suffix.lower() in (".md", ".txt") or entry.name.startswith("."):
            continue
        if entry.suffix.lower() not in SUFFIXES or entry.stem not in MOODS:
            warnings.append(Problem(relative, 0, "is not a mood track, so it is ignored",
                                    "name it <mood>.ogg or <mood>.wav, with a mood of "
                                    + ", ".join(MOODS)))
            continue
        path = confined(root, relative)
        if path is None:
            errors.append(Problem(relative, 0, "is a link that leaves the world folder; refused",
                                  "copy the file in instead"))
            continue
        result = check_track(path)
        if not result.ok:
            errors.append(Problem(relative, 0, result.problem,
                                  "export it again as Ogg Vorbis or 16-bit WAV"))
    return errors, warnings


__all__ = ["MAX_TRACK_BYTES", "MIN_SECONDS", "MAX_SECONDS", "TrackCheck", "check_music_folder",
           "check_track", "world_track"]
