"""``wasi:filesystem`` (``types`` and ``preopens``): descriptors over sandboxed directories.

Why this module exists: it is the host side of WASI 0.2's filesystem. Every descriptor the
guest holds wraps a :class:`~.vfs.Directory` or :class:`~.vfs.File` (the host's through
``openat``-style calls, or an in-memory tree, or any user object implementing the
Protocol) together with the permissions of the preopen it came from; every ``*-at``
function resolves its path with :func:`~._sandbox.resolve`, which cannot leave the base
directory. Permissions are wasmtime's: a preopen has directory permissions
(:class:`DirPerms`: read, mutate) and the file permissions (:class:`FilePerms`: read,
write) every file opened below it gets; a read-only preopen has ``READ`` of both. Where the
WIT says more than wasmtime does, the WIT decides: a directory that may not be mutated lacks
``mutate-directory`` and every mutation through it fails with ``read-only`` (wasmtime:
``not-permitted``); the ``*-sync`` descriptor flags are requests, honoured with
``O_SYNC``/``O_DSYNC`` (wasmtime: ``unsupported``).

Example::

    config = WasiConfig()
    config.preopen_dir("/srv/data", "/data", readonly=True)
    config.preopen_dir(MemoryDirectory(), "/tmp")     # any vfs.Directory is a preopen
    store.set_wasi(config)
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from ..bindgen.rt import ErrorResult
from ..resources import Resource
from ..values import Ok
from ._bindings.imports import wasi_filesystem_preopens as _b_preopens
from ._bindings.imports import wasi_filesystem_types as _b_types
from ._bindings.imports import wasi_io_streams as _b_streams
from ._bindings.imports.wasi_clocks_wall_clock import Datetime
from ._bindings.imports.wasi_filesystem_types import (
    Advice,
    DescriptorFlags,
    DescriptorStat,
    DescriptorType,
    DirectoryEntry,
    ErrorCode,
    MetadataHashValue,
    NewTimestamp,
    NewTimestampNoChange,
    NewTimestampNow,
    OpenFlags,
    PathFlags,
)
from ._sandbox import resolve
from .io import (
    STREAM_READ_CHUNK,
    InputStream,
    IoError,
    OutputStream,
    StreamClosed,
    StreamFailed,
)
from .vfs import (
    NOW,
    Directory,
    File,
    FsError,
    HostDirectory,
    NodeStat,
    OpenRequest,
    TimeSpec,
    errno_code,
    is_directory,
)

if TYPE_CHECKING:
    from .ctx import WasiCtx

__all__ = [
    "Descriptor",
    "DirPerms",
    "FileInputStream",
    "FileOutputStream",
    "FilePerms",
    "FsIoError",
    "Mount",
    "PreopensHost",
    "TypesHost",
    "error_code_name",
    "read_stream",
    "write_stream",
]

P = ParamSpec("P")
R = TypeVar("R")


class DirPerms(enum.Flag):
    """What a guest may do with a preopened directory and the directories below it."""

    READ = 1  # list entries, open files, stat, readlink
    MUTATE = 2  # create, remove, rename, link, set times


class FilePerms(enum.Flag):
    """What a guest may do with files opened below a preopen."""

    READ = 1
    WRITE = 2


@dataclass(frozen=True)
class Mount:
    """A preopen as the host holds it: the opened directory, where the guest sees it, and
    its permissions (a read-only preopen has ``READ`` of both, as in wasmtime)."""

    directory: Directory
    guest_path: str
    dir_perms: DirPerms = DirPerms.READ | DirPerms.MUTATE
    file_perms: FilePerms = FilePerms.READ | FilePerms.WRITE


class FsIoError(IoError):
    """A ``wasi:io/error.error`` from a file stream, carrying the ``error-code`` name that
    ``filesystem-error-code`` reports (also for in-memory files, which have no errno)."""

    __slots__ = ("code",)

    def __init__(self, e: FsError) -> None:
        super().__init__(str(e))
        self.code = e.code


def _fs_errors(f: Callable[P, R]) -> Callable[P, R]:
    """Host method wrapper: an :class:`FsError` becomes ``err(error-code)``."""

    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return f(*args, **kwargs)
        except FsError as e:
            raise ErrorResult(ErrorCode(e.code)) from None

    wrapper.__name__ = f.__name__
    wrapper.__doc__ = f.__doc__
    return wrapper


def _deny(need: DirPerms | FilePerms) -> FsError:
    """The error for a missing permission. A directory that may not be mutated is one
    without ``mutate-directory``, and the WIT says what then fails: "operations ... which
    would create, rename, delete, modify ... shall fail with `error-code::read-only`"
    (wasmtime says ``not-permitted``). The other permissions are wasmtime's own
    (``DirPerms.READ``, ``FilePerms``), with its ``not-permitted``."""
    return FsError("read-only" if need is DirPerms.MUTATE else "not-permitted")


_NO_FLAGS = DescriptorFlags(0)


class Descriptor:
    """What a ``descriptor`` handle refers to: a directory or file, its preopen's
    permissions, and the mode it was opened with (``get-flags``)."""

    __slots__ = ("dir_perms", "file_perms", "is_dir", "mode_read", "mode_write", "node",
                 "sync_flags")

    def __init__(self, node: Directory | File, dir_perms: DirPerms, file_perms: FilePerms,
                 mode_read: bool, mode_write: bool,
                 sync_flags: DescriptorFlags = _NO_FLAGS) -> None:  # fmt: skip
        self.node = node
        self.is_dir = is_directory(node)
        self.dir_perms = dir_perms
        self.file_perms = file_perms
        self.mode_read = mode_read
        self.mode_write = mode_write
        self.sync_flags = sync_flags

    def dir(self, need: DirPerms | None = None) -> Directory:
        """The directory (``not-directory`` for a file), checking ``need``."""
        node = self.node
        if not self.is_dir:
            raise FsError("not-directory")
        if need is not None and need not in self.dir_perms:
            raise _deny(need)
        return node  # type: ignore[return-value]

    def file(self, need: FilePerms | None = None, denied: str = "not-permitted") -> File:
        """The file (``bad-descriptor`` for a directory), checking ``need``."""
        node = self.node
        if self.is_dir:
            raise FsError("bad-descriptor")
        if need is not None and need not in self.file_perms:
            raise FsError(denied)
        return node  # type: ignore[return-value]


def _datetime(ns: int | None) -> Datetime | None:
    return None if ns is None else Datetime(ns // 1_000_000_000, ns % 1_000_000_000)


_TYPES = {t.value: t for t in DescriptorType}


def _stat(st: NodeStat) -> DescriptorStat:
    return DescriptorStat(
        _TYPES.get(st.type, DescriptorType.UNKNOWN), st.link_count, st.size,
        _datetime(st.atime_ns), _datetime(st.mtime_ns), _datetime(st.ctime_ns),
    )  # fmt: skip


def _timespec(t: NewTimestamp) -> TimeSpec:
    if isinstance(t, NewTimestampNoChange):
        return None
    if isinstance(t, NewTimestampNow):
        return NOW
    v = t.value
    if v.nanoseconds >= 1_000_000_000:
        raise FsError("invalid", "nanoseconds out of range")
    return v.seconds * 1_000_000_000 + v.nanoseconds


def _hash(st: NodeStat) -> MetadataHashValue:
    h = hashlib.blake2b(f"{st.dev}:{st.ino}".encode(), digest_size=16).digest()
    return MetadataHashValue(int.from_bytes(h[:8], "little"), int.from_bytes(h[8:], "little"))


def _usv(name: str) -> str:
    """``name`` if it can cross to the guest (a host name that is not UTF-8 decodes with
    surrogate escapes): else ``illegal-byte-sequence``, as wasmtime."""
    try:
        name.encode()
    except UnicodeEncodeError:
        raise FsError("illegal-byte-sequence", "a name that is not UTF-8") from None
    return name


def _new_non_directory(d: Directory, name: str, path: str) -> None:
    """A symlink or hard link cannot be created as ``name/`` (POSIX: ``no-entry``, or
    ``exist`` when something is there already, which the operation itself reports)."""
    if path.endswith("/"):
        try:
            d.lstat(name)
        except FsError as e:
            if e.code == "no-entry":
                raise FsError("no-entry", "a new link's name ends in `/`") from None
            raise


def _follow(flags: PathFlags) -> bool:
    return PathFlags.SYMLINK_FOLLOW in flags


# -- streams ------------------------------------------------------------------------------------


#: The most one stream read of a file returns: the one cap of every stream (see there why).
FILE_STREAM_CHUNK = STREAM_READ_CHUNK


class FileInputStream(InputStream):
    """``read-via-stream``: reads from ``offset`` on; each read at most
    :data:`FILE_STREAM_CHUNK` and the context's ``max_read_chunk``."""

    __slots__ = ("_chunk", "_file", "_pos")

    def __init__(self, file: File, offset: int, chunk: int) -> None:
        self._file = file
        self._pos = offset
        self._chunk = min(chunk, FILE_STREAM_CHUNK)

    def read(self, n: int) -> bytes:
        if n <= 0:
            return b""
        try:
            data = self._file.pread(min(n, self._chunk), self._pos)
        except FsError as e:
            raise StreamFailed(FsIoError(e)) from None
        if not data:
            raise StreamClosed
        self._pos += len(data)
        return data

    def blocking_read(self, n: int) -> bytes:  # a file is always ready
        return self.read(n)


class FileOutputStream(OutputStream):
    """``write-via-stream`` (from ``offset``) and ``append-via-stream`` (``offset`` None).
    Writes complete before returning, so a stream is always ready; an error is reported by
    the call that met it and the stream is closed after it."""

    __slots__ = ("_file", "_pos", "_state")

    def __init__(self, file: File, offset: int | None) -> None:
        self._file = file
        self._pos = offset
        self._state: FsIoError | bool = True  # True ready, False closed, or the error

    def _check(self) -> None:
        s = self._state
        if s is not True:
            if s is False:
                raise StreamClosed
            self._state = False
            raise StreamFailed(s)

    def check_write(self) -> int:
        self._check()
        return super().check_write()

    def write(self, data: bytes) -> None:
        self._check()
        f = self._file
        try:
            done, pos = 0, self._pos
            while done < len(data):  # short writes: carry on
                rest = data[done:] if done else data
                n = f.append(rest) if pos is None else f.pwrite(rest, pos + done)
                if n <= 0:
                    raise FsError("io", "the file accepted no bytes")
                done += n
            if pos is not None:
                self._pos = pos + done
        except FsError as e:
            self._state = False
            raise StreamFailed(FsIoError(e)) from None

    def flush(self) -> None:
        self._check()

    def blocking_write_and_flush(self, data: bytes) -> None:
        self.write(data)


def read_stream(ctx: WasiCtx, r: Resource[Any], offset: int) -> FileInputStream:
    """A stream reading descriptor ``r``'s file from ``offset`` (``read-via-stream``; the
    same in 0.2 and 0.3): ``bad-descriptor`` unless it is a file opened for reading."""
    f = ctx.get(r, Descriptor).file(FilePerms.READ, "bad-descriptor")
    return FileInputStream(f, offset, ctx.max_read_chunk)


def write_stream(ctx: WasiCtx, r: Resource[Any], offset: int | None) -> FileOutputStream:
    """A stream writing descriptor ``r``'s file from ``offset``, or appending (``None``)."""
    # A file below a read-only preopen: `not-permitted`, as `write` and `set-size` (and as
    # wasmtime 49, where the preview1 adapter's fd_write then says EPERM).
    f = ctx.get(r, Descriptor).file(FilePerms.WRITE)
    return FileOutputStream(f, offset)


# -- wasi:filesystem/types ----------------------------------------------------------------------


class _DescriptorHost:
    """``[method]descriptor.*``."""

    def __init__(self, ctx: WasiCtx) -> None:
        self._ctx = ctx

    def _d(self, r: Resource[Any]) -> Descriptor:
        return self._ctx.get(r, Descriptor)

    def _push(self, value: Any, rt: Any) -> Resource[Any]:
        return self._ctx.push(value, rt)

    @_fs_errors
    def read_via_stream(self, self_: Resource[Any], offset: int) -> Ok[Resource[Any]]:
        stream = read_stream(self._ctx, self_, offset)
        return Ok(self._push(stream, _b_streams._RT_InputStream))

    @_fs_errors
    def write_via_stream(self, self_: Resource[Any], offset: int) -> Ok[Resource[Any]]:
        stream = write_stream(self._ctx, self_, offset)
        return Ok(self._push(stream, _b_streams._RT_OutputStream))

    @_fs_errors
    def append_via_stream(self, self_: Resource[Any]) -> Ok[Resource[Any]]:
        stream = write_stream(self._ctx, self_, None)
        return Ok(self._push(stream, _b_streams._RT_OutputStream))

    @_fs_errors
    def advise(self, self_: Resource[Any], offset: int, length: int, advice: Advice) -> Ok[None]:
        self._d(self_).file().advise(offset, length, advice.value)
        return Ok(None)

    def _sync(self, r: Resource[Any], data_only: bool) -> Ok[None]:
        self._d(r).node.sync(data_only)
        return Ok(None)

    @_fs_errors
    def sync_data(self, self_: Resource[Any]) -> Ok[None]:
        return self._sync(self_, True)

    @_fs_errors
    def sync(self, self_: Resource[Any]) -> Ok[None]:
        return self._sync(self_, False)

    @_fs_errors
    def get_flags(self, self_: Resource[Any]) -> Ok[DescriptorFlags]:
        d = self._d(self_)
        flags = d.sync_flags
        if d.mode_read:
            flags |= DescriptorFlags.READ
        if d.is_dir:
            # `mutate-directory` when the preopen may be mutated and this descriptor is the
            # preopen or was opened asking for it (a directory opened with no flags is `read`
            # alone, as wasmtime and wasi-testsuite's filesystem-flags-and-type say).
            # What the descriptor may do is its preopen's permissions, inherited (as wasmtime:
            # the preview1 adapter never asks for `mutate-directory`, and POSIX programs
            # create files through the directories they open).
            if d.mode_write and DirPerms.MUTATE in d.dir_perms:
                flags |= DescriptorFlags.MUTATE_DIRECTORY
        elif d.mode_write:
            flags |= DescriptorFlags.WRITE
        return Ok(flags)

    @_fs_errors
    def get_type(self, self_: Resource[Any]) -> Ok[DescriptorType]:
        d = self._d(self_)
        if d.is_dir:
            return Ok(DescriptorType.DIRECTORY)
        return Ok(_stat(d.node.stat()).type)

    @_fs_errors
    def set_size(self, self_: Resource[Any], size: int) -> Ok[None]:
        self._d(self_).file(FilePerms.WRITE).set_size(size)
        return Ok(None)

    @_fs_errors
    def set_times(self, self_: Resource[Any], data_access_timestamp: NewTimestamp,
                  data_modification_timestamp: NewTimestamp) -> Ok[None]:  # fmt: skip
        d = self._d(self_)
        atime, mtime = _timespec(data_access_timestamp), _timespec(data_modification_timestamp)
        if d.is_dir:
            d.dir(DirPerms.MUTATE).set_times(".", atime, mtime)
        else:
            d.file(FilePerms.WRITE).set_times(atime, mtime)
        return Ok(None)

    @_fs_errors
    def read(self, self_: Resource[Any], length: int, offset: int) -> Ok[tuple[bytes, bool]]:
        f = self._d(self_).file(FilePerms.READ)
        data = f.pread(min(length, self._ctx.max_read_chunk), offset)
        return Ok((data, not data and length > 0))

    @_fs_errors
    def write(self, self_: Resource[Any], buffer: bytes, offset: int) -> Ok[int]:
        return Ok(self._d(self_).file(FilePerms.WRITE).pwrite(buffer, offset))

    @_fs_errors
    def read_directory(self, self_: Resource[Any]) -> Ok[Resource[Any]]:
        stream = _EntryStream(iter(self._d(self_).dir(DirPerms.READ).entries()))
        return Ok(self._push(stream, _b_types._RT_DirectoryEntryStream))

    def _change_at(self, r: Resource[Any], path: str, op: Callable[[Directory, str], None],
                   slash_link: str | None = None) -> Ok[None]:  # fmt: skip
        """``op(directory, name)`` on ``path`` below descriptor ``r`` (which may mutate);
        ``slash_link`` as :func:`~._sandbox.resolve`'s."""
        with resolve(self._d(r).dir(DirPerms.MUTATE), path, follow=False,
                     slash_link=slash_link) as (d, name):
            op(d, name)
        return Ok(None)

    @_fs_errors
    def create_directory_at(self, self_: Resource[Any], path: str) -> Ok[None]:
        return self._change_at(self_, path, lambda d, name: d.mkdir(name), "exist")

    @_fs_errors
    def stat(self, self_: Resource[Any]) -> Ok[DescriptorStat]:
        return Ok(_stat(self._d(self_).node.stat()))

    @_fs_errors
    def stat_at(self, self_: Resource[Any], path_flags: PathFlags, path: str
                ) -> Ok[DescriptorStat]:  # fmt: skip
        base = self._d(self_).dir(DirPerms.READ)
        with resolve(base, path, follow=_follow(path_flags)) as (d, name):
            return Ok(_stat(d.lstat(name)))

    @_fs_errors
    def set_times_at(self, self_: Resource[Any], path_flags: PathFlags, path: str,
                     data_access_timestamp: NewTimestamp,
                     data_modification_timestamp: NewTimestamp) -> Ok[None]:  # fmt: skip
        base = self._d(self_).dir(DirPerms.MUTATE)
        atime, mtime = _timespec(data_access_timestamp), _timespec(data_modification_timestamp)
        with resolve(base, path, follow=_follow(path_flags)) as (d, name):
            d.set_times(name, atime, mtime)
        return Ok(None)

    @_fs_errors
    def link_at(self, self_: Resource[Any], old_path_flags: PathFlags, old_path: str,
                new_descriptor: Resource[Any], new_path: str) -> Ok[None]:  # fmt: skip
        old_base = self._d(self_).dir(DirPerms.MUTATE)
        new_base = self._d(new_descriptor).dir(DirPerms.MUTATE)
        if _follow(old_path_flags):
            raise FsError("invalid", "`link-at` does not follow symlinks")
        with resolve(old_base, old_path, follow=False) as (od, oname), \
                resolve(new_base, new_path, follow=False, slash_link="exist") as (nd, nname):
            _new_non_directory(nd, nname, new_path)
            od.link(oname, nd, nname)
        return Ok(None)

    @_fs_errors
    def open_at(self, self_: Resource[Any], path_flags: PathFlags, path: str,
                open_flags: OpenFlags, flags: DescriptorFlags) -> Ok[Resource[Any]]:  # fmt: skip
        desc = self._d(self_)
        base = desc.dir(DirPerms.READ)
        create = OpenFlags.CREATE in open_flags
        truncate = OpenFlags.TRUNCATE in open_flags
        want_write = DescriptorFlags.WRITE in flags
        mutating = create or truncate or want_write or DescriptorFlags.MUTATE_DIRECTORY in flags
        if mutating and DirPerms.MUTATE not in desc.dir_perms:
            raise _deny(DirPerms.MUTATE)  # the WIT: `read-only`
        # The sync flags are "a request, and not a requirement" (the WIT): passed on to the
        # host's open (O_SYNC, O_DSYNC) and reported back by `get-flags`.
        sync = flags & (DescriptorFlags.FILE_INTEGRITY_SYNC | DescriptorFlags.DATA_INTEGRITY_SYNC
                        | DescriptorFlags.REQUESTED_WRITE_SYNC)  # fmt: skip
        directory = OpenFlags.DIRECTORY in open_flags
        exclusive = OpenFlags.EXCLUSIVE in open_flags
        if directory and (create or exclusive or truncate):
            raise FsError("invalid", "`directory` with `create`, `exclusive` or `truncate`")
        if create and path.endswith("/"):  # as POSIX's O_CREAT on "name/"
            with resolve(base, path, follow=True):
                raise FsError("is-directory", "`create` of a path ending in `/`")
        # As wasmtime: creating opens for writing; without `write` the file opens for reading.
        mode_write = want_write or create
        mode_read = DescriptorFlags.READ in flags or not want_write
        if mode_write and FilePerms.WRITE not in desc.file_perms:
            raise FsError("not-permitted", "the preopen's files are read-only")
        req = OpenRequest(read=mode_read, write=mode_write or truncate, create=create,
                          exclusive=exclusive, truncate=truncate, directory=directory,
                          file_sync=DescriptorFlags.FILE_INTEGRITY_SYNC in sync,
                          data_sync=DescriptorFlags.DATA_INTEGRITY_SYNC in sync)
        # POSIX's O_CREAT|O_EXCL: a symlink at the name is not followed (it exists: `exist`).
        follow = _follow(path_flags) and not (create and exclusive)
        with resolve(base, path, follow=follow) as (d, name):
            try:
                node = d.open(name, req)
            except FsError as e:
                # A symlink not followed is `loop` (as wasmtime), also under `directory`
                # (where a `Directory` says `not-directory`, as Linux's O_NOFOLLOW|O_DIRECTORY).
                if (e.code == "not-directory" and directory and not follow and name != "."
                        and d.lstat(name).type == "symbolic-link"):
                    raise FsError("loop", f"{name!r} is a symlink") from None
                raise
        if is_directory(node):  # its "write" mode is `mutate-directory` (see `get-flags`)
            mode_write = DescriptorFlags.MUTATE_DIRECTORY in flags
        opened = Descriptor(node, desc.dir_perms, desc.file_perms, mode_read, mode_write, sync)
        return Ok(self._push(opened, _b_types._RT_Descriptor))

    @_fs_errors
    def readlink_at(self, self_: Resource[Any], path: str) -> Ok[str]:
        with resolve(self._d(self_).dir(DirPerms.READ), path, follow=False) as (d, name):
            target = d.readlink(name)
        if target.startswith("/"):  # as wasmtime (cap-std): the host's absolute paths stay hidden
            raise FsError("not-permitted", "the symlink's target is an absolute path")
        return Ok(_usv(target))

    @_fs_errors
    def remove_directory_at(self, self_: Resource[Any], path: str) -> Ok[None]:
        return self._change_at(self_, path, lambda d, name: d.rmdir(name), "not-directory")

    @_fs_errors
    def rename_at(self, self_: Resource[Any], old_path: str, new_descriptor: Resource[Any],
                  new_path: str) -> Ok[None]:  # fmt: skip
        old_base = self._d(self_).dir(DirPerms.MUTATE)
        new_base = self._d(new_descriptor).dir(DirPerms.MUTATE)
        link = "not-directory"  # rename of, or onto, `link/`
        with resolve(old_base, old_path, follow=False, slash_link=link) as (od, oname), \
                resolve(new_base, new_path, follow=False, slash_link=link) as (nd, nname):
            if new_path.endswith("/") and od.lstat(oname).type != "directory":
                raise FsError("not-directory", "only a directory can be renamed to `name/`")
            od.rename(oname, nd, nname)
        return Ok(None)

    @_fs_errors
    def symlink_at(self, self_: Resource[Any], old_path: str, new_path: str) -> Ok[None]:
        if old_path.startswith("/"):
            self._d(self_).dir(DirPerms.MUTATE)  # a read-only preopen says so first
            raise FsError("not-permitted", "a symlink to an absolute path")
        def make(d: Directory, name: str) -> None:
            _new_non_directory(d, name, new_path)
            d.symlink(old_path, name)

        return self._change_at(self_, new_path, make, "exist")

    @_fs_errors
    def unlink_file_at(self, self_: Resource[Any], path: str) -> Ok[None]:
        return self._change_at(self_, path, lambda d, name: d.unlink(name))

    def is_same_object(self, self_: Resource[Any], other: Resource[Any]) -> bool:
        try:
            a, b = self._d(self_).node.stat(), self._d(other).node.stat()
        except FsError:
            return False
        return (a.dev, a.ino) == (b.dev, b.ino)

    @_fs_errors
    def metadata_hash(self, self_: Resource[Any]) -> Ok[MetadataHashValue]:
        return Ok(_hash(self._d(self_).node.stat()))

    @_fs_errors
    def metadata_hash_at(self, self_: Resource[Any], path_flags: PathFlags, path: str
                         ) -> Ok[MetadataHashValue]:  # fmt: skip
        with resolve(self._d(self_).dir(), path, follow=_follow(path_flags)) as (d, name):
            return Ok(_hash(d.lstat(name)))

    def drop(self, rep: Resource[Any]) -> None:
        # The node is closed when nothing refers to it any more (a stream made from it may
        # outlive the descriptor, as in wasmtime); preopens stay open with their config.
        self._ctx.delete(rep)


class _EntryStream:
    """A ``directory-entry-stream``: the entries listed when ``read-directory`` was called."""

    __slots__ = ("_it",)

    def __init__(self, it: Iterator[tuple[str, str]]) -> None:
        self._it = it

    def next(self) -> DirectoryEntry | None:
        for name, kind in self._it:
            return DirectoryEntry(_TYPES.get(kind, DescriptorType.UNKNOWN), _usv(name))
        return None


class _DirectoryEntryStreamHost:
    def __init__(self, ctx: WasiCtx) -> None:
        self._ctx = ctx

    @_fs_errors
    def read_directory_entry(self, self_: Resource[Any]) -> Ok[DirectoryEntry | None]:
        return Ok(self._ctx.get(self_, _EntryStream).next())

    def drop(self, rep: Resource[Any]) -> None:
        self._ctx.delete(rep)


class TypesHost:
    """``wasi:filesystem/types``."""

    def __init__(self, ctx: WasiCtx) -> None:
        self._ctx = ctx
        self.descriptor = _DescriptorHost(ctx)
        self.directory_entry_stream = _DirectoryEntryStreamHost(ctx)

    def filesystem_error_code(self, err: Resource[Any]) -> ErrorCode | None:
        code = error_code_name(self._ctx.get(err, IoError))
        return None if code is None else ErrorCode(code)


def error_code_name(e: IoError) -> str | None:
    """The ``error-code`` case of a failed file stream's error: the filesystem's own (also for
    in-memory files), else from its ``errno``; ``None`` for an error that is neither."""
    if isinstance(e, FsIoError):
        return e.code
    if e.errno is not None:
        return errno_code(e.errno)
    return None


class PreopensHost:
    """``wasi:filesystem/preopens``: a fresh descriptor per preopen on every call (as
    wasmtime)."""

    def __init__(self, ctx: WasiCtx) -> None:
        self._ctx = ctx

    def get_directories(self) -> list[tuple[Resource[Any], str]]:
        out = []
        for p in mounts_of(self._ctx):
            d = Descriptor(p.directory, p.dir_perms, p.file_perms, DirPerms.READ in p.dir_perms,
                           DirPerms.MUTATE in p.dir_perms)  # fmt: skip
            out.append((self._ctx.push(d, _b_types._RT_Descriptor), p.guest_path))
        return out


def _mounts(ctx: WasiCtx) -> list[Mount]:
    out = []
    for p in ctx.config.preopens:
        host = p.host
        directory = HostDirectory.open_path(host) if isinstance(host, str) else host
        if p.dir_perms is not None or p.file_perms is not None:
            dp, fp = p.dir_perms or DirPerms(0), p.file_perms or FilePerms(0)
        elif p.readonly:
            dp, fp = DirPerms.READ, FilePerms.READ
        else:
            dp, fp = DirPerms.READ | DirPerms.MUTATE, FilePerms.READ | FilePerms.WRITE
        out.append(Mount(directory, p.guest, dp, fp))
    return out


def mounts_of(ctx: WasiCtx) -> list[Mount]:
    """The preopens of ``ctx``, host directories opened on first use (once per context)."""
    return ctx.extension("filesystem.mounts", _mounts)


def _register() -> None:
    from .ctx import register

    register(_b_types, TypesHost)
    register(_b_preopens, PreopensHost)


_register()
