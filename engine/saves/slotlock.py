"""One writer per story: an OS-level lock on a save slot, held while a story writing there is open.

Two games writing into one slot would stitch two stories together: the second one's autosaves
continue the first one's journal, scene ids collide, and the slot ends up holding a path that runs
from one world into the other. So a Session claims its slot when it opens and gives the claim back
when it closes. A second process that wants the same slot is refused with a SlotBusy error naming
the process that holds it; it may still read the slot (a read-only copy, or a fork into a new slot).

The lock is the kernel's (flock on POSIX, msvcrt.locking on Windows) on `slots/.locks/<slot>.lock`,
so a game killed by SIGKILL or a power cut leaves no lock behind: the kernel drops it with the
process, and the next game takes the slot over. The lock file also records its holder (pid, boot
id, host, time), which the refusal message shows. On filesystems that refuse OS locks (some network
shares) the record alone decides: a holder whose process is gone, or that ran before the last boot,
is stale and taken over.

Within one process a slot may be claimed again (loading a save replaces the story being played by
another that writes into the same slot): the newest claim owns the slot, older claims stop writing
(SlotClaim.owns), and the OS lock is given back when the last claim is released.

This module knows nothing of saves' contents or of the Session; it never deletes lock files.
"""

from __future__ import annotations

import errno
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from engine.errors import SaveError

LOCKS_FOLDER = ".locks"       # inside the slots folder; not a slot (slot names start with a letter)
RECORD_BYTES = 4096           # the most of a lock file that is read (the holder record)
WINDOWS_LOCK_OFFSET = 1 << 20  # Windows locks one byte far past the record, which stays readable
UNSUPPORTED = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}


class SlotBusy(SaveError):
    """The slot is being written by another game (another process, or another story here)."""

    def __init__(self, message: str, holder: "Holder | None" = None):
        super().__init__(message)
        self.holder = holder


@dataclass(frozen=True)
class Holder:
    """Who holds a slot: enough to say so to a person and to tell a stale record from a live one."""

    pid: int
    boot: str      # the kernel's boot id ("" where unknown): a pid means nothing after a reboot
    host: str
    since: float   # time.time() when the slot was claimed

    def encode(self) -> bytes:
        return orjson.dumps({"pid": self.pid, "boot": self.boot, "host": self.host,
                             "since": self.since})

    @classmethod
    def decode(cls, data: bytes) -> "Holder | None":
        try:
            record = orjson.loads(data.rstrip(b"\0 \n"))
            holder = cls(pid=record["pid"], boot=record["boot"], host=record["host"],
                         since=record["since"])
        except (ValueError, TypeError, KeyError):
            return None
        ok = type(holder.pid) is int and isinstance(holder.boot, str) and \
            isinstance(holder.host, str) and isinstance(holder.since, (int, float))
        return holder if ok else None

    def describe(self) -> str:
        """'process 1234 on this computer, since 14:03' (for messages)."""
        where = "this computer" if self.host == socket.gethostname() else self.host
        when = time.strftime("%H:%M", time.localtime(self.since))
        return f"process {self.pid} on {where}, since {when}"

    def is_stale(self) -> bool:
        """True when the record's process cannot still be running: another boot of this computer,
        or no such process. A holder on another computer is taken to be alive."""
        if self.host != socket.gethostname():
            return False
        if self.boot and boot_id() and self.boot != boot_id():
            return True
        return not pid_alive(self.pid)


_BOOT_ID: str | None = None


def boot_id() -> str:
    """This boot's id (Linux), so that a pid recorded before a reboot is known to be stale."""
    global _BOOT_ID
    if _BOOT_ID is None:
        try:
            _BOOT_ID = Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:64]
        except OSError:
            _BOOT_ID = ""
    return _BOOT_ID


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (a zombie counts as gone)."""
    if pid <= 0:
        return False
    if os.name == "nt":   # pragma: no cover - exercised on Windows only
        import ctypes
        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)
        if not handle:
            return False
        ctypes.windll.kernel32.CloseHandle(handle)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:   # a killed child not yet reaped by its parent is still listed: it holds nothing
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rpartition(b")")[2].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def this_holder() -> Holder:
    return Holder(pid=os.getpid(), boot=boot_id(), host=socket.gethostname(), since=time.time())


def _os_lock(fd: int) -> None:
    """Take the kernel's exclusive lock on fd without waiting. BlockingIOError (or
    PermissionError on Windows) when another process holds it; OSError(ENOLCK...) when the
    filesystem has no locks."""
    if os.name == "nt":   # pragma: no cover - exercised on Windows only
        import msvcrt
        os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as err:
            raise BlockingIOError(errno.EAGAIN, str(err)) from None
        return
    import fcntl
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _os_unlock(fd: int) -> None:
    if os.name == "nt":   # pragma: no cover - exercised on Windows only
        import msvcrt
        os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        except OSError:
            pass
        return
    import fcntl
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError:
        pass


def _read_record(fd: int) -> bytes:
    return os.pread(fd, RECORD_BYTES, 0) if hasattr(os, "pread") else _read_at_start(fd)


def _read_at_start(fd: int) -> bytes:   # pragma: no cover - Windows has no pread
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, RECORD_BYTES)


def _write_record(fd: int, data: bytes) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data)


class _Held:
    """This process's hold on one lock file: the open file, how it is held, and its claims."""

    def __init__(self, fd: int, os_locked: bool):
        self.fd = fd
        self.os_locked = os_locked      # False: the record alone guards it (no OS locks here)
        self.claims: list[SlotClaim] = []


_HELD: dict[str, _Held] = {}
_HELD_LOCK = threading.Lock()


class SlotClaim:
    """A claim on one slot. The newest claim in this process owns the slot; release() gives it
    back (safe to call twice). `took_over` names the holder of a stale lock it replaced."""

    def __init__(self, key: str, name: str, took_over: Holder | None = None):
        self.key = key
        self.name = name
        self.took_over = took_over
        self.released = False

    @property
    def owns(self) -> bool:
        """Whether this claim may write the slot now (no newer claim in this process)."""
        with _HELD_LOCK:
            held = _HELD.get(self.key)
            return not self.released and held is not None and held.claims[-1] is self

    def release(self) -> None:
        with _HELD_LOCK:
            if self.released:
                return
            self.released = True
            held = _HELD.get(self.key)
            if held is None or self not in held.claims:
                return
            held.claims.remove(self)
            if held.claims:
                return
            del _HELD[self.key]
            try:
                _write_record(held.fd, b"")
            except OSError:
                pass
            if held.os_locked:
                _os_unlock(held.fd)
            os.close(held.fd)


def lock_path(slots_dir: Path, name: str) -> Path:
    return Path(slots_dir) / LOCKS_FOLDER / f"{name}.lock"


def claim_slot(slots_dir: Path, name: str, share: bool = True) -> SlotClaim:
    """Claim slot `name` for writing. Raises SlotBusy when another process holds it (or, with
    share=False, when another story in this process does), SaveError when the lock cannot be
    made (a read-only folder)."""
    path = lock_path(slots_dir, name)
    key = os.path.normcase(os.path.abspath(path))
    with _HELD_LOCK:
        held = _HELD.get(key)
        if held is not None:
            if not share:
                raise SlotBusy(f"Slot '{name}' is open in this game for another story; save "
                               f"under another name.")
            claim = SlotClaim(key, name)
            held.claims.append(claim)
            return claim
        fd, os_locked, previous = _acquire(path, name)
        held = _Held(fd, os_locked)
        claim = SlotClaim(key, name, took_over=previous)
        held.claims.append(claim)
        _HELD[key] = held
        return claim


def _acquire(path: Path, name: str) -> tuple[int, bool, Holder | None]:
    """Open and lock the file; (fd, locked by the OS, stale holder taken over)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
    except OSError as err:
        raise SaveError(f"Cannot lock save slot '{name}' ({path}): {err.strerror or err}. "
                        f"Choose a writable folder with --saves-dir.") from None
    try:
        os_locked = True
        try:
            _os_lock(fd)
        except (BlockingIOError, PermissionError):
            holder = Holder.decode(_read_record(fd))
            raise _busy(name, holder) from None
        except OSError as err:
            if err.errno not in UNSUPPORTED:
                raise
            os_locked = False      # no OS locks on this filesystem: the record decides
        previous = Holder.decode(_read_record(fd))
        mine = this_holder()
        if previous is not None and previous.pid == mine.pid and previous.boot == mine.boot:
            previous = None        # our own record, left by a claim that did not clear it
        if not os_locked and previous is not None and not previous.is_stale():
            raise _busy(name, previous)
        # With an OS lock, a record left behind belongs to a process that is gone (the kernel
        # dropped its lock when it died): it is taken over, and reported as such.
        _write_record(fd, mine.encode())
        return fd, os_locked, previous
    except BaseException:
        os.close(fd)
        raise


def _busy(name: str, holder: Holder | None) -> SlotBusy:
    who = holder.describe() if holder is not None else "another process"
    return SlotBusy(f"Slot '{name}' is open in another Dreamreel ({who}). Two games writing one "
                    f"slot would mix their stories, so this one does not write there. Close the "
                    f"other game, or open a copy: read-only, or forked into a new slot.", holder)


def slot_holder(slots_dir: Path, name: str) -> Holder | None:
    """The process holding slot `name` now (another one, or this one), None when it is free.
    Reads only; for slot lists."""
    path = lock_path(slots_dir, name)
    key = os.path.normcase(os.path.abspath(path))
    with _HELD_LOCK:
        if key in _HELD:
            return this_holder()
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    except OSError:
        return None
    try:
        record = Holder.decode(_read_record(fd))
        try:
            _os_lock(fd)
        except (BlockingIOError, PermissionError):
            return record or Holder(pid=0, boot="", host=socket.gethostname(), since=0.0)
        except OSError:
            return record if record is not None and not record.is_stale() else None
        _os_unlock(fd)
        return None
    finally:
        os.close(fd)


__all__ = ["SlotBusy", "SlotClaim", "Holder", "claim_slot", "slot_holder", "lock_path"]
