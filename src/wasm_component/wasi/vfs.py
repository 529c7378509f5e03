"""Directories as objects: the Protocol every preopen implements, the host one, an in-memory one.

Why this module exists: ``wasi:filesystem`` must never let a guest name a host path outside
its preopens, and users want to hand a guest a virtual tree (tests, sandboxes, generated
content) without touching the disk. Both needs are met by one mechanism: a preopen is any
object implementing :class:`Directory`, whose operations take a single path *component*
(never a ``/``), and :mod:`wasm_component.wasi._sandbox` resolves a guest path one
component at a time over those objects (``..`` by popping its own stack of opened
directories, symlinks by reading them and splicing their text in). :class:`HostDirectory`
implements the Protocol with ``openat``-style calls on a directory descriptor
(``os.open(name, O_NOFOLLOW, dir_fd=fd)``), so no host path is ever built by joining
strings; :class:`MemoryDirectory` implements it in Python objects.

Write your own directory by implementing :class:`Directory` (and :class:`File` for what
``open`` returns); raise :class:`FsError` with a ``wasi:filesystem`` error-code name::

    from wasm_component.wasi import WasiConfig
    from wasm_component.wasi.vfs import MemoryDirectory

    root = MemoryDirectory()
    root.write_file("hello.txt", b"hi")           # helpers for building a tree from Python
    config = WasiConfig()
    config.preopen_dir(root, "/data")             # the guest sees /data/hello.txt
"""

from __future__ import annotations

import contextlib
import errno as _errno
import itertools
import os
import stat as _stat
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal, Protocol, TypeAlias, TypeGuard, runtime_checkable

__all__ = [
    "NOW",
    "Directory",
    "File",
    "FsError",
    "HostDirectory",
    "HostFile",
    "MemoryDirectory",
    "MemoryFile",
    "NodeStat",
    "OpenRequest",
    "TimeSpec",
    "errno_code",
    "is_directory",
]

#: ``set_times`` argument meaning "the current time".
NOW: Literal["now"] = "now"
#: A new timestamp: ``None`` leaves it unchanged, :data:`NOW`, or nanoseconds since the epoch.
TimeSpec: TypeAlias = "int | Literal['now'] | None"


class FsError(Exception):
    """A filesystem operation failed with ``code``, a ``wasi:filesystem`` ``error-code`` case
    name (``"no-entry"``, ``"not-permitted"``, ...)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


# errno -> wasi:filesystem error-code: the one table (the same mapping as wasmtime's host).
_ERRNO_CODES: dict[int, str] = {
    _errno.EPIPE: "pipe",
    _errno.EPERM: "not-permitted",
    _errno.ENOENT: "no-entry",
    _errno.ENOMEM: "insufficient-memory",
    _errno.EIO: "io",
    _errno.EBADF: "bad-descriptor",
    _errno.EBUSY: "busy",
    _errno.EACCES: "access",
    _errno.ENOTDIR: "not-directory",
    _errno.EISDIR: "is-directory",
    _errno.EINVAL: "invalid",
    _errno.EEXIST: "exist",
    _errno.EFBIG: "file-too-large",
    _errno.ENOSPC: "insufficient-space",
    _errno.ESPIPE: "invalid-seek",
    _errno.EMLINK: "too-many-links",
    _errno.ENAMETOOLONG: "name-too-long",
    _errno.ENOTEMPTY: "not-empty",
    _errno.ELOOP: "loop",
    _errno.EOVERFLOW: "overflow",
    _errno.EILSEQ: "illegal-byte-sequence",
    _errno.EOPNOTSUPP: "unsupported",
    _errno.ENOTSUP: "unsupported",
    _errno.EALREADY: "already",
    _errno.EINPROGRESS: "in-progress",
    _errno.EINTR: "interrupted",
    _errno.EAGAIN: "would-block",
    _errno.EDEADLK: "deadlock",
    _errno.EDQUOT: "quota",
    _errno.EXDEV: "cross-device",
    _errno.ETXTBSY: "text-file-busy",
    _errno.ENXIO: "no-such-device",
    _errno.ENODEV: "no-device",
    _errno.ENOTTY: "no-tty",
    _errno.EMSGSIZE: "message-size",
    _errno.ENOLCK: "no-lock",
    _errno.EROFS: "read-only",
}


def errno_code(e: OSError | int | None) -> str:
    """The ``error-code`` name for an ``OSError`` (or an errno); ``"io"`` when unknown."""
    n = e.errno if isinstance(e, OSError) else e
    return _ERRNO_CODES.get(n, "io") if n is not None else "io"


@contextlib.contextmanager
def _os_errors() -> Iterator[None]:
    """Turn ``OSError`` (and the ``ValueError`` Python raises for a NUL in a name) into
    :class:`FsError`."""
    try:
        yield
    except OSError as e:
        raise FsError(errno_code(e), e.strerror or "") from None
    except ValueError as e:
        raise FsError("invalid", str(e)) from None


@dataclass(frozen=True)
class NodeStat:
    """What ``stat`` reports: ``type`` is a ``descriptor-type`` case name; times in
    nanoseconds since the epoch (``None`` when not kept); ``dev``/``ino`` identify the node
    (``is-same-object``, ``metadata-hash``)."""

    type: str
    link_count: int
    size: int
    atime_ns: int | None
    mtime_ns: int | None
    ctime_ns: int | None
    dev: int
    ino: int


@dataclass(frozen=True)
class OpenRequest:
    """How to open a name (``open-flags`` plus the access mode)."""

    read: bool = True
    write: bool = False
    create: bool = False
    exclusive: bool = False
    truncate: bool = False
    directory: bool = False
    file_sync: bool = False  # a request (O_SYNC), not a requirement
    data_sync: bool = False  # a request (O_DSYNC)


_OPEN_DIR = OpenRequest(directory=True)


@runtime_checkable
class File(Protocol):
    """An open non-directory node. Offsets are explicit: there is no file position."""

    def pread(self, n: int, offset: int) -> bytes:
        """Up to ``n`` bytes at ``offset`` (``b""`` at or past the end)."""
        ...

    def pwrite(self, data: bytes, offset: int) -> int:
        """Write ``data`` at ``offset``; return the count written."""
        ...

    def append(self, data: bytes) -> int:
        """Write ``data`` at the current end of the file; return the count written."""
        ...

    def stat(self) -> NodeStat: ...

    def set_size(self, size: int) -> None: ...

    def set_times(self, atime: TimeSpec, mtime: TimeSpec) -> None: ...

    def sync(self, data_only: bool) -> None: ...

    def advise(self, offset: int, length: int, advice: str) -> None:
        """A hint (``advice`` case name); may do nothing."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Directory(Protocol):
    """An open directory. Every ``name`` is one path component: never empty, never
    containing ``/``; ``"."`` names the directory itself. No operation follows a symlink
    at ``name`` (path resolution, with its sandbox, is done by the caller over
    :meth:`open`, :meth:`lstat` and :meth:`readlink`)."""

    def open(self, name: str, req: OpenRequest) -> Directory | File:
        """Open ``name`` (a directory gives a :class:`Directory`); a symlink at ``name``
        fails with ``loop`` (or ``not-directory`` when ``req.directory``)."""
        ...

    def lstat(self, name: str) -> NodeStat: ...

    def readlink(self, name: str) -> str: ...

    def stat(self) -> NodeStat: ...

    def entries(self) -> Iterable[tuple[str, str]]:
        """``(name, descriptor-type)`` of every entry except ``.`` and ``..``."""
        ...

    def mkdir(self, name: str) -> None: ...

    def rmdir(self, name: str) -> None: ...

    def unlink(self, name: str) -> None: ...

    def symlink(self, target: str, name: str) -> None: ...

    def link(self, name: str, dest: Directory, new_name: str) -> None: ...

    def rename(self, name: str, dest: Directory, new_name: str) -> None: ...

    def set_times(self, name: str, atime: TimeSpec, mtime: TimeSpec) -> None: ...

    def sync(self, data_only: bool) -> None: ...

    def close(self) -> None: ...


# ---------------------------------------------------------------------------------------------
# The host directory: openat-style calls relative to a directory descriptor.

_S_TYPES = (
    (_stat.S_ISDIR, "directory"),
    (_stat.S_ISREG, "regular-file"),
    (_stat.S_ISLNK, "symbolic-link"),
    (_stat.S_ISBLK, "block-device"),
    (_stat.S_ISCHR, "character-device"),
    (_stat.S_ISFIFO, "fifo"),
    (_stat.S_ISSOCK, "socket"),
)


def _stat_type(mode: int) -> str:
    for test, name in _S_TYPES:
        if test(mode):
            return name
    return "unknown"


def _dirent_type(e: os.DirEntry[str]) -> str:
    """An entry's type from ``readdir``'s ``d_type`` where it tells (no ``stat`` call)."""
    if e.is_symlink():
        return "symbolic-link"
    if e.is_dir(follow_symlinks=False):
        return "directory"
    if e.is_file(follow_symlinks=False):
        return "regular-file"
    return _stat_type(e.stat(follow_symlinks=False).st_mode)


def _node_stat(st: os.stat_result) -> NodeStat:
    return NodeStat(
        _stat_type(st.st_mode),
        st.st_nlink,
        st.st_size,
        st.st_atime_ns,
        st.st_mtime_ns,
        st.st_ctime_ns,
        st.st_dev,
        st.st_ino,
    )


def _times(old: NodeStat, atime: TimeSpec, mtime: TimeSpec) -> tuple[int, int]:
    """Absolute ``(atime, mtime)`` ns for ``os.utime``, filling "no change" from ``old``."""
    now = time.time_ns()

    def pick(spec: TimeSpec, cur: int | None) -> int:
        if spec is None:
            return cur if cur is not None else now
        return now if spec == NOW else int(spec)

    return pick(atime, old.atime_ns), pick(mtime, old.mtime_ns)


_ADVICE = {
    "normal": getattr(os, "POSIX_FADV_NORMAL", None),
    "sequential": getattr(os, "POSIX_FADV_SEQUENTIAL", None),
    "random": getattr(os, "POSIX_FADV_RANDOM", None),
    "will-need": getattr(os, "POSIX_FADV_WILLNEED", None),
    "dont-need": getattr(os, "POSIX_FADV_DONTNEED", None),
    "no-reuse": getattr(os, "POSIX_FADV_NOREUSE", None),
}


class _HostFd:
    """Owns a host file descriptor (closed by :meth:`close` or when collected)."""

    __slots__ = ("fd",)

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def stat(self) -> NodeStat:
        with _os_errors():
            return _node_stat(os.fstat(self.fd))

    def sync(self, data_only: bool) -> None:
        with _os_errors():
            (os.fdatasync if data_only else os.fsync)(self.fd)

    def close(self) -> None:
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)

    def __del__(self) -> None:
        with contextlib.suppress(OSError):
            self.close()


class HostFile(_HostFd):
    """A host file opened through a :class:`HostDirectory`."""

    __slots__ = ()

    def pread(self, n: int, offset: int) -> bytes:
        with _os_errors():
            return os.pread(self.fd, n, offset)

    def pwrite(self, data: bytes, offset: int) -> int:
        with _os_errors():
            return os.pwrite(self.fd, data, offset)

    def append(self, data: bytes) -> int:
        with _os_errors():
            flag = getattr(os, "RWF_APPEND", None)
            if flag is not None:
                try:
                    return os.pwritev(self.fd, [data], 0, flag)
                except OSError as e:
                    if e.errno not in (_errno.EOPNOTSUPP, _errno.EINVAL, _errno.ENOSYS):
                        raise
            return os.pwrite(self.fd, data, os.fstat(self.fd).st_size)

    def set_size(self, size: int) -> None:
        with _os_errors():
            os.ftruncate(self.fd, size)

    def set_times(self, atime: TimeSpec, mtime: TimeSpec) -> None:
        with _os_errors():
            os.utime(self.fd, ns=_times(self.stat(), atime, mtime))

    def advise(self, offset: int, length: int, advice: str) -> None:
        code = _ADVICE.get(advice)
        if code is not None:
            with _os_errors():
                os.posix_fadvise(self.fd, offset, length, code)


class HostDirectory(_HostFd):
    """A host directory, every operation relative to its descriptor with ``dir_fd`` and no
    symlink following. ``HostDirectory.open_path(path)`` opens a preopen's root."""

    __slots__ = ()

    @classmethod
    def open_path(cls, path: str | os.PathLike[str]) -> HostDirectory:
        """Open the host directory ``path`` (the host's own path, resolved normally)."""
        try:
            fd = os.open(os.fspath(path), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as e:
            raise ValueError(f"`preopen_dir` cannot open {os.fspath(path)!r}: {e.strerror}") from None
        return cls(fd)

    def open(self, name: str, req: OpenRequest) -> Directory | File:
        flags = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK
        if req.write:
            flags |= os.O_RDWR if req.read else os.O_WRONLY
        if req.create:
            flags |= os.O_CREAT | (os.O_EXCL if req.exclusive else 0)
        if req.truncate:
            flags |= os.O_TRUNC
        if req.directory:
            flags |= os.O_DIRECTORY
        if req.file_sync:
            flags |= os.O_SYNC
        elif req.data_sync:
            flags |= getattr(os, "O_DSYNC", os.O_SYNC)
        with _os_errors():
            fd = os.open(name, flags, 0o666, dir_fd=self.fd)
            try:
                st = os.fstat(fd)
            except OSError:
                os.close(fd)
                raise
        if _stat.S_ISDIR(st.st_mode):
            return HostDirectory(fd)
        if _stat.S_ISREG(st.st_mode):
            os.set_blocking(fd, True)
        return HostFile(fd)

    def lstat(self, name: str) -> NodeStat:
        with _os_errors():
            return _node_stat(os.stat(name, dir_fd=self.fd, follow_symlinks=False))

    def readlink(self, name: str) -> str:
        with _os_errors():
            return os.readlink(name, dir_fd=self.fd)

    def entries(self) -> Iterator[tuple[str, str]]:
        """Read lazily, so a huge directory costs the host one entry at a time. Each listing
        reads its own fresh open of the directory (a ``dup`` would share the read position,
        and the WIT says streams on one directory do not interfere)."""
        with _os_errors():
            fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=self.fd)
            try:
                it = os.scandir(fd)  # reads a dup of fd
            finally:
                os.close(fd)
        return self._entries(it)

    @staticmethod
    def _entries(it: Iterator[os.DirEntry[str]]) -> Iterator[tuple[str, str]]:
        with it:  # type: ignore[attr-defined]
            while True:
                with _os_errors():
                    e = next(it, None)
                    if e is None:
                        return
                    kind = _dirent_type(e)
                yield e.name, kind

    def mkdir(self, name: str) -> None:
        with _os_errors():
            os.mkdir(name, 0o777, dir_fd=self.fd)

    def rmdir(self, name: str) -> None:
        with _os_errors():
            os.rmdir(name, dir_fd=self.fd)

    def unlink(self, name: str) -> None:
        with _os_errors():
            os.unlink(name, dir_fd=self.fd)

    def symlink(self, target: str, name: str) -> None:
        with _os_errors():
            os.symlink(target, name, dir_fd=self.fd)

    def _peer(self, dest: Directory) -> int:
        if not isinstance(dest, HostDirectory):
            raise FsError("cross-device", "the destination is not a host directory")
        return dest.fd

    def link(self, name: str, dest: Directory, new_name: str) -> None:
        peer = self._peer(dest)
        with _os_errors():
            os.link(name, new_name, src_dir_fd=self.fd, dst_dir_fd=peer, follow_symlinks=False)

    def rename(self, name: str, dest: Directory, new_name: str) -> None:
        peer = self._peer(dest)
        with _os_errors():
            os.rename(name, new_name, src_dir_fd=self.fd, dst_dir_fd=peer)

    def set_times(self, name: str, atime: TimeSpec, mtime: TimeSpec) -> None:
        with _os_errors():
            ns = _times(self.lstat(name), atime, mtime)
            os.utime(name, ns=ns, dir_fd=self.fd, follow_symlinks=False)


# ---------------------------------------------------------------------------------------------
# The in-memory filesystem.

_INODES = itertools.count(1)
_MEM_DEV = 0x6D656D  # "mem": one device for every in-memory tree

#: The longest name an in-memory directory holds, in UTF-8 bytes (Linux's NAME_MAX).
NAME_MAX = 255


def _check_length(name: str) -> None:
    if len(name.encode("utf-8", "surrogateescape")) > NAME_MAX:
        raise FsError("name-too-long", f"a name of more than {NAME_MAX} bytes")


class _MemNode:
    __slots__ = ("atime", "ctime", "ino", "mtime", "nlink")

    def __init__(self) -> None:
        self.ino = next(_INODES)
        self.atime = self.mtime = self.ctime = time.time_ns()
        self.nlink = 1

    def _type(self) -> str:
        raise NotImplementedError

    def _size(self) -> int:
        return 0

    def stat(self) -> NodeStat:
        return NodeStat(
            self._type(), self.nlink, self._size(), self.atime, self.mtime, self.ctime,
            _MEM_DEV, self.ino,
        )  # fmt: skip

    def touch(self, atime: TimeSpec, mtime: TimeSpec) -> None:
        self.atime, self.mtime = _times(self.stat(), atime, mtime)
        self.ctime = time.time_ns()

    def sync(self, data_only: bool) -> None:
        return None

    def close(self) -> None:
        return None


class _MemSymlink(_MemNode):
    __slots__ = ("target",)

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    def _type(self) -> str:
        return "symbolic-link"

    def _size(self) -> int:
        return len(self.target.encode())


class MemoryFile(_MemNode):
    """A regular file held in a ``bytearray`` (``data``)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes = b"") -> None:
        super().__init__()
        self.data = bytearray(data)

    def _type(self) -> str:
        return "regular-file"

    def _size(self) -> int:
        return len(self.data)

    def pread(self, n: int, offset: int) -> bytes:
        return bytes(self.data[offset : offset + n])

    def pwrite(self, data: bytes, offset: int) -> int:
        end = offset + len(data)
        if offset > len(self.data):
            self.data.extend(bytes(offset - len(self.data)))
        self.data[offset:end] = data
        self.mtime = self.ctime = time.time_ns()
        return len(data)

    def append(self, data: bytes) -> int:
        return self.pwrite(data, len(self.data))

    def set_size(self, size: int) -> None:
        if size < len(self.data):
            del self.data[size:]
        else:
            self.data.extend(bytes(size - len(self.data)))
        self.mtime = self.ctime = time.time_ns()

    def set_times(self, atime: TimeSpec, mtime: TimeSpec) -> None:
        self.touch(atime, mtime)

    def advise(self, offset: int, length: int, advice: str) -> None:
        return None


class MemoryDirectory(_MemNode):
    """A directory held in a ``dict`` of children; usable as a preopen and from Python
    (:meth:`write_file`, :meth:`read_file`, :meth:`make_dirs`, :meth:`add_symlink`)."""

    __slots__ = ("children", "parent")

    def __init__(self) -> None:
        super().__init__()
        self.children: dict[str, _MemNode] = {}
        self.parent: MemoryDirectory | None = None
        self.nlink = 2

    def _type(self) -> str:
        return "directory"

    def _size(self) -> int:
        return len(self.children)

    # -- Python-side helpers (paths with "/", no sandbox: this is the host's own tree) --

    def make_dirs(self, path: str) -> MemoryDirectory:
        """The directory at ``path`` below this one, created as needed."""
        d = self
        for part in (p for p in path.split("/") if p):
            child = d.children.get(part)
            if child is None:
                d.mkdir(part)
                child = d.children[part]
            if not isinstance(child, MemoryDirectory):
                raise FsError("not-directory", part)
            d = child
        return d

    def _split(self, path: str) -> tuple[MemoryDirectory, str]:
        head, _, name = path.rstrip("/").rpartition("/")
        return self.make_dirs(head), name

    def write_file(self, path: str, data: bytes) -> MemoryFile:
        """Create or replace the file at ``path`` with ``data``."""
        d, name = self._split(path)
        f = MemoryFile(data)
        d._attach(name, f)
        return f

    def read_file(self, path: str) -> bytes:
        """The contents of the file at ``path``."""
        d, name = self._split(path)
        node = d.children.get(name)
        if not isinstance(node, MemoryFile):
            raise FsError("no-entry", path)
        return bytes(node.data)

    def add_symlink(self, path: str, target: str) -> None:
        """Create a symlink at ``path`` whose text is ``target``."""
        d, name = self._split(path)
        d.symlink(target, name)

    # -- the Directory protocol --

    def _get(self, name: str) -> _MemNode:
        if name == ".":
            return self
        if name == "..":
            raise FsError("invalid", "`..` is resolved by the caller")
        node = self.children.get(name)
        if node is None:
            _check_length(name)
            raise FsError("no-entry", name)
        return node

    def _attach(self, name: str, node: _MemNode) -> None:
        old = self.children.get(name)
        if isinstance(old, MemoryDirectory):
            self.nlink -= 1
        if old is not None:
            old.nlink -= 1
        self.children[name] = node
        if isinstance(node, MemoryDirectory):
            node.parent = self
            self.nlink += 1
        self.mtime = self.ctime = time.time_ns()

    def _detach(self, name: str) -> _MemNode:
        node = self.children.pop(name)
        if isinstance(node, MemoryDirectory):
            self.nlink -= 1
            node.parent = None
        self.mtime = self.ctime = time.time_ns()
        return node

    def _new_name(self, name: str) -> None:
        if name in (".", ".."):
            raise FsError("exist", name)
        if "/" in name or "\0" in name or not name:
            raise FsError("invalid", repr(name))
        if name in self.children:
            raise FsError("exist", name)
        _check_length(name)

    def open(self, name: str, req: OpenRequest) -> Directory | File:
        node = self.children.get(name) if name != "." else self
        if node is None:
            if not req.create:
                _check_length(name)
                raise FsError("no-entry", name)
            if req.directory:
                raise FsError("invalid", "`create` with `directory`")
            self._new_name(name)
            node = MemoryFile()
            self._attach(name, node)
            return _MemoryFileHandle(node, req.read, req.write)
        if req.create and req.exclusive:
            raise FsError("exist", name)
        if isinstance(node, _MemSymlink):
            raise FsError("not-directory" if req.directory else "loop", name)
        if isinstance(node, MemoryDirectory):
            if req.write:
                raise FsError("is-directory", name)
            return node
        if req.directory:
            raise FsError("not-directory", name)
        assert isinstance(node, MemoryFile)
        if req.truncate:
            node.set_size(0)
        return _MemoryFileHandle(node, req.read, req.write)

    def lstat(self, name: str) -> NodeStat:
        return self._get(name).stat()

    def readlink(self, name: str) -> str:
        node = self._get(name)
        if not isinstance(node, _MemSymlink):
            raise FsError("invalid", f"{name!r} is not a symlink")
        return node.target

    def entries(self) -> list[tuple[str, str]]:
        return [(n, c._type()) for n, c in self.children.items()]

    def mkdir(self, name: str) -> None:
        self._new_name(name)
        self._attach(name, MemoryDirectory())

    def rmdir(self, name: str) -> None:
        if name == ".":
            raise FsError("invalid", name)
        node = self._get(name)
        if not isinstance(node, MemoryDirectory):
            raise FsError("not-directory", name)
        if node.children:
            raise FsError("not-empty", name)
        self._detach(name)
        node.nlink = 0

    def unlink(self, name: str) -> None:
        node = self._get(name)
        if isinstance(node, MemoryDirectory):
            raise FsError("is-directory", name)
        self._detach(name)
        node.nlink -= 1

    def symlink(self, target: str, name: str) -> None:
        self._new_name(name)
        if "\0" in target:
            raise FsError("invalid", "NUL in the target")
        if not target:
            raise FsError("no-entry", "an empty target")  # as Linux's symlinkat
        self._attach(name, _MemSymlink(target))

    def _peer(self, dest: Directory) -> MemoryDirectory:
        if not isinstance(dest, MemoryDirectory):
            raise FsError("cross-device", "the destination is not an in-memory directory")
        return dest

    def link(self, name: str, dest: Directory, new_name: str) -> None:
        peer = self._peer(dest)
        node = self._get(name)
        if isinstance(node, MemoryDirectory):
            raise FsError("not-permitted", "hard links to directories")
        peer._new_name(new_name)
        peer._attach(new_name, node)
        node.nlink += 1

    def rename(self, name: str, dest: Directory, new_name: str) -> None:
        peer = self._peer(dest)
        if name in (".", "..") or new_name in (".", ".."):
            # Linux: renaming "." (or onto ".") is EBUSY, ".." EINVAL
            raise FsError("busy" if "." in (name, new_name) else "invalid", name)
        node = self._get(name)
        old = peer.children.get(new_name)
        if old is node:
            return
        if isinstance(node, MemoryDirectory):
            anc: MemoryDirectory | None = peer
            while anc is not None:  # a directory cannot move below itself
                if anc is node:
                    raise FsError("invalid", f"{name!r} into its own subdirectory")
                anc = anc.parent
            if old is not None and not isinstance(old, MemoryDirectory):
                raise FsError("not-directory", new_name)
            if isinstance(old, MemoryDirectory) and old.children:
                raise FsError("not-empty", new_name)
        elif isinstance(old, MemoryDirectory):
            raise FsError("is-directory", new_name)
        self._detach(name)
        peer._attach(new_name, node)

    def set_times(self, name: str, atime: TimeSpec, mtime: TimeSpec) -> None:
        self._get(name).touch(atime, mtime)


class _MemoryFileHandle:
    """A :class:`MemoryFile` opened with an access mode (enforced as the OS would)."""

    __slots__ = ("file", "read", "write")

    def __init__(self, file: MemoryFile, read: bool, write: bool) -> None:
        self.file, self.read, self.write = file, read, write

    def pread(self, n: int, offset: int) -> bytes:
        if not self.read:
            raise FsError("bad-descriptor", "not open for reading")
        return self.file.pread(n, offset)

    def pwrite(self, data: bytes, offset: int) -> int:
        if not self.write:
            raise FsError("bad-descriptor", "not open for writing")
        return self.file.pwrite(data, offset)

    def append(self, data: bytes) -> int:
        if not self.write:
            raise FsError("bad-descriptor", "not open for writing")
        return self.file.append(data)

    def stat(self) -> NodeStat:
        return self.file.stat()

    def set_size(self, size: int) -> None:
        if not self.write:
            raise FsError("invalid", "not open for writing")
        self.file.set_size(size)

    def set_times(self, atime: TimeSpec, mtime: TimeSpec) -> None:
        self.file.touch(atime, mtime)

    def sync(self, data_only: bool) -> None:
        return None

    def advise(self, offset: int, length: int, advice: str) -> None:
        return None

    def close(self) -> None:
        return None


_IS_DIR: dict[type, bool] = {}


def is_directory(node: Directory | File) -> TypeGuard[Directory]:
    """Whether ``node`` implements :class:`Directory` (decided once per class: a
    ``runtime_checkable`` ``isinstance`` costs tens of microseconds)."""
    cls = node.__class__
    known = _IS_DIR.get(cls)
    if known is None:
        known = _IS_DIR[cls] = isinstance(node, Directory)
    return known


def open_child_dir(d: Directory, name: str) -> Directory:
    """Open ``name`` in ``d`` as a directory (symlinks not followed)."""
    child = d.open(name, _OPEN_DIR)
    if not is_directory(child):
        child.close()
        raise FsError("not-directory", name)
    return child
