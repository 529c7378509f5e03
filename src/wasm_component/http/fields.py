"""HTTP fields (headers and trailers) with the rules ``wasi:http/types.fields`` states.

A field name must be an HTTP token (RFC 9110 section 5.6.2) and is kept lower case; a value
may not hold control characters other than tab; the host forbids some names outright (those
that belong to the connection, not the message: ``connection``, ``transfer-encoding``, ...);
and fields handed out by the host as part of a request or response are immutable.

Example::

    f = Fields.from_list([("Content-Type", b"text/plain")], FORBIDDEN)
    assert f.get("content-type") == [b"text/plain"]
    assert f.check_name("connection", FORBIDDEN) == "forbidden"
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

__all__ = ["FORBIDDEN", "FieldError", "Fields", "HeaderList"]

#: What wasmtime forbids guests to set (its ``DEFAULT_FORBIDDEN_HEADERS``).
FORBIDDEN = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "proxy-connection", "transfer-encoding", "upgrade", "host", "http2-settings",
})

HeaderList = list[tuple[str, bytes]]
FieldError = Literal["invalid-syntax", "forbidden", "immutable"]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


class Fields:
    """An ordered multimap of lower-case names to byte values; ``mutable`` says whether the
    guest may change it."""

    __slots__ = ("entries", "mutable")

    def __init__(self, entries: HeaderList | None = None, mutable: bool = True) -> None:
        self.entries: HeaderList = entries if entries is not None else []
        self.mutable = mutable

    @staticmethod
    def check_name(name: str, forbidden: frozenset[str]) -> FieldError | None:
        if not _TOKEN.match(name):
            return "invalid-syntax"
        if name.lower() in forbidden:
            return "forbidden"
        return None

    @staticmethod
    def check_value(value: bytes) -> FieldError | None:
        return "invalid-syntax" if _BAD_VALUE.search(value) else None

    @classmethod
    def from_list(cls, entries: Iterable[tuple[str, bytes]], forbidden: frozenset[str]
                  ) -> Fields | FieldError:
        out: HeaderList = []
        for name, value in entries:
            err = cls.check_name(name, forbidden) or cls.check_value(value)
            if err is not None:
                return err
            out.append((name.lower(), bytes(value)))
        return cls(out)

    def get(self, name: str) -> list[bytes]:
        key = name.lower()
        return [v for k, v in self.entries if k == key]

    def has(self, name: str) -> bool:
        key = name.lower()
        return any(k == key for k, _ in self.entries)

    def _change(self, name: str, values: list[bytes], forbidden: frozenset[str],
                replace: bool) -> FieldError | None:
        if not self.mutable:
            return "immutable"
        err = self.check_name(name, forbidden)
        for v in values:
            err = err or self.check_value(v)
        if err is not None:
            return err
        key = name.lower()
        if replace:
            self.entries[:] = [(k, v) for k, v in self.entries if k != key]
        self.entries.extend((key, bytes(v)) for v in values)
        return None

    def set(self, name: str, values: list[bytes], forbidden: frozenset[str]) -> FieldError | None:
        return self._change(name, values, forbidden, replace=True)

    def append(self, name: str, value: bytes, forbidden: frozenset[str]) -> FieldError | None:
        return self._change(name, [value], forbidden, replace=False)

    def delete(self, name: str, forbidden: frozenset[str]) -> FieldError | None:
        return self._change(name, [], forbidden, replace=True)

    def clone(self) -> Fields:
        """A mutable copy (``fields.clone`` gives the guest one it may change)."""
        return Fields(list(self.entries))

    def view(self) -> Fields:
        """The same entries, immutable (what a request's or response's ``headers`` gives)."""
        return Fields(self.entries, mutable=False)
