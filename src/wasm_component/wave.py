"""WAVE, the WebAssembly Value Encoding: a human-readable text form of component-model values.

Why this module exists: the command line (``wasm-component run FILE --invoke 'name(args)'``), value
``repr`` and test fixtures all need to read and write component values as text, and WAVE is the
format the rest of the ecosystem (``wasmtime``, ``wasm-tools``) already speaks. WAVE is
*type-directed*: the same text can mean different things for different types (``"a"`` is a
string, ``'a'`` a char; ``left`` may be an enum case or a variant case), so :func:`parse` always
takes the expected :class:`~wasm_component.types.Type`.

The syntax follows the wasm-wave crate: numbers (``1``, ``-2.5e3``, ``nan``, ``inf``, ``-inf``),
chars ``'x'`` and strings ``"x"`` with escapes ``\\\\ \\' \\" \\t \\n \\r \\u{2603}``,
multi-line strings ``\"\"\"...\"\"\"``, lists ``[1, 2]``, tuples ``(1, "a")``, records
``{x: 1, y: 2}`` (``{:}`` when empty; ``option`` fields may be left out), flags ``{read, write}``,
variant and enum cases ``circle(1.5)`` / ``red`` (write ``%true`` for a case named like a keyword),
options ``some(1)`` / ``none`` (a bare ``1`` is accepted for ``some(1)`` unless the payload is itself
an option or result), results ``ok(1)`` / ``err("e")`` (a bare value means ``ok``), ``// comments``.
A ``map<K, V>`` is written as a list of ``(key, value)`` tuples.

Example::

    >>> from wasm_component import types as t
    >>> from wasm_component.wave import parse, parse_invocation, to_wave
    >>> point = t.RecordType((("x", t.U32), ("y", t.U32)))
    >>> parse(point, "{y: 2, x: 1}")
    Record(x=1, y=2)
    >>> to_wave(t.ListType(t.OptionType(t.CHAR)), ['a', None])
    "[some('a'), none]"
    >>> parse_invocation('greet("Ada, Countess", 3)')
    ('greet', ['"Ada, Countess"', '3'])

Errors raise :class:`WaveError`, whose message names the position (``line:col``) and what was
expected; :meth:`WaveError.wave_message` gives the wasm-wave style text with a byte range.
"""

from __future__ import annotations

import dataclasses
import math
import re
import struct
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from . import types as t
from ._abi.floats import f32_bits, f32_from_bits
from .errors import ComponentError
from .values import Err, Ok, Record, Some, Variant, option_needs_some

__all__ = [
    "WaveError",
    "parse",
    "parse_args",
    "parse_call",
    "parse_invocation",
    "to_wave",
]

MAX_DEPTH = 100
KEYWORDS = frozenset({"true", "false", "some", "none", "ok", "err", "inf", "nan"})

# ---------------------------------------------------------------------------------------------
# Errors


class WaveError(ComponentError):
    """A WAVE text could not be parsed or type-checked, or a value could not be printed.

    Attributes:

    - ``kind``: what went wrong, worded as wasm-wave does (``"invalid value type"``, ``"invalid
      token"``, ``"unexpected token"``, ``"error converting Wasm value"``...);
    - ``detail``: wasm-wave's detail text, if any (``'missing field "x"'``);
    - ``hint``: our extra explanation, e.g. ``"expected u32, got string"``;
    - ``span``: ``(start, end)`` *byte* offsets into the UTF-8 source (wasm-wave's convention);
    - ``line`` / ``col``: 1-based position of the start, ``col`` counted in characters;
    - ``source``: the text that was parsed (``None`` when printing a value).

    ``str(err)`` reads ``"invalid value type: expected u32, got string at 1:5"``.
    """

    def __init__(
        self,
        kind: str,
        *,
        detail: str | None = None,
        hint: str | None = None,
        source: str | None = None,
        char_span: tuple[int, int] | None = None,
        where: str | None = None,
    ) -> None:
        self.kind = kind
        self.detail = detail
        self.hint = hint
        self.source = source
        self.char_span = char_span
        self.span: tuple[int, int] | None = None
        self.line: int | None = None
        self.col: int | None = None
        if source is not None and char_span is not None:
            start, end = char_span
            self.span = (len(source[:start].encode()), len(source[:end].encode()))
            self.line = source.count("\n", 0, start) + 1
            self.col = start - (source.rfind("\n", 0, start) + 1) + 1
        text = kind
        if detail is not None:
            text += f": {detail}"
            if hint is not None:
                text += f" ({hint})"
        elif hint is not None:
            text += f": {hint}"
        if self.line is not None:
            text += f" at {self.line}:{self.col}"
        elif where:
            text += f" at {where}"
        self.message = text
        super().__init__(text)

    def wave_message(self) -> str:
        """The error as the wasm-wave crate prints it: ``kind[: detail] at start..end``."""
        text = self.kind if self.detail is None else f"{self.kind}: {self.detail}"
        if self.span is not None:
            text += f" at {self.span[0]}..{self.span[1]}"
        return text


def _debug_str(s: str) -> str:
    """``s`` quoted like Rust's ``{:?}`` (used in wasm-wave's error details)."""
    out = ['"']
    for ch in s:
        out.append(_escape_char(ch))
    out.append('"')
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Lexer (positions are character indices into the source; errors convert to byte offsets)

_NUMBER_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_HEX = frozenset("0123456789abcdefABCDEF")
_SIMPLE_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "t": "\t", "n": "\n", "r": "\r"}
_PUNCT = {
    "{": "BraceOpen",
    "}": "BraceClose",
    "(": "ParenOpen",
    ")": "ParenClose",
    "[": "BracketOpen",
    "]": "BracketClose",
    ":": "Colon",
    ",": "Comma",
}


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # a wasm-wave token name, "Error" or "End"
    start: int
    end: int


def _is_lower(c: str) -> bool:
    return "a" <= c <= "z"


def _is_upper(c: str) -> bool:
    return "A" <= c <= "Z"


def _is_digit(c: str) -> bool:
    return "0" <= c <= "9"


def _lex_label(src: str, pos: int) -> int:
    """End of the label starting at ``pos`` (after any ``%``), or ``pos`` if there is none."""
    n = len(src)
    if pos >= n:
        return pos
    c = src[pos]
    if _is_lower(c):
        cls: Callable[[str], bool] = _is_lower
    elif _is_upper(c):
        cls = _is_upper
    else:
        return pos
    i = pos + 1
    while i < n and (cls(src[i]) or _is_digit(src[i])):
        i += 1
    while i + 1 < n and src[i] == "-":
        # The longer of a lower-case and an upper-case word (digits belong to both).
        best = i + 1
        for word_cls in (_is_lower, _is_upper):
            j = i + 1
            while j < n and (word_cls(src[j]) or _is_digit(src[j])):
                j += 1
            best = max(best, j)
        if best == i + 1:
            break
        i = best
    return i


def _lex_char(src: str, start: int) -> _Tok:
    n = len(src)
    i = start + 1
    if i < n and src[i] == "\\":
        nxt = src[i + 1] if i + 1 < n else ""
        if nxt in _SIMPLE_ESCAPES and nxt:
            j = i + 2
            if j < n and src[j] == "'":
                return _Tok("Char", start, j + 1)
            return _Tok("Error", start, start + 1)
        if src.startswith("u{", i + 1) and i + 3 < n and src[i + 3] in _HEX:
            j = i + 3
            while j < n and src[j] in _HEX and j - (i + 3) < 6:
                j += 1
            if j < n and src[j] == "}" and j + 1 < n and src[j + 1] == "'":
                return _Tok("Char", start, j + 2)
            return _Tok("Error", start, i + 4)
        return _Tok("Error", start, start + 1)
    count = 0
    while count < 4 and i + count < n and src[i + count] not in "\\'\n":
        count += 1
    if count and i + count < n and src[i + count] == "'":
        end = i + count + 1
        if count != 1:
            return _Tok("Error", start, end)
        return _Tok("Char", start, end)
    return _Tok("Error", start, start + max(1, count))


def _lex_string(src: str, start: int) -> _Tok:
    n = len(src)
    i = start + 1
    while i < n:
        c = src[i]
        if c == '"':
            return _Tok("String", start, i + 1)
        if c == "\n":
            return _Tok("Error", start, i)
        if c == "\\":
            nxt = src[i + 1] if i + 1 < n else ""
            if nxt and nxt in _SIMPLE_ESCAPES:
                i += 2
                continue
            if src.startswith("u{", i + 1) and i + 3 < n and src[i + 3] in _HEX:
                # Only the escape's shape is checked here; its value is checked when decoding.
                j = i + 3
                while j < n and src[j] in _HEX:
                    j += 1
                if j < n and src[j] == "}":
                    i = j + 1
                    continue
            return _Tok("Error", start, i)
        i += 1
    return _Tok("Error", start, n)


def _lex(src: str, pos: int) -> _Tok:
    """The next token at or after ``pos``, skipping whitespace and comments."""
    n = len(src)
    while pos < n:
        c = src[pos]
        if c in " \t\n\r":
            pos += 1
        elif src.startswith("//", pos):
            nl = src.find("\n", pos)
            pos = n if nl < 0 else nl
        else:
            break
    if pos >= n:
        return _Tok("End", n, n)
    c = src[pos]
    if c in _PUNCT:
        return _Tok(_PUNCT[c], pos, pos + 1)
    if src.startswith('"""', pos):
        close = src.find('"""', pos + 3)
        if close < 0:
            return _Tok("Error", pos, pos + 3)
        return _Tok("MultilineString", pos, close + 3)
    if c == '"':
        return _lex_string(src, pos)
    if c == "'":
        return _lex_char(src, pos)
    if c == "-" or _is_digit(c):
        m = _NUMBER_RE.match(src, pos)
        end = m.end() if m else pos
        if src.startswith("-inf", pos):
            end = max(end, pos + 4)
        if end > pos:
            return _Tok("Number", pos, end)
        return _Tok("Error", pos, pos + 1)
    label_start = pos + 1 if c == "%" else pos
    end = _lex_label(src, label_start)
    if end > label_start:
        return _Tok("LabelOrKeyword", pos, end)
    return _Tok("Error", pos, pos + 1)


# ---------------------------------------------------------------------------------------------
# Untyped syntax tree


@dataclass(slots=True)
class _Node:
    kind: str
    # "true" "false" "number" "char" "string" "multiline" "tuple" "list" "record" "label"
    # "variant" "some" "none" "ok" "err" "flags"
    start: int
    end: int
    children: list[_Node] = field(default_factory=list)


_NODE_NAMES = {
    "true": "bool",
    "false": "bool",
    "number": "number",
    "char": "char",
    "string": "string",
    "multiline": "string",
    "tuple": "tuple",
    "list": "list",
    "record": "record",
    "label": "label",
    "variant": "variant case",
    "some": "some(...)",
    "none": "none",
    "ok": "ok",
    "err": "err",
    "flags": "flags",
}


class _Parser:
    """A recursive-descent parser with wasm-wave's token-level behaviour (and error spans)."""

    def __init__(self, src: str, pos: int = 0) -> None:
        self.src = src
        self.pos = pos
        self.tok = _Tok("End", pos, pos)
        self.depth = 0

    def error(self, kind: str, start: int, end: int, **kw: Any) -> WaveError:
        return WaveError(kind, source=self.src, char_span=(start, end), **kw)

    def advance(self) -> str:
        tok = _lex(self.src, self.pos)
        self.tok = tok
        self.pos = tok.end
        if tok.kind == "Error":
            raise self.error("invalid token", tok.start, tok.end)
        if tok.kind == "End":
            raise self.error("unexpected end of input", tok.start, tok.end)
        return tok.kind

    def peek(self) -> str:
        return _lex(self.src, self.pos).kind

    def unexpected(self, expected: str | None = None) -> WaveError:
        hint = None if expected is None else f"expected {expected}"
        return self.error(
            "unexpected token", self.tok.start, self.tok.end, detail=self.tok.kind, hint=hint
        )

    def expect(self, kind: str, expected: str) -> None:
        if self.tok.kind != kind:
            raise self.unexpected(expected)

    def slice(self) -> str:
        return self.src[self.tok.start : self.tok.end]

    def finish(self) -> None:
        tok = _lex(self.src, self.pos)
        if tok.kind != "End":
            raise self.error("trailing characters after value", tok.start, tok.end)

    def node(self) -> _Node:
        if self.depth >= MAX_DEPTH:
            raise self.error("value nesting too deep", self.tok.start, self.tok.end)
        self.depth += 1
        try:
            return self._node()
        finally:
            self.depth -= 1

    def _leaf(self, kind: str) -> _Node:
        return _Node(kind, self.tok.start, self.tok.end)

    def _node(self) -> _Node:
        kind = self.advance()
        if kind == "Number":
            return self._leaf("number")
        if kind == "Char":
            return self._leaf("char")
        if kind == "String":
            return self._leaf("string")
        if kind == "MultilineString":
            return self._leaf("multiline")
        if kind == "ParenOpen":
            return self.tuple_node()
        if kind == "BracketOpen":
            start = self.tok.start
            items = self.sequence("BracketClose", "`]`")
            return _Node("list", start, self.tok.end, items)
        if kind == "BraceOpen":
            return self.record_or_flags()
        if kind == "LabelOrKeyword":
            word = self.slice()
            if word in ("true", "false"):
                return self._leaf(word)
            if word in ("inf", "nan"):
                return self._leaf("number")
            if word == "some":
                start = self.tok.start
                self.advance()
                self.expect("ParenOpen", "`(` after `some`")
                payload = self.node()
                self.advance()
                self.expect("ParenClose", "`)`")
                return _Node("some", start, self.tok.end, [payload])
            if word == "none":
                return self._leaf("none")
            if word in ("ok", "err"):
                start = self.tok.start
                children: list[_Node] = []
                if self.peek() == "ParenOpen":
                    self.advance()
                    children.append(self.node())
                    self.advance()
                    self.expect("ParenClose", "`)`")
                return _Node(word, start, self.tok.end, children)
            label = self._leaf("label")
            if self.peek() == "ParenOpen":
                self.advance()
                payload = self.node()
                self.advance()
                self.expect("ParenClose", "`)`")
                return _Node("variant", label.start, self.tok.end, [label, payload])
            return label
        raise self.unexpected("a value")

    def tuple_node(self) -> _Node:
        start = self.tok.start
        items = self.sequence("ParenClose", "`)`")
        if not items:
            raise self.error("empty tuple", start, self.tok.end)
        return _Node("tuple", start, self.tok.end, items)

    def sequence(self, end: str, what: str) -> list[_Node]:
        items: list[_Node] = []
        if self.peek() == end:
            self.advance()
            return items
        while True:
            items.append(self.node())
            if self.advance() == "Comma":
                if self.peek() == end:
                    self.advance()
                    return items
            else:
                self.expect(end, f"`,` or {what}")
                return items

    def label(self) -> _Node:
        self.expect("LabelOrKeyword", "a label")
        return self._leaf("label")

    def record_or_flags(self) -> _Node:
        start = self.tok.start
        kind = self.advance()
        if kind == "Colon":
            self.advance()
            self.expect("BraceClose", "`}` after `{:`")
            return _Node("record", start, self.tok.end)
        if kind == "BraceClose":
            return _Node("flags", start, self.tok.end)
        is_record = self.peek() == "Colon"
        seen: set[str] = set()
        children: list[_Node] = []
        while True:
            label = self.label()
            name = _label_text(self.src, label)
            if name in seen:
                what = "field" if is_record else "flag"
                raise self.error(
                    f"duplicate {what}", label.start, label.end, detail=_debug_str(name)
                )
            seen.add(name)
            children.append(label)
            if is_record:
                self.advance()
                self.expect("Colon", "`:` after the field name")
                children.append(self.node())
            if self.advance() == "Comma":
                self.advance()
            elif self.tok.kind != "BraceClose":
                raise self.unexpected("`,` or `}`")
            if self.tok.kind == "BraceClose":
                break
        return _Node("record" if is_record else "flags", start, self.tok.end, children)

    def call(self) -> tuple[_Node, _Node | None]:
        """``name(args)``: the name's span and the arguments' tuple node (``None`` for ``()``)."""
        n = len(self.src)
        i = self.pos
        while i < n and self.src[i] in " \t\n\r":
            i += 1
        j = i
        while j < n and (
            self.src[j].isascii() and (self.src[j].isalnum() or self.src[j] in "-%:/.@+_")
        ):
            j += 1
        if j == i:
            end = i + 1 if i < n else n
            raise self.error("invalid token", i, end, hint="expected a function name")
        name = _Node("label", i, j)
        self.pos = j
        self.advance()
        self.expect("ParenOpen", "`(` after the function name")
        args: _Node | None
        if self.peek() == "ParenClose":
            self.advance()
            args = None
        else:
            args = self.tuple_node()
        self.finish()
        return name, args

    def arg_list(self) -> _Node:
        """A comma-separated list of values running to the end of the input."""
        start = self.pos
        items: list[_Node] = []
        if self.peek() != "End":
            while True:
                items.append(self.node())
                tok = _lex(self.src, self.pos)
                if tok.kind == "End":
                    break
                self.advance()
                if self.tok.kind != "Comma":
                    raise self.unexpected("`,` or the end of the arguments")
                if self.peek() == "End":
                    break
        return _Node("tuple", start, len(self.src), items)


def _label_text(src: str, node: _Node) -> str:
    text = src[node.start : node.end]
    return text[1:] if text.startswith("%") else text


# ---------------------------------------------------------------------------------------------
# Strings and chars


def _unescape(src: str, i: int) -> tuple[str, int] | None:
    """Decode the escape at ``src[i]`` (a backslash): the char and the escape's length."""
    if i + 1 >= len(src):
        return None
    c = src[i + 1]
    if c in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[c], 2
    if c != "u" or i + 2 >= len(src) or src[i + 2] != "{":
        return None
    j = i + 3
    digits = 0
    value = 0
    while True:
        if j >= len(src):
            return None
        d = src[j]
        if d == "}":
            if digits == 0:
                return None
            break
        if d not in _HEX:
            return None
        value = value * 16 + int(d, 16)
        digits += 1
        if digits > 6:
            return None
        j += 1
    if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
        return None
    return chr(value), digits + 4


class _Source:
    """Helpers that turn a node into an error with the right span and a helpful hint."""

    def __init__(self, src: str) -> None:
        self.src = src

    def error(self, node: _Node, kind: str, **kw: Any) -> WaveError:
        return WaveError(kind, source=self.src, char_span=(node.start, node.end), **kw)

    def at(self, start: int, end: int, kind: str, **kw: Any) -> WaveError:
        return WaveError(kind, source=self.src, char_span=(start, end), **kw)

    def wrong_type(self, node: _Node, ty: t.Type) -> WaveError:
        got = _NODE_NAMES[node.kind]
        if node.kind in ("label", "variant"):
            got += f" `{_label_text(self.src, node if node.kind == 'label' else node.children[0])}`"
        return self.error(node, "invalid value type", hint=f"expected {_describe(ty)}, got {got}")

    def convert_error(self, node: _Node, detail: str, hint: str | None = None) -> WaveError:
        return self.error(node, "error converting Wasm value", detail=detail, hint=hint)

    def string(self, node: _Node) -> str:
        if node.kind == "string":
            return self._decode(node.start + 1, node.end - 1)
        return self._multiline(node)

    def _decode(self, start: int, end: int) -> str:
        src = self.src
        out: list[str] = []
        i = start
        while i < end:
            j = src.find("\\", i, end)
            if j < 0:
                out.append(src[i:end])
                break
            out.append(src[i:j])
            esc = _unescape(src[:end], j)
            if esc is None:
                raise self.at(j, j + 1, "invalid character escape")
            out.append(esc[0])
            i = j + esc[1]
        return "".join(out)

    def _multiline(self, node: _Node) -> str:
        start, end = node.start + 3, node.end - 3
        content = self.src[start:end]
        body, pos = (content[1:], start + 1) if content.startswith("\r") else (content, start)
        lines = body.split("\n")
        indent = lines.pop()
        if indent.strip(" "):
            raise self.at(
                end - 3,
                end,
                "invalid multiline string",
                detail='closing """ must be on a line preceded only by spaces',
            )
        if not lines or lines[0] != "":
            raise self.at(
                start,
                start + 1,
                "invalid multiline string",
                detail='opening """ must be followed immediately by newline',
            )
        pos += len(lines[0]) + 1
        out: list[str] = []
        for line in lines[1:]:
            line_start = pos
            pos += len(line) + 1
            if not line.startswith(indent):
                raise self.at(
                    line_start,
                    line_start + 1,
                    "invalid multiline string",
                    detail='lines must be indented at least as much as closing """',
                )
            text_start = line_start + len(indent)
            text_end = line_start + len(line)
            if line.endswith("\r"):
                text_end -= 1
            out.append(self._decode(text_start, text_end))
        return "\n".join(out)

    def char(self, node: _Node) -> str:
        inner = self.src[node.start + 1 : node.end - 1]
        if inner.startswith("\\"):
            esc = _unescape(inner, 0)
            if esc is None:
                raise self.error(node, "invalid character escape")
            ch, length = esc
        else:
            ch, length = inner[:1], 1
        if length != len(inner):
            raise self.error(node, "multiple characters in char value")
        return ch


# ---------------------------------------------------------------------------------------------
# Numbers

_INT_RANGES = t.INT_RANGES
_F32_MAX = struct.unpack("<f", b"\xff\xff\x7f\x7f")[0]
_F32_OVERFLOW = Fraction(2**128 - 2**103)  # values at or beyond this round to infinity


def to_f32(x: float) -> float:
    """``x`` rounded to the nearest ``f32`` (overflowing to infinity)."""
    if math.isnan(x) or math.isinf(x):
        return x
    if abs(x) >= float(_F32_OVERFLOW):
        return math.copysign(math.inf, x)
    try:
        return float(struct.unpack("<f", struct.pack("<f", x))[0])
    except OverflowError:
        # In [MAX, 2**128 - 2**103): rounds down to MAX.
        return math.copysign(_F32_MAX, x)


def _parse_f32(text: str) -> float:
    """Parse a decimal ``f32`` with correct rounding (no double rounding through ``f64``)."""
    approx = float(text)
    if math.isnan(approx) or (math.isinf(approx) and not any(c.isdigit() for c in text)):
        return approx
    negative = text.startswith("-")
    if approx == 0 or abs(approx) < 1e-50:  # far below half the smallest f32 subnormal
        return -0.0 if negative else 0.0
    if abs(approx) > 1e39:  # far beyond the largest f32 (also avoids huge exact fractions)
        return -math.inf if negative else math.inf
    exact = Fraction(text)
    sign = -1.0 if exact < 0 else 1.0
    mag = abs(exact)
    if mag >= _F32_OVERFLOW:
        return sign * math.inf
    guess = abs(to_f32(min(abs(approx), _F32_MAX)))
    bits = f32_bits(guess)
    best, best_dist, best_bits = guess, abs(Fraction(guess) - mag), bits
    for cand_bits in (bits - 1, bits + 1):
        if cand_bits < 0 or cand_bits >= 0x7F800000:
            continue
        cand = f32_from_bits(cand_bits)
        dist = abs(Fraction(cand) - mag)
        if dist < best_dist or (dist == best_dist and cand_bits % 2 == 0):
            best, best_dist, best_bits = cand, dist, cand_bits
    del best_bits
    return sign * best


def _plain_decimal(digits: str) -> str:
    """Scientific text as a plain decimal without exponent, like Rust's float ``Display``."""
    text = format(Decimal(digits), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _format_float(x: float, f32: bool) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    if not f32:
        return _plain_decimal(repr(x))
    x = to_f32(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    for precision in range(1, 10):
        digits = f"{x:.{precision - 1}e}"
        if _parse_f32(digits) == x:
            return _plain_decimal(digits)
    return _plain_decimal(repr(x))  # pragma: no cover - 9 digits always round-trip


# ---------------------------------------------------------------------------------------------
# Typed conversion: syntax tree -> Python value


def _describe(ty: t.Type) -> str:
    if isinstance(ty, t.RecordType):
        return "record"
    if isinstance(ty, t.VariantType):
        return "variant"
    if isinstance(ty, t.EnumType):
        return "enum"
    if isinstance(ty, t.FlagsType):
        return "flags"
    return ty.wit()


def _flattenable(ty: t.Type) -> bool:
    return not isinstance(ty, (t.OptionType, t.ResultType))


class _Converter(_Source):
    def value(self, node: _Node, ty: t.Type) -> Any:
        if isinstance(ty, t.PrimType):
            return self.prim(node, ty)
        if isinstance(ty, t.ListType):
            if node.kind != "list":
                raise self.wrong_type(node, ty)
            items = [self.value(child, ty.element) for child in node.children]
            if ty.length is not None and len(items) != ty.length:
                raise self.convert_error(
                    node, f"wrong number of list values (want {ty.length}, got {len(items)})"
                )
            if ty.element == t.U8 and ty.length is None:
                return bytes(items)  # as the ABI lifts it (a fixed-length list stays a list)
            return items
        if isinstance(ty, t.TupleType):
            if node.kind != "tuple":
                raise self.wrong_type(node, ty)
            if len(node.children) != len(ty.types):
                raise self.convert_error(
                    node,
                    "wrong number of tuple values "
                    f"(want {len(ty.types)}, got {len(node.children)})",
                )
            return tuple(self.value(c, et) for c, et in zip(node.children, ty.types, strict=True))
        if isinstance(ty, t.RecordType):
            return self.record(node, ty)
        if isinstance(ty, t.VariantType):
            return self.variant(node, ty)
        if isinstance(ty, t.EnumType):
            if node.kind != "label":
                raise self.wrong_type(node, ty)
            name = _label_text(self.src, node)
            if name not in ty.names:
                raise self.convert_error(
                    node,
                    f"unknown case {_debug_str(name)}",
                    hint="expected one of " + ", ".join(ty.names),
                )
            return name
        if isinstance(ty, t.FlagsType):
            if node.kind != "flags":
                raise self.wrong_type(node, ty)
            names = [_label_text(self.src, c) for c in node.children]
            for name in names:
                if name not in ty.names:
                    raise self.convert_error(
                        node,
                        f"unknown case {_debug_str(name)}",
                        hint="expected flags among " + ", ".join(ty.names),
                    )
            return frozenset(names)
        if isinstance(ty, t.OptionType):
            return self.option(node, ty)
        if isinstance(ty, t.ResultType):
            return self.result(node, ty)
        if isinstance(ty, t.MapType):
            pair = t.TupleType((ty.key, ty.value))
            if node.kind != "list":
                raise self.wrong_type(node, ty)
            out: dict[Any, Any] = {}
            for child in node.children:
                k, v = self.value(child, pair)
                out[k] = v
            return out
        raise self.convert_error(node, f"unsupported type {ty.wit()}")

    def prim(self, node: _Node, ty: t.PrimType) -> Any:
        name = ty.name
        if name == "bool":
            if node.kind not in ("true", "false"):
                raise self.wrong_type(node, ty)
            return node.kind == "true"
        if name in _INT_RANGES:
            if node.kind != "number":
                raise self.wrong_type(node, ty)
            text = self.src[node.start : node.end]
            lo, hi = _INT_RANGES[name]
            if not re.fullmatch(r"-?[0-9]+", text) or (lo == 0 and text.startswith("-")):
                raise self.error(node, "invalid value", hint=f"expected an integer for {name}")
            value = int(text) if len(text) <= 21 else hi + 1  # (longer is out of range anyway)
            if not lo <= value <= hi:
                raise self.error(node, "invalid value", hint=f"{text} is out of range for {name}")
            return value
        if name in ("f32", "f64"):
            if node.kind != "number":
                raise self.wrong_type(node, ty)
            text = self.src[node.start : node.end]
            return _parse_f32(text) if name == "f32" else float(text)
        if name == "char":
            if node.kind != "char":
                raise self.wrong_type(node, ty)
            return self.char(node)
        if name == "string":
            if node.kind not in ("string", "multiline"):
                raise self.wrong_type(node, ty)
            return self.string(node)
        raise self.convert_error(node, f"unsupported type {name}")

    def record(self, node: _Node, ty: t.RecordType) -> Record:
        if node.kind != "record":
            raise self.wrong_type(node, ty)
        given: dict[str, _Node] = {}
        for label, value in zip(node.children[::2], node.children[1::2], strict=True):
            given[_label_text(self.src, label)] = value
        known = dict(ty.fields)
        for name in given:
            if name not in known:
                raise self.convert_error(
                    node,
                    f"unknown field {_debug_str(name)}",
                    hint="expected fields " + ", ".join(known),
                )
        fields: dict[str, Any] = {}
        for name, field_ty in ty.fields:
            if name in given:
                fields[name] = self.value(given[name], field_ty)
            elif isinstance(field_ty, t.OptionType):
                fields[name] = None
            else:
                raise self.convert_error(node, f"missing field {_debug_str(name)}")
        return Record(fields)

    def variant(self, node: _Node, ty: t.VariantType) -> Variant:
        if node.kind == "label":
            label, payload = node, None
        elif node.kind == "variant":
            label, payload = node.children[0], node.children[1]
        else:
            raise self.wrong_type(node, ty)
        name = _label_text(self.src, label)
        cases = dict(ty.cases)
        if name not in cases:
            raise self.convert_error(
                node,
                f"unknown case {_debug_str(name)}",
                hint="expected one of " + ", ".join(cases),
            )
        return Variant(name, self.payload(node, name, cases[name], payload))

    def payload(self, node: _Node, case: str, ty: t.Type | None, payload: _Node | None) -> Any:
        if ty is not None and payload is not None:
            return self.value(payload, ty)
        if ty is None and payload is None:
            return None
        if ty is not None:
            raise self.convert_error(node, f"missing payload for {_debug_str(case)} case")
        raise self.convert_error(node, f"unexpected payload for {_debug_str(case)} case")

    def option(self, node: _Node, ty: t.OptionType) -> Any:
        if node.kind == "none":
            return None
        if node.kind == "some":
            inner = self.value(node.children[0], ty.inner)
        elif _flattenable(ty.inner):
            inner = self.value(node, ty.inner)
        else:
            raise self.wrong_type(node, ty)
        return Some(inner) if option_needs_some(ty.inner) else inner

    def result(self, node: _Node, ty: t.ResultType) -> Ok[Any] | Err[Any]:
        payload = node.children[0] if node.children else None
        if node.kind == "ok":
            return Ok(self.payload(node, "ok", ty.ok, payload))
        if node.kind == "err":
            return Err(self.payload(node, "err", ty.err, payload))
        if ty.ok is not None and _flattenable(ty.ok):
            return Ok(self.value(node, ty.ok))
        raise self.wrong_type(node, ty)

    def params(
        self, args: _Node | None, name_span: tuple[int, int], types: Sequence[t.Type]
    ) -> list[Any]:
        if args is None:
            if types:
                raise self.at(
                    *name_span,
                    "invalid params",
                    detail=f"no params provided, but {len(types)} required",
                )
            return []
        values: list[Any] = []
        for i, child in enumerate(args.children):
            if i >= len(types):
                raise self.error(
                    child,
                    "invalid params",
                    detail="more param(s) than expected",
                    hint=f"expected {len(types)}",
                )
            values.append(self.value(child, types[i]))
        for ty in types[len(values) :]:
            if not isinstance(ty, t.OptionType):
                end = max(args.end, args.start + 1)
                raise self.at(
                    end - 1,
                    end,
                    "invalid params",
                    detail="missing required param(s)",
                    hint=f"expected {len(types)}, got {len(values)}",
                )
            values.append(None)
        return values


# ---------------------------------------------------------------------------------------------
# Public parsing API


def parse(type: t.Type, text: str) -> Any:
    """Parse one WAVE value of ``type`` (surrounding whitespace and comments allowed).

    Raises :class:`WaveError` for malformed text or a value that does not fit ``type``.
    """
    parser = _Parser(text)
    node = parser.node()
    parser.finish()
    return _Converter(text).value(node, type)


def parse_invocation(text: str) -> tuple[str, list[str]]:
    """Split ``name(arg1, arg2)`` into the function name and each argument's WAVE text.

    The name may be qualified (``ns:pkg/iface.name``, ``iface.name@1.0.0``). Arguments are
    split on top-level commas only, so strings, chars and nested values stay whole; the text of
    each argument excludes surrounding whitespace and comments. The arguments are checked for
    well-formed syntax but not typed; see :func:`parse_args` and :func:`parse_call`.
    """
    parser = _Parser(text)
    name, args = parser.call()
    raw = [] if args is None else [text[c.start : c.end] for c in args.children]
    return text[name.start : name.end], raw


def parse_args(param_types: Sequence[t.Type], text: str) -> list[Any]:
    """Parse a whole argument list (the text between a call's parentheses) against
    ``param_types``. Trailing ``option`` parameters may be left out (they become ``None``);
    a trailing comma is allowed.
    """
    parser = _Parser(text)
    args = parser.arg_list()
    return _Converter(text).params(args, (0, len(text)), param_types)


def parse_call(
    text: str, param_types: Sequence[t.Type] | Callable[[str], Sequence[t.Type] | None]
) -> tuple[str, list[Any]]:
    """Parse a whole invocation ``name(args...)``: the name and the typed argument values.

    ``param_types`` is either the parameter types or a function from the (possibly qualified)
    name to them (returning ``None`` for an unknown function). Error positions are relative to
    ``text`` as a whole.
    """
    parser = _Parser(text)
    name_node, args = parser.call()
    name = text[name_node.start : name_node.end]
    if callable(param_types):
        types = param_types(name)
        if types is None:
            raise WaveError(
                "unknown function",
                detail=_debug_str(name),
                source=text,
                char_span=(name_node.start, name_node.end),
            )
    else:
        types = param_types
    conv = _Converter(text)
    return name, conv.params(args, (name_node.start, name_node.end), types)


# ---------------------------------------------------------------------------------------------
# Printing: Python value -> canonical WAVE text


def _escape_char(ch: str) -> str:
    if ch in "\\\"'":
        return "\\" + ch
    if ch == "\t":
        return "\\t"
    if ch == "\n":
        return "\\n"
    if ch == "\r":
        return "\\r"
    cat = unicodedata.category(ch)
    if cat in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Mn", "Me") or (cat == "Zs" and ch != " "):
        return f"\\u{{{ord(ch):x}}}"
    return ch


def _label(name: str) -> str:
    return "%" + name if name in KEYWORDS else name


class _Printer:
    def __init__(self) -> None:
        self.path: list[str] = []

    def fail(self, ty: t.Type, value: Any, why: str | None = None) -> WaveError:
        where = "".join(self.path) or "the top-level value"
        hint = why or f"expected a {_describe(ty)} value, got {type(value).__name__} {value!r}"
        return WaveError("invalid value for type", hint=hint, where=where)

    def write(self, ty: t.Type, value: Any) -> str:
        if isinstance(ty, t.PrimType):
            return self.prim(ty, value)
        if isinstance(ty, t.ListType):
            if isinstance(value, (str, Mapping)) or not isinstance(
                value, (list, tuple, bytes, bytearray, memoryview)
            ):
                raise self.fail(ty, value)
            items = list(value)
            if ty.length is not None and len(items) != ty.length:
                raise self.fail(ty, value, f"expected {ty.length} elements, got {len(items)}")
            return (
                "[" + ", ".join(self.at(f"[{i}]", ty.element, v) for i, v in enumerate(items)) + "]"
            )
        if isinstance(ty, t.TupleType):
            if not isinstance(value, (tuple, list)) or len(value) != len(ty.types):
                raise self.fail(ty, value)
            parts = [
                self.at(f"[{i}]", et, v)
                for i, (et, v) in enumerate(zip(ty.types, value, strict=True))
            ]
            return "(" + ", ".join(parts) + ")"
        if isinstance(ty, t.RecordType):
            return self.record(ty, value)
        if isinstance(ty, t.VariantType):
            if not isinstance(value, Variant):
                raise self.fail(ty, value)
            cases = dict(ty.cases)
            if value.case not in cases:
                raise self.fail(ty, value, f"unknown case {value.case!r}")
            payload_ty = cases[value.case]
            if payload_ty is None:
                if value.payload is not None:
                    raise self.fail(ty, value, f"case {value.case!r} has no payload")
                return _label(value.case)
            return f"{_label(value.case)}({self.at('(' + value.case + ')', payload_ty, value.payload)})"
        if isinstance(ty, t.EnumType):
            if not isinstance(value, str) or value not in ty.names:
                raise self.fail(ty, value)
            return _label(value)
        if isinstance(ty, t.FlagsType):
            if isinstance(value, str) or not isinstance(value, Iterable):
                raise self.fail(ty, value)
            names = set(value)
            unknown = names - set(ty.names)
            if unknown:
                raise self.fail(ty, value, f"unknown flags {sorted(unknown)!r}")
            return "{" + ", ".join(n for n in ty.names if n in names) + "}"
        if isinstance(ty, t.OptionType):
            if value is None:
                return "none"
            if isinstance(value, Some):
                value = value.value
            return f"some({self.at('?', ty.inner, value)})"
        if isinstance(ty, t.ResultType):
            if isinstance(value, Ok):
                case, payload_ty = "ok", ty.ok
            elif isinstance(value, Err):
                case, payload_ty = "err", ty.err
            else:
                raise self.fail(ty, value)
            if payload_ty is None:
                if value.value is not None:
                    raise self.fail(ty, value, f"the {case} case has no payload")
                return case
            return f"{case}({self.at('.' + case, payload_ty, value.value)})"
        if isinstance(ty, t.MapType):
            entries: Iterable[Any] = value.items() if isinstance(value, Mapping) else value
            pair = t.TupleType((ty.key, ty.value))
            return (
                "["
                + ", ".join(self.at(f"[{i}]", pair, tuple(kv)) for i, kv in enumerate(entries))
                + "]"
            )
        raise self.fail(ty, value, f"{ty.wit()} values have no WAVE form")

    def at(self, step: str, ty: t.Type, value: Any) -> str:
        self.path.append(step)
        try:
            return self.write(ty, value)
        finally:
            self.path.pop()

    def prim(self, ty: t.PrimType, value: Any) -> str:
        name = ty.name
        if name == "bool":
            if not isinstance(value, bool):
                raise self.fail(ty, value)
            return "true" if value else "false"
        if name in _INT_RANGES:
            if not isinstance(value, int) or isinstance(value, bool):
                raise self.fail(ty, value)
            lo, hi = _INT_RANGES[name]
            if not lo <= value <= hi:
                raise self.fail(ty, value, f"{value} is out of range for {name}")
            return str(value)
        if name in ("f32", "f64"):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise self.fail(ty, value)
            return _format_float(float(value), name == "f32")
        if name == "char":
            if not isinstance(value, str) or len(value) != 1 or 0xD800 <= ord(value) <= 0xDFFF:
                raise self.fail(ty, value, f"expected a one-character str, got {value!r}")
            return "'" + _escape_char(value) + "'"
        if name == "string":
            if not isinstance(value, str):
                raise self.fail(ty, value)
            return '"' + "".join(_escape_char(c) for c in value) + '"'
        raise self.fail(ty, value, f"{name} values have no WAVE form")

    def record(self, ty: t.RecordType, value: Any) -> str:
        if isinstance(value, Mapping):
            get: Callable[[str], Any] = value.__getitem__
            has: Callable[[str], bool] = value.__contains__
            unknown = [k for k in value if k not in dict(ty.fields)]
            if unknown:
                raise self.fail(ty, value, f"unknown fields {unknown!r}")
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            obj = value

            def get(name: str) -> Any:
                return getattr(obj, name.replace("-", "_"))

            def has(name: str) -> bool:
                return hasattr(obj, name.replace("-", "_"))
        else:
            raise self.fail(ty, value)
        parts = []
        for name, field_ty in ty.fields:
            if not has(name):
                if isinstance(field_ty, t.OptionType):
                    continue
                raise self.fail(ty, value, f"missing field {name!r}")
            v = get(name)
            if v is None and isinstance(field_ty, t.OptionType):
                continue
            parts.append(f"{name}: {self.at('.' + name, field_ty, v)}")
        return "{" + ", ".join(parts) + "}" if parts else "{:}"


def to_wave(type: t.Type, value: Any) -> str:
    """Print ``value`` (in the Python form of :mod:`wasm_component.values`) as canonical WAVE.

    The canonical form is wasm-wave's: ``", "`` separators, ``option`` record fields that are
    ``none`` left out, ``f32`` printed with the fewest digits that read back exactly, keyword
    case names prefixed with ``%``. Raises :class:`WaveError` if ``value`` does not fit ``type``.
    """
    return _Printer().write(type, value)
