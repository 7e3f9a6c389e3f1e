"""On-disk feature cache: one directory per entry, written atomically, checked on read.

Layout under the cache root::

    features/<kk>/<key>/features.npy   float32, memory-mapped on read
    features/<kk>/<key>/meta.json      the full key fields, shape and content digests
    partial/<group>/chunk-000003.npz   finished chunks of an unfinished extraction
    tmp/                               work area; entries are renamed out of it

The key is the sha256 of the key fields (model identity, layer, pooling,
dataset fingerprint, preprocessing, dtype, library versions). ``meta.json``
keeps the fields themselves and every read checks them, so an entry can never
be mistaken for another. Nothing is ever unpickled.

Damage heals. An entry whose ``meta.json`` is missing, not JSON or does not
match its key, whose ``features.npy`` is missing, truncated, of another dtype
or shape, or whose bytes no longer match the digests written with it, is
reported in one line on the ``transferscope.cache`` logger, moved out of the
way and treated as absent, so the caller recomputes it. The same holds for a
partial chunk that is not a complete ``.npz`` (zip checks every member's
CRC-32, so overwritten values are caught too) or has the wrong shape.

Content digests: ``features.npy`` is hashed in blocks of :data:`BLOCK_BYTES`
(sha256 of each block, 128 bits kept) when the entry is written. A read checks
the file size always, every block of a file up to :data:`FULL_CHECK_BYTES`
(about 9 ms for 16 MiB at the 1.8 GB/s sha256 of a current CPU), and of a
larger file :data:`SAMPLED_BLOCKS` blocks: the first, the last and random ones
drawn anew at each read. The trade-off: a read of a large entry costs at most
``SAMPLED_BLOCKS * BLOCK_BYTES`` of hashing instead of the whole file, and an
overwrite that spares the blocks drawn goes unnoticed at that read (the
chance of catching it grows with every read, since the draw changes); small
entries are always checked entirely. The digests detect accidental damage
(a stray write, a bad copy), not a deliberate forgery, which could rewrite
``meta.json`` as well. Entries written before the digests existed (no
``format`` in ``meta.json``) are read with every check but this one.

Files and folders are created with the user's umask (a shared cache with
``umask 002`` stays group-writable); :func:`~transferscope.hashing.apply_umask` corrects the 0600 /
0700 modes of :mod:`tempfile` before an entry is renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from transferscope.hashing import apply_umask, hash_fields, write_atomic

__all__ = ["FeatureCache", "default_cache_dir", "report_damage", "LOGGER",
           "BLOCK_BYTES", "FULL_CHECK_BYTES", "SAMPLED_BLOCKS"]

ENV_VAR = "TRANSFERSCOPE_CACHE_DIR"

#: Logger of damaged cache entries (one warning line each).
LOGGER = logging.getLogger("transferscope.cache")

#: Bytes per digested block of ``features.npy``.
BLOCK_BYTES = 1 << 20
#: Files up to this size are checked entirely on every read.
FULL_CHECK_BYTES = 16 << 20
#: Blocks checked per read of a larger file (first, last, the rest drawn at random).
SAMPLED_BLOCKS = 8

_FORMAT = 2  # 1: no content digests (entries written before them are read unchecked)
_DIGEST_HEX = 32
_DRAW = random.Random()  # own generator: never moves the user's random state


def default_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """``cache_dir`` if given, else ``$TRANSFERSCOPE_CACHE_DIR``, else the user cache dir."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("transferscope"))


def report_damage(what: str, path: str | os.PathLike[str], reason: str, *, removed: bool = True) -> None:
    """One warning line on :data:`LOGGER` for a damaged cache entry."""
    action = "removed; it is recomputed" if removed else "could not be removed; it is recomputed, not reused"
    LOGGER.warning("transferscope: damaged %s %s (%s): %s", what, path, reason, action)


def _content_digest(path: Path) -> dict[str, Any]:
    size = path.stat().st_size
    blocks = []
    with path.open("rb") as handle:
        while block := handle.read(BLOCK_BYTES):
            blocks.append(hashlib.sha256(block).hexdigest()[:_DIGEST_HEX])
    return {"algorithm": "sha256-blocks", "block_bytes": BLOCK_BYTES, "size": size, "blocks": blocks}


def _check_content(path: Path, content: Any) -> str | None:
    """Why ``path`` does not match the digests ``content`` written with it, or None."""
    if not isinstance(content, dict) or content.get("algorithm") != "sha256-blocks":
        return "meta.json has no valid content digests"
    block, size, digests = content.get("block_bytes"), content.get("size"), content.get("blocks")
    if (not isinstance(block, int) or block <= 0 or not isinstance(size, int) or not isinstance(digests, list)
            or len(digests) != -(-size // block)):
        return "meta.json has no valid content digests"
    actual = path.stat().st_size
    if actual != size:
        return f"features.npy has {actual} bytes, {size} were written"
    n = len(digests)
    if size <= FULL_CHECK_BYTES or n <= SAMPLED_BLOCKS:
        chosen = range(n)
    else:
        chosen = sorted({0, n - 1, *_DRAW.sample(range(1, n - 1), SAMPLED_BLOCKS - 2)})
    with path.open("rb") as handle:
        for i in chosen:
            handle.seek(i * block)
            if hashlib.sha256(handle.read(block)).hexdigest()[:_DIGEST_HEX] != digests[i]:
                return f"the bytes of features.npy changed since it was written (block {i} of {n})"
    return None


def _uncached(target: Path, exc: OSError, data: np.ndarray) -> np.ndarray:
    LOGGER.warning("transferscope: could not store feature cache entry %s (%s); using the computed features "
                   "without caching them", target, exc.strerror or exc)
    return data


class FeatureCache:
    """Content-addressed, atomically written store of feature matrices.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from transferscope.extraction.cache import FeatureCache
    >>> cache = FeatureCache(tempfile.mkdtemp())
    >>> fields = {"model": "m", "layer": "l", "pooling": "mean", "dataset": "d"}
    >>> key = cache.key(fields)
    >>> cache.get(key, fields) is None
    True
    >>> cache.put(key, np.ones((2, 3)), fields).shape
    (2, 3)
    >>> cache.get(key, fields).dtype
    dtype('float32')
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = default_cache_dir(root)

    @staticmethod
    def key(fields: dict[str, Any]) -> str:
        """The entry key for ``fields``."""
        return hash_fields(fields)

    def _entry_dir(self, key: str) -> Path:
        return self.root / "features" / key[:2] / key

    def _tmp_dir(self) -> Path:
        tmp = self.root / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=tmp))

    def get(self, key: str, fields: dict[str, Any]) -> np.ndarray | None:
        """The memory-mapped float32 array for ``key``, or None when absent.

        A damaged entry (see the module notes) is reported, removed and also gives None.
        """
        array, problem = self._read(key, fields)
        if problem is not None:
            self._discard(self._entry_dir(key), problem)
        return array

    def _read(self, key: str, fields: dict[str, Any]) -> tuple[np.ndarray | None, str | None]:
        """``(array, None)``, ``(None, None)`` for a miss, or ``(None, reason)`` for a damaged entry."""
        entry = self._entry_dir(key)
        if not os.path.lexists(entry):
            return None, None
        if not entry.is_dir():
            return None, "the entry is not a folder"
        try:
            meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None, "meta.json is missing"
        except PermissionError:
            return None, None  # someone else's entry we may not read: a miss, not damage
        except (OSError, ValueError) as exc:
            return None, f"meta.json is not valid JSON ({type(exc).__name__})"
        if not isinstance(meta, dict):
            return None, "meta.json is not a JSON object"
        wanted = json.loads(json.dumps(fields, default=str))
        if meta.get("fields") != wanted:
            # The entry at the key of ``fields`` must hold ``fields``; a caller with another key is a miss.
            return (None, "meta.json does not match its key") if self.key(fields) == key else (None, None)
        shape = meta.get("shape")
        if not isinstance(shape, list) or not all(isinstance(s, int) and s >= 0 for s in shape):
            return None, "meta.json has no valid shape"
        path = entry / "features.npy"
        if not path.is_file():
            return None, "features.npy is missing"
        version = meta.get("format", 1)
        if not isinstance(version, int):
            return None, "meta.json has no valid format"
        if version >= _FORMAT:
            try:
                problem = _check_content(path, meta.get("content"))
            except OSError as exc:
                return None, f"features.npy cannot be read ({exc.strerror or exc})"
            if problem is not None:
                return None, problem
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return None, f"features.npy cannot be loaded ({detail})"
        if array.dtype != np.float32 or list(array.shape) != shape:
            return None, f"features.npy holds {array.dtype} {list(array.shape)}, meta.json says float32 {shape}"
        return array, None

    def _discard(self, entry: Path, reason: str) -> None:
        """Move a damaged entry out of the way (one rename, atomic for concurrent readers), then delete it."""
        try:
            aside = Path(tempfile.mkdtemp(dir=self._tmp_dir().parent, prefix="damaged-"))
        except OSError:
            report_damage("feature cache entry", entry, reason, removed=False)
            return
        try:
            os.rename(entry, aside / entry.name)
        except FileNotFoundError:
            pass  # another reader moved it first and reports it
        except OSError:
            report_damage("feature cache entry", entry, reason, removed=False)
        else:
            report_damage("feature cache entry", entry, reason)
        shutil.rmtree(aside, ignore_errors=True)

    def put(self, key: str, array: np.ndarray, fields: dict[str, Any]) -> np.ndarray:
        """Store ``array`` as float32 under ``key`` atomically; return the cached array.

        When another process wrote the same entry first, theirs is kept if it is sound and
        replaced if it is damaged. When the entry cannot be stored (an existing damaged entry
        that cannot be removed, a full disk), the computed array is returned, uncached, with a
        warning: a cache that cannot grow slows the next run, it does not fail this one.
        """
        data = np.ascontiguousarray(array, dtype=np.float32)
        target = self._entry_dir(key)
        try:
            work = self._tmp_dir()
        except OSError as exc:
            return _uncached(target, exc, data)
        try:
            try:
                np.save(work / "features.npy", data, allow_pickle=False)
                meta = {"format": _FORMAT, "fields": fields, "shape": list(data.shape), "dtype": "float32",
                        "content": _content_digest(work / "features.npy")}
                (work / "meta.json").write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
            except OSError as exc:  # a full disk, a quota: nothing half-written stays (finally)
                return _uncached(target, exc, data)
            apply_umask(work, directory=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            for _ in range(3):
                try:
                    os.rename(work, target)
                    break
                except OSError:
                    if not target.exists():
                        raise
                # Another process finished the same entry first: keep theirs when it is sound.
                theirs, problem = self._read(key, fields)
                if theirs is not None:
                    return theirs
                if problem is None:
                    break  # an entry we may not read: ours cannot replace it
                self._discard(target, problem)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        cached = self.get(key, fields)
        if cached is None:
            LOGGER.warning("transferscope: could not store feature cache entry %s; using the computed "
                           "features without caching them", target)
            return data
        return cached

    # -- partial extractions (resume after an interruption) ------------------

    def _partial_dir(self, group: str) -> Path:
        return self.root / "partial" / group

    def put_chunk(self, group: str, index: int, arrays: dict[str, np.ndarray]) -> None:
        """Save the finished chunk ``index`` of extraction ``group`` atomically; on a full disk
        the chunk is not saved (a warning: an interrupted run then resumes from an earlier one)."""
        folder = self._partial_dir(group)
        final = folder / f"chunk-{index:06d}.npz"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_atomic(final, lambda handle: np.savez(
                handle, **{k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}))
        except OSError as exc:
            LOGGER.warning("transferscope: could not save the resumable chunk %s (%s); the extraction goes on",
                           final, exc.strerror or exc)

    def get_chunk(self, group: str, index: int, names: list[str],
                  rows: int | None = None) -> dict[str, np.ndarray] | None:
        """The arrays of a finished chunk, or None when absent, incomplete or damaged.

        With ``rows``, every array must be 2-D with that many rows. A damaged chunk (not a
        complete ``.npz``, a failed CRC, arrays missing or of the wrong shape or dtype) is
        reported and removed.
        """
        path = self._partial_dir(group) / f"chunk-{index:06d}.npz"
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                missing = [name for name in names if name not in data.files]
                out = {} if missing else {name: data[name] for name in names}
        except PermissionError:
            return None
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            problem = f"not a complete .npz: {type(exc).__name__}"
        else:
            problem = f"arrays {', '.join(missing)} are missing" if missing else None
            for name, arr in out.items():
                if arr.dtype != np.float32 or arr.ndim != 2 or (rows is not None and arr.shape[0] != rows):
                    problem = f"array {name} is {arr.dtype} {list(arr.shape)}, expected float32 with {rows} rows"
                    break
            if problem is None:
                return out
        try:
            os.unlink(path)
        except FileNotFoundError:
            return None
        except OSError:
            report_damage("partial extraction chunk", path, problem, removed=False)
            return None
        report_damage("partial extraction chunk", path, problem)
        return None

    def clear_partial(self, group: str) -> None:
        """Remove the chunks of a finished extraction."""
        shutil.rmtree(self._partial_dir(group), ignore_errors=True)

    def clear(self) -> None:
        """Delete every cache entry."""
        for sub in ("features", "partial", "tmp"):
            shutil.rmtree(self.root / sub, ignore_errors=True)
