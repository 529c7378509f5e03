"""Tokens and source positions for WIT text.

This module exists so that everything downstream (parser, resolver, error reporting) can talk
about *byte offsets* only: the lexer turns a source string into a flat list of tokens with
``(kind, start, end)`` spans, and :class:`SourceMap` turns a span back into a file, line, column
and source line when (and only when) an error has to be reported. Several files are laid out in
one global offset space so a single integer identifies a position across a whole package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import accumulate, compress

from ..errors import WitError

__all__ = [
    "KEYWORDS",
    "SourceMap",
    "SpanError",
    "Token",
    "Tokens",
    "describe",
    "tokenize",
    "validate_id",
]

KEYWORDS = frozenset(
    [
        "as",
        "async",
        "bool",
        "borrow",
        "char",
        "constructor",
        "enum",
        "export",
        "f32",
        "f64",
        "flags",
        "from",
        "func",
        "future",
        "import",
        "include",
        "interface",
        "list",
        "map",
        "option",
        "own",
        "package",
        "record",
        "resource",
        "result",
        "s16",
        "s32",
        "s64",
        "s8",
        "static",
        "stream",
        "string",
        "tuple",
        "type",
        "u16",
        "u32",
        "u64",
        "u8",
        "use",
        "variant",
        "with",
        "world",
        "error-context",
        "_",
    ]
)


class SpanError(Exception):
    """An error located at a global byte offset; turned into :class:`WitError` at the API edge."""

    def __init__(self, start: int | None, message: str) -> None:
        super().__init__(message)
        self.start = start
        self.message = message


# (kind, start, end); kind is a keyword, a punctuation string, "id", "explicit-id",
# "integer" or "string".
Token = tuple[str, int, int]

_TOKEN_RE = re.compile(
    r"""
    [ \t\n\r]*
    (?:
      (?P<id>[^\W\d][\w\-]*)
    | (?P<punct>[=,:;(){}<>*.@+]|/(?![/*]))
    | (?P<line>//[^\n]*\n?)
    | (?P<block>/\*)
    | (?P<arrow>->)
    | (?P<minus>-)
    | (?P<explicit>%[^\W\d][\w\-]*)
    | (?P<int>[0-9]+)
    | (?P<str>")
    | (?P<end>\Z)
    )
    """,
    re.VERBOSE,
)

_DESCRIBE_SPECIAL = {
    "id": "an identifier",
    "explicit-id": "an '%' identifier",
    "integer": "an integer",
    "string": "a string",
    "->": "'->'",
    "-": "'-'",
}


def describe(kind: str) -> str:
    """Human text for a token kind, as used in ``expected X, found Y`` messages."""
    special = _DESCRIBE_SPECIAL.get(kind)
    if special is not None:
        return special
    if kind in KEYWORDS:
        return f"keyword `{kind}`"
    return f"'{kind}'"


@dataclass
class Tokens:
    """Parallel arrays of tokens (comments excluded) plus the comments before each token."""

    kinds: list[str]
    starts: list[int]
    ends: list[int]
    #: token index -> (start, end) of the comments between the previous token and this one; a
    #: run of consecutive ``//`` lines may be one entry (split by :func:`split_comments`)
    comments: dict[int, list[tuple[int, int]]]


def split_comments(text: str) -> list[str]:
    """One comment entry -> the individual comments in it (one per ``//`` line)."""
    if not text.startswith("//") or "\n" not in text.rstrip("\n"):
        return [text]
    return [line.lstrip(" \t\r") for line in text.split("\n") if line.strip()]


# Fast path: whitespace + one token per match, all matching done in C by ``findall``. Nested
# block comments, string escapes and anything unexpected fall back to the precise scanner.
_FAST_RE = re.compile(
    r"""([ \t\n\r]*)(
        [a-zA-Z_][a-zA-Z0-9_\-]*
      | [=,:;(){}<>*.@+]
      | //[^\n]*(?:\n[ \t\r]*//[^\n]*)*\n?
      | /\*(?:[^*/]|\*(?!/)|/(?!\*))*\*/
      | ->
      | -
      | /(?![/*])
      | %[a-zA-Z_][a-zA-Z0-9_\-]*
      | [0-9]+
      | "[^"\\\n]*"
    )""",
    re.VERBOSE,
)
_EXACT_KIND = {c: c for c in "=,:;(){}<>*.@+/-"}
_EXACT_KIND["->"] = "->"
_FIRST_KIND = {d: "integer" for d in "0123456789"}
_FIRST_KIND.update({'"': "string", "%": "explicit-id", "/": "comment"})


def tokenize(text: str, base: int = 0) -> Tokens:
    """Split ``text`` into tokens at offsets ``base + i`` (whitespace dropped)."""
    _check_codepoints(text, base)
    first = 1 if text.startswith("\ufeff") else 0
    pieces = _FAST_RE.findall(text, first)
    toks = [tok for _, tok in pieces]
    ends_all = list(accumulate([len(ws) + len(tok) for ws, tok in pieces], initial=base + first))
    del ends_all[0]
    if (ends_all[-1] if ends_all else base + first) - base != len(text.rstrip(" \t\n\r")):
        # Something the fast pattern does not cover (nested comment, escape, bad character):
        # scan precisely instead.
        return _tokenize_precise(text, base)
    exact = _EXACT_KIND
    by_first = _FIRST_KIND
    keywords = KEYWORDS
    kinds_all = [exact.get(t) or by_first.get(t[0]) or (t if t in keywords else "id") for t in toks]
    starts_all = [e - len(t) for e, t in zip(ends_all, toks, strict=True)]
    comments: dict[int, list[tuple[int, int]]] = {}
    if "comment" not in kinds_all:
        return Tokens(kinds_all, starts_all, ends_all, comments)
    keep = [k != "comment" for k in kinds_all]
    seen_comments = 0
    for i, k in enumerate(kinds_all):
        if k == "comment":
            comments.setdefault(i - seen_comments, []).append((starts_all[i], ends_all[i]))
            seen_comments += 1
    return Tokens(
        list(compress(kinds_all, keep)),
        list(compress(starts_all, keep)),
        list(compress(ends_all, keep)),
        comments,
    )


def _tokenize_precise(text: str, base: int) -> Tokens:
    kinds: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    comments: dict[int, list[tuple[int, int]]] = {}
    pos = 1 if text.startswith("\ufeff") else 0
    n = len(text)
    while True:
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            bad = pos
            while bad < n and text[bad] in " \t\n\r":
                bad += 1
            raise SpanError(base + bad, f"unexpected character {text[bad]!r}")
        kind = m.lastgroup
        assert kind is not None
        begin = m.start(kind)
        end = m.end()
        if kind == "end":
            break
        if kind in ("line", "block"):
            if kind == "block":
                end = _block_comment_end(text, begin, base)
            comments.setdefault(len(kinds), []).append((base + begin, base + end))
            pos = end
            continue
        if kind == "id":
            word = m.group(kind)
            kinds.append(word if word in KEYWORDS else "id")
        elif kind == "punct":
            kinds.append(text[begin:end])
        elif kind == "str":
            end = _string_end(text, begin, base)
            kinds.append("string")
        else:
            kinds.append(_PRECISE_KINDS[kind])
        starts.append(base + begin)
        ends.append(base + end)
        pos = end
    return Tokens(kinds, starts, ends, comments)


_PRECISE_KINDS = {"int": "integer", "explicit": "explicit-id", "arrow": "->", "minus": "-"}


def _block_comment_end(text: str, pos: int, base: int) -> int:
    depth = 1
    i = pos + 2
    n = len(text)
    while depth:
        j = text.find("*", i)
        k = text.find("/*", i)
        if j < 0:
            raise SpanError(base + pos, "unterminated block comment")
        if 0 <= k < j:
            depth += 1
            i = k + 2
            continue
        if j + 1 < n and text[j + 1] == "/":
            depth -= 1
            i = j + 2
        else:
            i = j + 1
    return i


def _string_end(text: str, pos: int, base: int) -> int:
    i = pos + 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            return i + 1
        if c == "\\":
            i += 2
            continue
        if c == "\n":
            break
        i += 1
    raise SpanError(base + pos, "unterminated string literal")


_BAD_CODEPOINTS = re.compile(
    "[\u202a-\u202e\u2066-\u2069\u0149\u0673\u0f77\u0f79\u17a3\u17a4\u17b4\u17b5"
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
)


def _check_codepoints(text: str, base: int) -> None:
    m = _BAD_CODEPOINTS.search(text)
    if m is not None:
        ch = m.group()
        raise SpanError(base + m.start(), f"invalid character in input: U+{ord(ch):04X}")


_LABEL_RE = re.compile(r"(?:[a-z][a-z0-9]*|[A-Z][A-Z0-9]*)(?:-(?:[a-z][a-z0-9]*|[A-Z][A-Z0-9]*))*")


def validate_id(name: str) -> str | None:
    """Return an error message when ``name`` is not a kebab-case label, else ``None``."""
    if _LABEL_RE.fullmatch(name):
        return None
    if not name:
        return "identifiers must have characters"
    for part in name.split("-"):
        if not part:
            return "identifier parts must not be empty"
        if not part[0].isalpha():
            return f"identifier part `{part}` must start with a letter"
    return f"identifier `{name}` must be kebab-case (each part all lower or all upper case)"


@dataclass
class _Source:
    offset: int
    path: str
    text: str
    line_starts: list[int] = field(default_factory=list)


class SourceMap:
    """All files of one parse, in one global offset space, for error locations."""

    def __init__(self) -> None:
        self.sources: list[_Source] = []
        self.offset = 0

    def push(self, path: str, text: str) -> int:
        """Add a file; returns the base offset of its first byte."""
        base = self.offset
        self.sources.append(_Source(base, path, text))
        self.offset = base + len(text) + 1
        return base

    def locate(self, start: int) -> tuple[str, int, int, str]:
        """Global offset -> (path, 1-based line, 1-based column, source line)."""
        src = self.sources[0]
        for s in self.sources:
            if s.offset <= start:
                src = s
            else:
                break
        rel = max(0, min(start - src.offset, len(src.text)))
        if not src.line_starts:
            starts = [0]
            find = src.text.find
            i = find("\n")
            while i >= 0:
                starts.append(i + 1)
                i = find("\n", i + 1)
            src.line_starts = starts
        starts = src.line_starts
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if starts[mid] <= rel:
                lo = mid
            else:
                hi = mid - 1
        line_start = starts[lo]
        line_end = src.text.find("\n", line_start)
        if line_end < 0:
            line_end = len(src.text)
        line_text = src.text[line_start:line_end].rstrip("\r")
        col = len(src.text[line_start:rel]) + 1
        return src.path, lo + 1, col, line_text

    def error(self, start: int | None, message: str) -> WitError:
        """Build a :class:`WitError` for a message at global offset ``start``."""
        if start is None or not self.sources:
            return WitError(message)
        path, line, col, text = self.locate(start)
        return WitError(message, path, line, col, text)

    def render_location(self, start: int) -> str:
        path, line, col, _ = self.locate(start)
        return f"{path}:{line}:{col}"
