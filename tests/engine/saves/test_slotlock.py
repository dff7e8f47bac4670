"""One writer per story: the slot lock between processes, inside one process, and when a game
that held it was killed (issue 11, finding 3)."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from engine.saves import slotlock
from engine.session.jobs import InlineRunner
from engine.saves.store import SaveStore
from engine.session.core import Session
from engine.saves.slotlock import Holder, SlotBusy, claim_slot, lock_path, slot_holder

ROOT = Path(__file__).resolve().parents[3]
HOLD = ("import sys; from engine.saves.slotlock import claim_slot; "
        "claim = claim_slot(sys.argv[1], sys.argv[2]); print('held', flush=True); "
        "sys.stdin.read()")


def hold_in_another_process(slots: Path, name: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(slots), name], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout.readline() == b"held\n"
    return proc


def kill(proc: subprocess.Popen) -> None:
    """Kill a helper process, reap it and close its pipes."""
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            pipe.close()


def test_a_second_process_is_refused_and_a_killed_holders_lock_is_taken_over(tmp_path):
    holder = hold_in_another_process(tmp_path, "story")
    try:
        with pytest.raises(SlotBusy, match=rf"process {holder.pid} on this computer") as busy:
            claim_slot(tmp_path, "story")
        assert busy.value.holder.pid == holder.pid
        assert busy.value.holder.boot == slotlock.boot_id()
        assert slot_holder(tmp_path, "story").pid == holder.pid
    finally:
        kill(holder)
    claim = claim_slot(tmp_path, "story")          # the kernel dropped the dead one's lock
    try:
        assert claim.owns and claim.took_over is not None and claim.took_over.pid == holder.pid
        record = Holder.decode(lock_path(tmp_path, "story").read_bytes())
        assert record.pid == os.getpid() and record.boot == slotlock.boot_id()
    finally:
        claim.release()
    assert slot_holder(tmp_path, "story") is None
    assert lock_path(tmp_path, "story").read_bytes() == b""     # released: no holder recorded


def test_in_one_process_the_newest_claim_owns_the_slot(tmp_path):
    first = claim_slot(tmp_path, "s")
    second = claim_slot(tmp_path, "s")             # a load into the same slot takes it over
    assert second.owns and not first.owns
    with pytest.raises(SlotBusy, match="open in this game"):
        claim_slot(tmp_path, "s", share=False)     # a named save into a slot in use here
    second.release()
    assert first.owns                              # the load failed: the first story goes on
    second.release()                               # twice is harmless
    first.release()
    assert slot_holder(tmp_path, "s") is None
    third = claim_slot(tmp_path, "s")
    assert third.owns and third.took_over is None
    third.release()


def _record(path: Path, pid: int, boot: str | None = None, host: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(Holder(pid=pid, boot=slotlock.boot_id() if boot is None else boot,
                            host=host or socket.gethostname(), since=1.0).encode())


def test_without_os_locks_the_record_decides_by_pid_and_boot_id(tmp_path, monkeypatch):
    def unsupported(fd):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(slotlock, "_os_lock", unsupported)
    path = lock_path(tmp_path, "s")
    alive = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        _record(path, alive.pid)
        with pytest.raises(SlotBusy, match=str(alive.pid)):
            claim_slot(tmp_path, "s")
        _record(path, alive.pid, host="another-computer")
        with pytest.raises(SlotBusy, match="another-computer"):
            claim_slot(tmp_path, "s")
        for stale in (dict(pid=dead.pid), dict(pid=alive.pid, boot="an-earlier-boot")):
            _record(path, **stale)
            claim = claim_slot(tmp_path, "s")
            assert claim.owns and claim.took_over.pid == stale["pid"]
            claim.release()
            assert path.read_bytes() == b""
    finally:
        kill(alive)


def test_sessions_hold_their_slot_and_may_open_a_busy_one_read_only(config, tmp_path):
    cfg = config.with_changes(game={"painter": "none"})
    session = Session.new(cfg, runner=InlineRunner(), slot="mine")
    session.wait()
    session.choose(0)
    session.wait()
    session.flush_saves()
    session.close()
    store = SaveStore(cfg.saves_dir)
    before = store.read("mine").snapshot
    holder = hold_in_another_process(store.slots_dir, "mine")
    try:
        with pytest.raises(SlotBusy, match=f"process {holder.pid}"):
            Session.resume(cfg, "mine", runner=InlineRunner(), slot="mine")
        with pytest.raises(SlotBusy):
            Session.new(cfg, runner=InlineRunner(), slot="mine")
        copy = Session.resume(cfg, "mine", runner=InlineRunner(), slot="mine", read_only=True)
        copy.wait()
        copy.choose(0)
        copy.wait()
        assert copy.autosave() and copy.flush_saves()      # nothing written: nothing failed
        with pytest.raises(Exception, match="read-only copy"):
            copy.save("mine")
        other = Session.new(cfg, runner=InlineRunner(), slot="elsewhere")
        with pytest.raises(SlotBusy):
            other.save("mine")                             # a named save into a busy slot
        copy.save("forked")                                # a copy may be kept under a new name
        assert store.read("forked").snapshot["play"]["current"] == copy.current
        copy.close()
        other.close()
    finally:
        kill(holder)
    assert store.read("mine").snapshot == before           # the holder's story is untouched
