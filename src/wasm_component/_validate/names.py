"""Import/export name grammar and strong uniqueness.

Names are how hosts and bindings generators identify imports and exports, so the spec restricts
them to a structured grammar (kebab-case labels, ``[method]r.f`` annotations, interface names
``ns:pkg/iface@semver``, and the legacy ``*-dep=<...>``/``url=<...>``/``integrity=<...>`` forms
wasm-tools still accepts) and requires names in one scope to be *strongly unique*. This module
parses a name into a :class:`ParsedName` and computes the key strong uniqueness compares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ValidationError
from .features import Features

__all__ = ["ParsedName", "check_label", "is_kebab", "parse_name", "parse_semver", "unique_key"]

_WORD = r"[a-z][0-9a-z]*|[A-Z][0-9A-Z]*"
_KEBAB = re.compile(rf"(?:{_WORD})(?:-(?:[0-9a-z]+|[0-9A-Z]+))*")
_WORDS = re.compile(r"[a-z][0-9a-z]*(?:-[0-9a-z]+)*")


def is_kebab(s: str) -> bool:
    return _KEBAB.fullmatch(s) is not None


def check_label(s: str, what: str, offset: int) -> None:
    """A record field / case / flag / enum / param label must be non-empty kebab case."""
    if not s:
        raise ValidationError(f"{what} name cannot be empty", offset)
    if not is_kebab(s):
        raise ValidationError(f"{what} name `{s}` is not in kebab case", offset)


def _kebab(s: str, offset: int) -> None:
    if not is_kebab(s):
        raise ValidationError(f"`{s}` is not in kebab case", offset)


_NUM = re.compile(r"0|[1-9][0-9]*")
_IDENT = re.compile(r"[0-9A-Za-z-]+")


def parse_semver(v: str, offset: int) -> None:
    """Check ``v`` is a valid semver 2.0 (messages in the style of Rust's ``semver`` crate)."""
    if not v:
        raise ValidationError("empty string, expected a semver version", offset)
    pos = 0
    for i, part in enumerate(("major", "minor", "patch")):
        m = re.compile(r"[0-9]+").match(v, pos)
        if m is None:
            if pos >= len(v):
                raise ValidationError(
                    f"unexpected end of input while parsing {part} version number", offset
                )
            raise ValidationError(
                f"unexpected character {v[pos]!r} while parsing {part} version number", offset
            )
        if len(m.group()) > 1 and m.group().startswith("0"):
            raise ValidationError(f"invalid leading zero in {part} version number", offset)
        pos = m.end()
        if i < 2:
            if pos >= len(v):
                raise ValidationError(
                    f"unexpected end of input while parsing {part} version number", offset
                )
            if v[pos] != ".":
                raise ValidationError(
                    f"unexpected character {v[pos]!r} after {part} version number", offset
                )
            pos += 1
    rest = v[pos:]
    if not rest:
        return
    pre = build = None
    if rest[0] == "-":
        pre, _, b = rest[1:].partition("+")
        build = b if "+" in rest else None
    elif rest[0] == "+":
        build = rest[1:]
    else:
        raise ValidationError(
            f"unexpected character {rest[0]!r} after patch version number", offset
        )
    for label, segs in (("pre-release", pre), ("build metadata", build)):
        if segs is None:
            continue
        for seg in segs.split("."):
            if not seg:
                raise ValidationError(f"empty identifier segment in {label} identifier", offset)
            if not _IDENT.fullmatch(seg):
                raise ValidationError(f"unexpected character in {label} identifier", offset)


@dataclass(frozen=True, slots=True)
class ParsedName:
    """A parsed extern name. ``kind`` is one of label, constructor, method, static, interface,
    dep, url, hash; ``resource`` is the resource label of constructor/method/static names."""

    raw: str
    kind: str
    resource: str | None = None
    func: str | None = None
    is_async: bool = False


def _pkg_name(s: str, pos: int, offset: int, features: Features, *, with_ver: bool,
              end: str) -> int:
    """Parse ``ns:pkg(/iface)*`` (a package name used in dep names) starting at ``pos``."""
    colon = s.find(":", pos)
    stop = s.find(end, pos)
    if stop < 0:
        stop = len(s)
    if colon < 0 or colon > stop:
        _kebab(s[pos:stop], offset)
        raise ValidationError(f"failed to find `:` character in `{s[pos:stop]}`", offset)
    _words(s[pos:colon], offset)
    j = colon + 1
    k = j
    while k < len(s) and s[k] not in "@/>" and s[k] != end:
        k += 1
    if (s.startswith(":", k) or ":" in s[j:k]) and not features.cm_nested_names:
        raise ValidationError("nested namespaces require the `cm-nested-names` feature",
                              offset)
    for seg in s[j:k].split(":"):
        _words(seg, offset)
    while k < len(s) and s[k] == "/":
        m = k + 1
        while m < len(s) and s[m] not in "@/>":
            m += 1
        _kebab(s[k + 1:m], offset)
        k = m
    return k


def _words(s: str, offset: int) -> None:
    if not _WORDS.fullmatch(s):
        for ch in s:
            if ch.isupper():
                raise ValidationError(
                    f"character `{ch}` is not lowercase in package name/namespace", offset
                )
        raise ValidationError(f"`{s}` is not in kebab case", offset)


def _expect(s: str, pos: int, tok: str, offset: int) -> int:
    if not s.startswith(tok, pos):
        raise ValidationError(f"expected `{tok}` at `{s[pos:]}`", offset)
    return pos + len(tok)


_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def _integrity(s: str, offset: int) -> None:
    body = s.strip()
    if not body:
        raise ValidationError("integrity hash cannot be empty", offset)
    for item in body.split():
        algo, dash, rest = item.partition("-")
        if not dash:
            raise ValidationError("expected `-` after hash algorithm", offset)
        if algo not in ("sha256", "sha384", "sha512"):
            raise ValidationError(f"unrecognized hash algorithm: `{algo}`", offset)
        digest = rest.partition("?")[0]
        if not _B64.fullmatch(digest):
            raise ValidationError(f"`{digest}` is not valid base64", offset)


def _interface_name(s: str, offset: int, features: Features) -> None:
    colon = s.find(":")
    _words(s[:colon], offset)
    slash = s.find("/", colon + 1)
    at = s.find("@", colon + 1)
    if slash < 0 or (0 <= at < slash):
        pkg = s[colon + 1:at if at >= 0 else len(s)]
        if ":" in pkg and features.cm_nested_names:
            for seg in pkg.split(":"):
                _words(seg, offset)
        else:
            _words(pkg, offset)
        raise ValidationError("expected `/` after package name", offset)
    pkg = s[colon + 1:slash]
    segs = pkg.split(":")
    if len(segs) > 1 and not features.cm_nested_names:
        raise ValidationError(f"`{pkg}` is not in kebab case", offset)
    for seg in segs:
        _words(seg, offset)
    end = at if at >= 0 else len(s)
    projs = s[slash + 1:end].split("/")
    _kebab(projs[0], offset)
    if len(projs) > 1:
        if not features.cm_nested_names:
            raise ValidationError(f"trailing characters found: `/{'/'.join(projs[1:])}`", offset)
        for p in projs[1:]:
            _kebab(p, offset)
    if at >= 0:
        ver = s[at + 1:]
        if features.cm_canon_names and re.fullmatch(r"[1-9][0-9]*|0\.[1-9][0-9]*|0\.0\.[1-9][0-9]*|0\.0\.0", ver):
            return
        parse_semver(ver, offset)


def parse_name(name: str, offset: int, features: Features) -> ParsedName:
    """Parse an extern name, raising :class:`ValidationError` when it breaks the grammar."""
    s = name
    is_async = False
    for pre, kind in (("[method]", "method"), ("[static]", "static")):
        if s.startswith(pre):
            is_async = pre.startswith("[async")
            if is_async and not features.cm_async:
                raise ValidationError(f"`{pre}` requires the component model async feature",
                                      offset)
            rest = s[len(pre):]
            dot = rest.find(".")
            if dot < 0:
                raise ValidationError(f"failed to find `.` character in `{rest}`", offset)
            _kebab(rest[:dot], offset)
            _kebab(rest[dot + 1:], offset)
            return ParsedName(name, kind, rest[:dot], rest[dot + 1:], is_async)
    if s.startswith("[constructor]"):
        rest = s[len("[constructor]"):]
        _kebab(rest, offset)
        return ParsedName(name, "constructor", rest, None)
    if s.startswith("[async"):
        raise ValidationError(f"`{s}` is not in kebab case", offset)
    if s.startswith("unlocked-dep="):
        pos = _expect(s, len("unlocked-dep="), "<", offset)
        pos = _pkg_name(s, pos, offset, features, with_ver=False, end=">")
        if s.startswith("@", pos):
            pos += 1
            if s.startswith("*", pos):
                pos += 1
            else:
                pos = _expect(s, pos, "{", offset)
                close = s.find("}", pos)
                body = s[pos:close if close >= 0 else len(s)]
                if body.startswith(">="):
                    lo = body[2:]
                    first, sp, second = lo.partition(" ")
                    parse_semver(first, offset) if not sp else None
                    if sp:
                        parse_semver(first, offset)
                        if not second.startswith("<"):
                            raise ValidationError(f"`{second}` is not a valid semver", offset)
                        parse_semver(second[1:], offset)
                elif body.startswith("<"):
                    v = body[1:]
                    if " " in v or not v:
                        raise ValidationError(f"`{v}` is not a valid semver", offset)
                    try:
                        parse_semver(v, offset)
                    except ValidationError:
                        raise ValidationError(f"`{v}` is not a valid semver", offset) from None
                else:
                    raise ValidationError("expected `>=` or `<` at start of version range",
                                          offset)
                pos = _expect(s, close if close >= 0 else len(s), "}", offset)
        pos = _expect(s, pos, ">", offset)
        if pos != len(s):
            raise ValidationError(f"trailing characters found: `{s[pos:]}`", offset)
        return ParsedName(name, "dep")
    if s.startswith("locked-dep="):
        pos = _expect(s, len("locked-dep="), "<", offset)
        pos = _pkg_name(s, pos, offset, features, with_ver=True, end=">")
        if s.startswith("@", pos):
            close = s.find(">", pos)
            v = s[pos + 1:close if close >= 0 else len(s)]
            try:
                parse_semver(v, offset)
            except ValidationError:
                raise ValidationError(f"`{v}` is not a valid semver", offset) from None
            pos = close if close >= 0 else len(s)
        pos = _expect(s, pos, ">", offset)
        _integrity_tail(s, pos, offset)
        return ParsedName(name, "dep")
    if s.startswith("url="):
        pos = _expect(s, len("url="), "<", offset)
        close = s.find(">", pos)
        if close < 0:
            raise ValidationError("failed to find `>` character", offset)
        if "<" in s[pos:close]:
            raise ValidationError("url cannot contain `<`", offset)
        _integrity_tail(s, close + 1, offset)
        return ParsedName(name, "url")
    if s.startswith("integrity="):
        pos = _expect(s, len("integrity="), "<", offset)
        close = s.find(">", pos)
        if close < 0:
            raise ValidationError("failed to find `>` character", offset)
        _integrity(s[pos:close], offset)
        if close + 1 != len(s):
            raise ValidationError(f"trailing characters found: `{s[close + 1:]}`", offset)
        return ParsedName(name, "hash")
    if ":" in s:
        _interface_name(s, offset, features)
        return ParsedName(name, "interface")
    if s.startswith("relative-url=") or "=" in s or "<" in s:
        raise ValidationError(f"`{s}` is not a valid extern name", offset)
    if s.startswith("["):
        raise ValidationError(f"`{s}` is not a valid extern name (unknown annotation)", offset)
    _kebab(s, offset)
    return ParsedName(name, "label", None, s)


def _integrity_tail(s: str, pos: int, offset: int) -> None:
    if pos == len(s):
        return
    if s.startswith(",", pos):
        pos = _expect(s, pos + 1, "integrity=<", offset)
        close = s.find(">", pos)
        if close < 0:
            raise ValidationError("failed to find `>` character", offset)
        _integrity(s[pos:close], offset)
        pos = close + 1
        if pos == len(s):
            return
    raise ValidationError(f"trailing characters found: `{s[pos:]}`", offset)


def unique_key(p: ParsedName) -> str:
    """The canonical form compared by strong uniqueness (acronyms lower-cased, annotations
    other than ``[constructor]`` stripped, ``[method]l.l`` -> ``l``)."""
    if p.kind in ("method", "static"):
        assert p.resource is not None and p.func is not None
        r, f = p.resource.lower(), p.func.lower()
        return r if r == f else f"{r}.{f}"
    if p.kind == "constructor":
        assert p.resource is not None
        return "[constructor]" + p.resource.lower()
    if p.kind == "label":
        assert p.func is not None
        return p.func.lower()
    if p.kind == "interface":
        return p.raw.lower()
    return p.raw
