"""Files read and written safely: atomic and durable writes, bounded reads, regular files only.

- :func:`atomic_write` writes a file that appears whole or not at all (a temporary file
  beside the target, flushed to disk, then ``os.replace``, then the folder flushed).
- :func:`open_regular`, :func:`read_bytes` refuse what is not a regular file (a FIFO, a
  device) before opening it, so nothing blocks, and bound the size read.
- :func:`gunzip` decompresses no more than asked.
- :class:`NpzReader` reads a ``.npz`` member by member and checks each array's header
  (shape, dtype) before reading its data.

Faults raise the ``error`` class the caller passes (a :class:`FileFault` subclass), with
a message naming the file.
"""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
import zipfile
import zlib
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from numpy.lib import format as npformat

__all__ = ["FileFault", "Cancelled", "check_stop", "check_regular", "open_regular", "read_bytes",
           "sniff", "gunzip", "atomic_write", "temp_beside", "clean_leftovers", "fsync_dir", "NpzReader"]

_CHUNK = 1 << 20
#: The most gzip members a file may hold (each costs a decompressor, even an empty one).
MAX_GZIP_MEMBERS = 1000


class FileFault(ValueError):
    """A file that cannot be used; the message names the file and the fault."""


class Cancelled(Exception):
    """Work stopped on request (a ``should_stop`` callable returned True)."""


def check_stop(should_stop: Callable[[], bool] | None, what: str = "loading") -> None:
    """Raise :class:`Cancelled` when ``should_stop()`` says so."""
    if should_stop is not None and should_stop():
        raise Cancelled(f"{what} was stopped")


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------
def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a regular file"


def check_regular(path, error: type[Exception] = FileFault) -> os.stat_result:
    """``os.stat(path)`` of a regular file; else ``error`` (missing, a folder, a FIFO...)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except OSError as e:
        raise error(f"{path}: cannot be read ({e.strerror or e})") from None
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{path}: is {_kind(st.st_mode)}, expected a regular file")
    return st


def open_regular(path, error: type[Exception] = FileFault, *, limit: int | None = None):
    """Open a regular file for binary reading, never blocking on a FIFO or device.

    ``limit``: refuse a file larger than this many bytes.
    """
    st = check_regular(path, error)
    if limit is not None and st.st_size > limit:
        raise error(f"{path}: {st.st_size:,} bytes, more than the {limit:,} this kind of file may have")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise error(f"{path}: cannot be read ({e.strerror or e})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):        # replaced since the check
            raise error(f"{path}: is not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path, limit: int, error: type[Exception] = FileFault) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes."""
    with open_regular(path, error, limit=limit) as fh:
        try:
            raw = fh.read(min(os.fstat(fh.fileno()).st_size, limit) + 1)
            while len(raw) <= limit:      # it grew since it was measured: read on, to the limit
                piece = fh.read(min(_CHUNK, limit + 1 - len(raw)))
                if not piece:
                    break
                raw += piece
        except OSError as e:
            raise error(f"{path}: cannot be read ({e.strerror or e})") from None
    if len(raw) > limit:
        raise error(f"{path}: more than the {limit:,} bytes this kind of file may have")
    return raw


def sniff(path) -> str | None:
    """``"zip"``, ``"gzip"`` or None, from a regular file's first bytes (never blocks)."""
    try:
        with open_regular(path) as fh:
            head = fh.read(4)
    except (FileFault, OSError):
        return None
    if head[:2] == b"PK":
        return "zip"
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    return None


def gunzip(raw: bytes, limit: int, path, error: type[Exception] = FileFault, *,
           should_stop: Callable[[], bool] | None = None) -> bytes:
    """Decompress gzip data (one member or several), producing at most ``limit + 1`` bytes.

    A result longer than ``limit`` means the data holds more than the caller allows;
    nothing beyond that is decompressed.
    """
    out = bytearray()
    view = memoryview(raw).cast("B")
    pos, end, members = 0, len(view), 0
    while pos < end and len(out) <= limit:
        if members and bytes(view[pos:pos + 2]) != b"\x1f\x8b":
            if not bytes(view[pos:]).strip(b"\x00"):   # zero padding after the last member, as gzip allows
                break
            raise error(f"{path}: corrupt gzip data (bytes after the end of the compressed data)")
        members += 1
        if members > MAX_GZIP_MEMBERS:
            raise error(f"{path}: more than {MAX_GZIP_MEMBERS:,} gzip members (a gzip file of data "
                        "has one, or a few)")
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            while len(out) <= limit and not d.eof:
                check_stop(should_stop)
                chunk = view[pos:pos + _CHUNK]          # at most a chunk of input at a time: zlib's
                if not chunk.nbytes:                    # leftovers stay small, whatever the file
                    break
                piece = d.decompress(chunk, min(_CHUNK, limit + 1 - len(out)))
                out += piece
                used = chunk.nbytes - len(d.unconsumed_tail) - len(d.unused_data)
                pos += used
                if not piece and not used and not d.eof:
                    break
        except zlib.error as e:
            raise error(f"{path}: corrupt gzip data ({e})") from None
        if len(out) > limit:
            break
        if not d.eof:
            raise error(f"{path}: the gzip data is cut short")
    return bytes(out[: limit + 1])


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------
def fsync_dir(folder) -> None:
    """Flush a folder's entries (a rename in it) to disk, where the system allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return                      # e.g. Windows: folders cannot be opened
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temp_beside(path: Path, keep=()) -> tuple[int, str]:
    """A new temporary file beside ``path`` (same folder), with the usual ``0666 & ~umask`` mode.

    ``mkstemp`` creates it with mode 0600; the file that replaces the target gets the mode
    a normal new file would.
    """
    path = Path(path)
    clean_leftovers(path, keep)             # what an interrupted save left (``keep``: still needed)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp, 0o666 & ~umask)
    except OSError:
        pass
    return fd, tmp


#: A temporary file of an unknown writer (no process id in its name) older than this is a leftover.
STALE_SECONDS = 3600


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (on Windows, where ``os.kill`` would end it, always True)."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def clean_leftovers(path, keep=()) -> list[Path]:
    """Remove the temporary files an interrupted save of ``path`` left beside it
    (``.<name>.<pid>-XXXX.tmp`` of a process that no longer runs; an older name without a
    process id once it is :data:`STALE_SECONDS` old). ``keep``: names never removed. Returns
    what was removed; a file that cannot be removed is left."""
    path = Path(path)
    removed = []
    try:
        candidates = [p for p in path.parent.glob(f".{glob_escape(path.name)}.*.tmp") if p.name not in keep]
    except OSError:
        return removed
    now = time.time()
    for tmp in candidates:
        middle = tmp.name[len(path.name) + 2:-4]
        pid = middle.split("-", 1)[0]
        try:
            if pid.isdigit() and "-" in middle and os.name != "nt":
                stale = int(pid) != os.getpid() and not _alive(int(pid))
            else:
                stale = now - tmp.stat().st_mtime > STALE_SECONDS
            if stale and stat.S_ISREG(tmp.lstat().st_mode):
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            pass
    return removed


def glob_escape(name: str) -> str:
    """``name`` with glob's special characters taken literally."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


@contextlib.contextmanager
def atomic_write(path, error: type[Exception] = FileFault, *, mode: str = "wb") -> Iterator:
    """Write ``path`` whole or not at all, durably.

    Yields a file open on a temporary file in the same folder. When the block ends without
    an exception, the file is flushed to disk, renamed over ``path`` and the folder
    flushed; on an exception, the temporary file is removed and ``path`` is untouched.
    An ``OSError`` becomes ``error`` naming the file.
    """
    path = Path(path)
    try:
        fd, tmp = temp_beside(path)
    except OSError as e:
        raise error(f"{path}: cannot write here ({e.strerror or e})") from None
    try:
        with os.fdopen(fd, mode, **({"newline": ""} if "b" not in mode else {})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        tmp = None
        fsync_dir(path.parent)
    except OSError as e:
        raise error(f"{path}: writing failed ({e.strerror or e})") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


# ---------------------------------------------------------------------------------------
# .npz files
# ---------------------------------------------------------------------------------------
class NpzReader:
    """A ``.npz`` file read one array at a time, each header checked before its data.

    ``np.load`` decompresses a member whole before anyone sees its shape; here
    :meth:`array` reads the ``.npy`` header (shape, dtype) from the member's stream,
    lets the caller refuse it, and reads exactly the bytes that shape needs (then checks
    the member ends there and its CRC).

    Parameters
    ----------
    path : str or Path
    error : exception class
        Raised, with a message naming the file, on every fault.
    limit : int
        The largest file accepted, in bytes.
    should_stop : callable, optional
        Checked while reading; True raises :class:`Cancelled`.
    """

    def __init__(self, path, error: type[Exception] = FileFault, *, limit: int,
                 should_stop: Callable[[], bool] | None = None):
        self.path, self.error, self.should_stop = Path(path), error, should_stop
        self._fh = open_regular(path, error, limit=limit)
        try:
            if self._fh.read(2) != b"PK":
                raise error(f"{path}: not a .npz (zip) file")
            self._fh.seek(0)
            self._zip = zipfile.ZipFile(self._fh)
        except BaseException as e:
            self._fh.close()
            if isinstance(e, error):
                raise
            raise self._corrupt(e) from None
        self.members = {n[:-4]: n for n in self._zip.namelist() if n.endswith(".npy")}

    def __enter__(self) -> "NpzReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()
        self._fh.close()

    @property
    def files(self) -> list[str]:
        """Array names, as ``np.load(...).files`` gives them."""
        return list(self.members)

    def _corrupt(self, e: BaseException) -> Exception:
        if isinstance(e, EOFError):
            return self.error(f"{self.path}: the file is cut short")
        return self.error(f"{self.path}: corrupt or not a .npz file ({type(e).__name__}: {e})")

    def array(self, name: str, check: Callable[[tuple, np.dtype], str | None], *,
              max_bytes: int) -> np.ndarray:
        """Read one array, refusing it from its header alone when it does not fit.

        Parameters
        ----------
        name : str
            The array's name (the member ``name.npy``).
        check : callable(shape, dtype) -> str or None
            Returns why the array is unwanted (the message says "'name' " + that), or None.
        max_bytes : int
            The most data the array may hold.

        Returns
        -------
        ndarray
            A new, writable array.
        """
        try:
            with self._zip.open(self.members[name]) as stream:
                shape, fortran, dtype = self._header(stream, name)
                why = check(shape, dtype)
                if why:
                    raise self.error(f"{self.path}: '{name}' {why}")
                nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
                if nbytes > max_bytes:
                    raise self.error(f"{self.path}: '{name}' declares {nbytes:,} bytes of data, more "
                                     f"than the {max_bytes:,} allowed")
                buf = bytearray(nbytes)
                view, done = memoryview(buf), 0
                while done < nbytes:
                    check_stop(self.should_stop)
                    got = stream.readinto(view[done:done + _CHUNK])
                    if not got:
                        raise self.error(f"{self.path}: '{name}' is cut short ({done:,} of "
                                         f"{nbytes:,} bytes)")
                    done += got
                if stream.read(1):          # also makes zipfile check the member's CRC
                    raise self.error(f"{self.path}: '{name}' holds more data than its shape "
                                     f"{shape} declares")
        except (self.error, Cancelled, KeyError):
            raise
        except MemoryError:
            raise self.error(f"{self.path}: '{name}' is too large to read") from None
        except Exception as e:      # noqa: BLE001 - zipfile, zlib and numpy raise many types
            raise self._corrupt(e) from None
        return np.frombuffer(buf, dtype=dtype).reshape(shape, order="F" if fortran else "C")

    def _header(self, stream, name: str):
        try:
            version = npformat.read_magic(stream)
            if version == (1, 0):
                shape, fortran, dtype = npformat.read_array_header_1_0(stream)
            elif version == (2, 0):
                shape, fortran, dtype = npformat.read_array_header_2_0(stream)
            else:
                raise self.error(f"{self.path}: '{name}' is in .npy format {version}, which is not read")
        except self.error:
            raise
        except Exception as e:      # noqa: BLE001 - a damaged header raises ValueError, SyntaxError...
            raise self.error(f"{self.path}: '{name}' has a damaged header ({e})") from None
        if dtype.hasobject:
            raise self.error(f"{self.path}: '{name}' holds Python objects, which are never loaded")
        return tuple(int(s) for s in shape), fortran, dtype
