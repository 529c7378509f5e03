"""``wasi:filesystem@0.3.0``: 0.2's filesystem (:mod:`..filesystem`) under 0.3's types.

Every descriptor operation is the 0.2 one: the same sandboxed path walk
(:mod:`.._sandbox`), the same preopen permissions, the same ``vfs`` directories (the host's
through ``openat``-style calls, in-memory, or your own). A 0.3 descriptor handle holds the same
:class:`~..filesystem.Descriptor` object a 0.2 one does, and both versions' ``preopens`` hand
out the context's one set of mounts. What is new is the shape: the path and metadata
operations are ``async func``, errors are 0.3's ``error-code`` variant (0.2's ``would-block``
becomes ``other``), timestamps are ``system-clock.instant``, and reads, writes and directory
listings are streams with a future for the outcome (:mod:`._async`'s pumps over 0.2's file
streams, with their chunk bounds).

The operations run on the loop's thread: local file system calls are short, and a guest that
needs more concurrency than that uses more instances. (wasmtime runs them on a blocking pool.)

Example::

    config = WasiConfig()
    config.preopen_dir("/srv/data", "/data", readonly=True)   # serves 0.2 and 0.3 guests
    store.set_wasi(config)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ... import types as t
from ...bindgen.rt import ErrorResult
from ...resources import Resource
from ...values import Ok, Variant
from .._bindings.imports import wasi_filesystem_types as _fs2
from .._bindings.imports.wasi_clocks_wall_clock import Datetime
from .._bindings_p3.imports import wasi_filesystem_preopens as _b_preopens
from .._bindings_p3.imports import wasi_filesystem_types as _fs3
from .._bindings_p3.imports.wasi_clocks_system_clock import Instant
from ..ctx import register
from ..filesystem import (
    Descriptor,
    DirPerms,
    PreopensHost,
    _DescriptorHost,
    _usv,
    error_code_name,
    read_stream,
    write_stream,
)
from ..io import IoError
from ..vfs import FsError
from ._async import (
    ByteReader,
    channels_of,
    failed_future,
    failed_stream,
    spawn,
    stream_from,
    stream_into,
    values_in,
)
from ._convert import case, lowered_case
from ._types import elem_types

if TYPE_CHECKING:
    from ..ctx import WasiCtx

__all__ = ["DescriptorHost", "TypesHost", "descriptor_type", "error_code"]

IFACE = _fs3.INSTANCE_NAME


def error_code(name: str) -> Any:
    """0.3's ``error-code`` for the 0.2 case ``name``."""
    return case(_fs3, "ErrorCode", name)


def descriptor_type(name: str) -> Any:
    """0.3's ``descriptor-type`` for the 0.2 case ``name`` (0.2's ``unknown`` is
    ``other(none)``)."""
    return _fs3.DescriptorTypeOther(None) if name == "unknown" else case(
        _fs3, "DescriptorType", name)


def _cases() -> tuple[str, ...]:
    res = elem_types(IFACE, "[method]descriptor.read-via-stream")[1]
    assert isinstance(res, t.ResultType) and isinstance(res.err, t.VariantType)
    return tuple(name for name, _ in res.err.cases)


def _stream_error(e: IoError) -> Any:
    """A failed file stream's ``error-code``, as the future carries it (lowered)."""
    return lowered_case(_cases(), error_code_name(e) or "io")


def _run(f: Callable[..., Ok[Any]], *args: Any) -> Any:
    """The 0.2 operation's ``ok`` value; its ``err`` becomes 0.3's error code."""
    try:
        return f(*args).value
    except ErrorResult as e:
        raise ErrorResult(error_code(e.value.value)) from None


def _instant(d: Datetime | None) -> Instant | None:
    return None if d is None else Instant(d.seconds, d.nanoseconds)


def _stat(st: _fs2.DescriptorStat) -> _fs3.DescriptorStat:
    return _fs3.DescriptorStat(
        descriptor_type(st.type.value), st.link_count, st.size,
        _instant(st.data_access_timestamp), _instant(st.data_modification_timestamp),
        _instant(st.status_change_timestamp),
    )  # fmt: skip


def _timestamp(ts: _fs3.NewTimestamp) -> _fs2.NewTimestamp:
    if isinstance(ts, _fs3.NewTimestampNoChange):
        return _fs2.NewTimestampNoChange()
    if isinstance(ts, _fs3.NewTimestampNow):
        return _fs2.NewTimestampNow()
    return _fs2.NewTimestampTimestamp(Datetime(ts.value.seconds, ts.value.nanoseconds))


def _hash(h: _fs2.MetadataHashValue) -> _fs3.MetadataHashValue:
    return _fs3.MetadataHashValue(h.lower, h.upper)


def _path_flags(f: _fs3.PathFlags) -> _fs2.PathFlags:
    return _fs2.PathFlags(f.value)


class DescriptorHost:
    """``[method]descriptor.*`` of 0.3: each the 0.2 operation (``self.core``)."""

    def __init__(self, ctx: WasiCtx) -> None:
        self._ctx = ctx
        self.core = _DescriptorHost(ctx)

    # -- streams -------------------------------------------------------------------------------

    def read_via_stream(self, self_: Resource[Any], offset: int) -> tuple[Any, Any]:
        fn = "[method]descriptor.read-via-stream"
        try:
            if self._ctx.get(self_, Descriptor).is_dir:
                # as wasmtime's 0.3 host (a read of a directory: EISDIR); 0.2 says
                # `bad-descriptor`, as wasmtime's 0.2 host
                raise FsError("is-directory", "`read-via-stream` of a directory")
            source = read_stream(self._ctx, self_, offset)
        except FsError as e:
            return failed_stream(self._ctx, IFACE, fn, lowered_case(_cases(), e.code))
        return stream_from(self._ctx, IFACE, fn, source, _stream_error)

    def write_via_stream(self, self_: Resource[Any], data: ByteReader, offset: int) -> Any:
        return self._write(self_, data, offset, "[method]descriptor.write-via-stream")

    def append_via_stream(self, self_: Resource[Any], data: ByteReader) -> Any:
        return self._write(self_, data, None, "[method]descriptor.append-via-stream")

    def _write(self, r: Resource[Any], data: ByteReader, offset: int | None, fn: str) -> Any:
        try:
            sink = write_stream(self._ctx, r, offset)
        except FsError as e:
            return failed_future(self._ctx, IFACE, fn, lowered_case(_cases(), e.code), data)
        return stream_into(self._ctx, IFACE, fn, data, sink, _stream_error)

    def read_directory(self, self_: Resource[Any]) -> tuple[Any, Any]:
        fn = "[method]descriptor.read-directory"
        try:
            entries = self._ctx.get(self_, Descriptor).dir(DirPerms.READ).entries()
        except FsError as e:
            return failed_stream(self._ctx, IFACE, fn, lowered_case(_cases(), e.code))
        elem, res = elem_types(IFACE, fn)
        ch = channels_of(self._ctx)
        reader, writer = ch.stream(elem)
        done_reader, done = ch.future(res)
        spawn(self._ctx, values_in(_lowered_entries(iter(entries)), writer, done=done,
                                   error=_entry_error,
                                   failures=(FsError,)))  # fmt: skip
        return (reader, done_reader)

    # -- the rest: 0.2's operations ------------------------------------------------------------

    async def advise(self, self_: Resource[Any], offset: int, length: int,
                     advice: _fs3.Advice) -> Ok[None]:  # fmt: skip
        return Ok(_run(self.core.advise, self_, offset, length, _fs2.Advice(advice.value)))

    async def sync_data(self, self_: Resource[Any]) -> Ok[None]:
        return Ok(_run(self.core.sync_data, self_))

    async def sync(self, self_: Resource[Any]) -> Ok[None]:
        return Ok(_run(self.core.sync, self_))

    async def get_flags(self, self_: Resource[Any]) -> Ok[_fs3.DescriptorFlags]:
        return Ok(_fs3.DescriptorFlags(_run(self.core.get_flags, self_).value))

    async def get_type(self, self_: Resource[Any]) -> Ok[_fs3.DescriptorType]:
        return Ok(descriptor_type(_run(self.core.get_type, self_).value))

    async def set_size(self, self_: Resource[Any], size: int) -> Ok[None]:
        return Ok(_run(self.core.set_size, self_, size))

    async def set_times(self, self_: Resource[Any], data_access_timestamp: _fs3.NewTimestamp,
                        data_modification_timestamp: _fs3.NewTimestamp) -> Ok[None]:  # fmt: skip
        return Ok(_run(self.core.set_times, self_, _timestamp(data_access_timestamp),
                       _timestamp(data_modification_timestamp)))  # fmt: skip

    async def create_directory_at(self, self_: Resource[Any], path: str) -> Ok[None]:
        return Ok(_run(self.core.create_directory_at, self_, path))

    async def stat(self, self_: Resource[Any]) -> Ok[_fs3.DescriptorStat]:
        return Ok(_stat(_run(self.core.stat, self_)))

    async def stat_at(self, self_: Resource[Any], path_flags: _fs3.PathFlags, path: str
                      ) -> Ok[_fs3.DescriptorStat]:  # fmt: skip
        return Ok(_stat(_run(self.core.stat_at, self_, _path_flags(path_flags), path)))

    async def set_times_at(self, self_: Resource[Any], path_flags: _fs3.PathFlags, path: str,
                           data_access_timestamp: _fs3.NewTimestamp,
                           data_modification_timestamp: _fs3.NewTimestamp) -> Ok[None]:  # fmt: skip
        return Ok(_run(self.core.set_times_at, self_, _path_flags(path_flags), path,
                       _timestamp(data_access_timestamp),
                       _timestamp(data_modification_timestamp)))  # fmt: skip

    async def link_at(self, self_: Resource[Any], old_path_flags: _fs3.PathFlags, old_path: str,
                      new_descriptor: Resource[Any], new_path: str) -> Ok[None]:  # fmt: skip
        return Ok(_run(self.core.link_at, self_, _path_flags(old_path_flags), old_path,
                       new_descriptor, new_path))  # fmt: skip

    async def open_at(self, self_: Resource[Any], path_flags: _fs3.PathFlags, path: str,
                      open_flags: _fs3.OpenFlags, flags: _fs3.DescriptorFlags
                      ) -> Ok[Resource[Any]]:  # fmt: skip
        return Ok(_run(self.core.open_at, self_, _path_flags(path_flags), path,
                       _fs2.OpenFlags(open_flags.value), _fs2.DescriptorFlags(flags.value)))

    async def readlink_at(self, self_: Resource[Any], path: str) -> Ok[str]:
        return Ok(_run(self.core.readlink_at, self_, path))

    async def remove_directory_at(self, self_: Resource[Any], path: str) -> Ok[None]:
        return Ok(_run(self.core.remove_directory_at, self_, path))

    async def rename_at(self, self_: Resource[Any], old_path: str, new_descriptor: Resource[Any],
                        new_path: str) -> Ok[None]:  # fmt: skip
        return Ok(_run(self.core.rename_at, self_, old_path, new_descriptor, new_path))

    async def symlink_at(self, self_: Resource[Any], old_path: str, new_path: str) -> Ok[None]:
        return Ok(_run(self.core.symlink_at, self_, old_path, new_path))

    async def unlink_file_at(self, self_: Resource[Any], path: str) -> Ok[None]:
        return Ok(_run(self.core.unlink_file_at, self_, path))

    async def is_same_object(self, self_: Resource[Any], other: Resource[Any]) -> bool:
        return self.core.is_same_object(self_, other)

    async def metadata_hash(self, self_: Resource[Any]) -> Ok[_fs3.MetadataHashValue]:
        return Ok(_hash(_run(self.core.metadata_hash, self_)))

    async def metadata_hash_at(self, self_: Resource[Any], path_flags: _fs3.PathFlags, path: str
                               ) -> Ok[_fs3.MetadataHashValue]:  # fmt: skip
        return Ok(_hash(_run(self.core.metadata_hash_at, self_, _path_flags(path_flags), path)))

    def drop(self, rep: Resource[Any]) -> None:
        self.core.drop(rep)


def _entry_error(e: Exception) -> Any:
    assert isinstance(e, FsError), "only FsError is caught"
    return lowered_case(_cases(), e.code)


def _lowered_entries(it: Iterator[tuple[str, str]]) -> Iterator[Any]:
    """``directory-entry`` values as the stream carries them (lowered); 0.2's ``unknown``
    type is ``other(none)``."""
    for name, kind in it:
        ty = Variant("other") if kind == "unknown" else lowered_case(_type_cases(), kind)
        yield {"type": ty, "name": _usv(name)}


def _type_cases() -> tuple[str, ...]:
    elem = elem_types(IFACE, "[method]descriptor.read-directory")[0]
    assert isinstance(elem, t.RecordType)
    ty = dict(elem.fields)["type"]
    assert isinstance(ty, t.VariantType)
    return tuple(name for name, _ in ty.cases)


class TypesHost:
    """``wasi:filesystem/types@0.3.0``."""

    def __init__(self, ctx: WasiCtx) -> None:
        self.descriptor = DescriptorHost(ctx)


register(_fs3, TypesHost)
register(_b_preopens, PreopensHost)
