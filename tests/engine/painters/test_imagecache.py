"""The content-addressed image cache: keys, round trips, verification, LRU eviction, disk errors."""

from __future__ import annotations

import errno
import os
import threading

import numpy as np
import pytest
from PIL import Image

from engine.painters import imagecache
from engine.errors import PainterError
from engine.painters.imagecache import ImageCache, cache_key


@pytest.fixture
def cache(tmp_path) -> ImageCache:
    return ImageCache(tmp_path / "cache")


def noise_image(seed: int, size: tuple[int, int] = (64, 48)) -> Image.Image:
    """Random pixels: they do not compress, so every file has about the same size."""
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def key(n: int) -> str:
    return cache_key("procedural", "procedural-v1", f"prompt {n}", None, n, (64, 48), 1)


def test_cache_key_is_stable_and_covers_every_field():
    base = ("procedural", "procedural-v1", "a lighthouse", "blurry", 7, (1280, 720), 1)
    first = cache_key(*base)
    assert first == cache_key(*base) and len(first) == 64 and int(first, 16) >= 0
    for index, changed in enumerate(["diffusers", "sd-turbo", "a tower", "ugly", 8, (720, 1280), 4]):
        other = list(base)
        other[index] = changed
        assert cache_key(*other) != first, index
    assert cache_key("p", "m", "x", None, 1, (2, 2), 1) == cache_key("p", "m", "x", "", 1, (2, 2), 1)


def test_round_trip(cache):
    image = noise_image(1)
    path = cache.put(key(1), image)
    assert path == cache.path_for(key(1)) == cache.root / key(1)[:2] / f"{key(1)}.img"
    assert path.is_file() and cache.contains(key(1))
    loaded = cache.get(key(1))
    assert loaded is not None and loaded.size == image.size and loaded.mode == "RGB"
    assert loaded.tobytes() == image.tobytes()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left behind


def test_missing_key_is_a_miss(cache):
    assert cache.get(key(2)) is None and not cache.contains(key(2))


def test_put_replaces_an_existing_entry(cache):
    cache.put(key(1), noise_image(1))
    cache.put(key(1), noise_image(2))
    assert cache.get(key(1)).tobytes() == noise_image(2).tobytes()
    assert cache.size_bytes() == cache.path_for(key(1)).stat().st_size


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip_byte", "empty"])
def test_damaged_file_is_a_miss_and_removed(cache, damage):
    path = cache.put(key(3), noise_image(3))
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a png at all" * 50)
    elif damage == "flip_byte":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:])
    else:
        path.write_bytes(b"")
    assert cache.get(key(3)) is None
    assert not path.exists()


def test_a_picture_stored_under_another_key_is_a_miss(cache):
    source = cache.put(key(4), noise_image(4))
    target = cache.path_for(key(5))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())
    assert cache.get(key(5)) is None and not target.exists()
    assert cache.get(key(4)) is not None


def test_a_file_whose_pixels_were_edited_is_a_miss(cache):
    path = cache.put(key(6), noise_image(6))
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF                       # one pixel changed, header (key, crc) untouched
    path.write_bytes(bytes(data))
    assert cache.get(key(6)) is None and not path.exists()


@pytest.mark.parametrize("bad", ["../" * 5 + "etc/passwd", "ab", "A" * 64, "g" * 64, "0" * 63, "0" * 65,
                                 "0" * 63 + "/", "", None, 12])
def test_bad_keys_are_rejected(cache, bad):
    for call in (cache.path_for, cache.contains, cache.get, lambda k: cache.put(k, noise_image(0))):
        with pytest.raises(PainterError):
            call(bad)
    assert not cache.root.exists()


def test_eviction_keeps_under_the_limit_and_drops_the_least_recently_used(tmp_path):
    probe = ImageCache(tmp_path / "probe")
    one = probe.put(key(0), noise_image(0)).stat().st_size
    cache = ImageCache(tmp_path / "cache", max_bytes=int(one * 3.5))
    for n in (1, 2, 3):
        cache.put(key(n), noise_image(n))
    assert cache.get(key(1)) is not None  # 1 is now more recent than 2 and 3
    cache.put(key(4), noise_image(4))
    assert cache.size_bytes() <= cache.max_bytes
    assert not cache.contains(key(2)), "the least recently used entry goes first"
    assert all(cache.contains(key(n)) for n in (1, 3, 4))
    cache.put(key(5), noise_image(5))
    assert not cache.contains(key(3)) and cache.contains(key(1))
    assert cache.size_bytes() <= cache.max_bytes


def test_an_entry_larger_than_the_whole_cache_is_still_stored(tmp_path):
    cache = ImageCache(tmp_path / "cache", max_bytes=10)
    cache.put(key(1), noise_image(1))
    path = cache.put(key(2), noise_image(2))
    assert path.is_file() and not cache.contains(key(1))


def test_size_counts_existing_files_of_an_earlier_session(tmp_path):
    first = ImageCache(tmp_path / "cache")
    first.put(key(1), noise_image(1))
    first.put(key(2), noise_image(2))
    again = ImageCache(tmp_path / "cache")
    expected = sum(p.stat().st_size for p in (tmp_path / "cache").rglob("*.img"))
    assert again.size_bytes() == expected > 0


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_disk_errors_become_painter_errors_naming_the_folder(cache, monkeypatch, code):
    def failing_fsync(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(imagecache.os, "fsync", failing_fsync)
    with pytest.raises(PainterError) as caught:
        cache.put(key(7), noise_image(7))
    message = str(caught.value)
    assert str(cache.root) in message and ("disk" in message or "writable" in message)
    folder = cache.path_for(key(7)).parent
    assert not any(folder.iterdir()), "the temp file is cleaned up"
    assert cache.get(key(7)) is None


def test_a_cache_root_that_is_a_file_gives_a_painter_error(tmp_path):
    root = tmp_path / "cache"
    root.write_text("not a folder")
    with pytest.raises(PainterError):
        ImageCache(root).put(key(1), noise_image(1))
    assert ImageCache(root).get(key(1)) is None


def test_readers_and_one_writer_in_threads(cache):
    for n in range(4):
        cache.put(key(n), noise_image(n))
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(20):
                for n in range(4):
                    image = cache.get(key(n))
                    assert image is not None and image.tobytes() == noise_image(n).tobytes()
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    def write() -> None:
        try:
            for round_ in range(20):
                for n in range(4):
                    cache.put(key(n), noise_image(n))
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=read) for _ in range(3)] + [threading.Thread(target=write)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_non_rgb_images_are_stored_as_rgb(cache):
    image = Image.new("P", (8, 8), 3)
    cache.put(key(9), image)
    assert cache.get(key(9)).mode == "RGB"


def test_a_damaged_gigabyte_cache_file_is_not_read_whole(cache):
    """Finding 10: a 1 GiB damaged cache file was read whole (1,150 MB of memory)."""
    import tracemalloc
    good = noise_image(3)
    path = cache.put(key(3), good)
    header = path.read_bytes()[:300]
    with open(path, "r+b") as handle:
        handle.truncate(1 << 30)          # sparse: no disk used, but 1 GiB long
    tracemalloc.start()
    try:
        assert cache.get(key(3)) is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    assert not path.exists()              # discarded: it is painted again
    # A file whose header is intact but whose pixels were cut short is refused the same way.
    path = cache.put(key(3), good)
    path.write_bytes(header)
    assert cache.get(key(3)) is None and not path.exists()
    cache.put(key(3), good)
    assert np.array_equal(np.asarray(cache.get(key(3))), np.asarray(good))


def test_temp_files_left_by_a_crash_are_cleared_once_stale(cache):
    path = cache.put(key(1), noise_image(1))
    stale = [path.parent / f".{path.name}.x1y2.tmp", path.parent / ".tmp-old.img"]
    fresh = path.parent / f".{path.name}.z3w4.tmp"
    for leftover in stale + [fresh]:
        leftover.write_bytes(b"half a picture")
    hour_ago = os.path.getmtime(path) - imagecache.STALE_TEMP_SECONDS - 10
    for leftover in stale:
        os.utime(leftover, (hour_ago, hour_ago))
    assert cache.size_bytes() == path.stat().st_size      # temp files are not pictures
    assert not any(p.exists() for p in stale) and fresh.exists()
