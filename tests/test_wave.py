"""Tests for the WAVE value text format (:mod:`wasm_component.wave`).

Three layers:

- the wasm-wave "ui" golden corpus (``../shared/corpora/wasm-wave/ui``), one test per case: the
  re-encoded call must match the ``.out`` line exactly for ``accept-*`` files, and ``reject-*``
  cases must fail, with the same wasm-wave style message (kind, detail and byte span);
- hand-written unit tests for the API (``parse``, ``to_wave``, ``parse_invocation``...);
- a Hypothesis round-trip property ``parse(t, to_wave(t, v)) == v`` over generated types/values.
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.corpora import CORPORA
from wasm_component import types as t
from wasm_component.errors import ComponentError
from wasm_component.values import Err, Ok, Record, Some, Variant
from wasm_component.wave import (
    WaveError,
    parse,
    parse_args,
    parse_call,
    parse_invocation,
    to_wave,
)

CORPUS = CORPORA / "wasm-wave" / "ui"

# ---------------------------------------------------------------------------------------------
# The functions of the corpus's ui.wit, built by hand (name -> [(param name, type)]).

_BASIC = t.RecordType((("required", t.U8), ("optional", t.OptionType(t.U8))))
_OPTIONAL_FIELDS = t.RecordType((("a", t.OptionType(t.U8)), ("b", t.OptionType(t.U8))))
_NO_PAYLOADS = t.ResultType(None, None)
_KEYWORD_FIELDS = t.RecordType(
    (
        ("true", t.BOOL),
        ("false", t.BOOL),
        ("some", t.OptionType(t.U8)),
        ("none", t.OptionType(t.U8)),
        ("ok", _NO_PAYLOADS),
        ("err", _NO_PAYLOADS),
        ("inf", t.F32),
        ("nan", t.F32),
    )
)
_KEYWORDS = ("true", "false", "some", "none", "ok", "err", "inf", "nan")

UI_FUNCS: dict[str, list[tuple[str, t.Type]]] = {
    "nullary": [],
    "f32": [("val", t.F32)],
    "list-f32": [("vals", t.ListType(t.F32))],
    "f64": [("val", t.F64)],
    "list-f64": [("vals", t.ListType(t.F64))],
    "char": [("val", t.CHAR)],
    "list-chars": [("vals", t.ListType(t.CHAR))],
    "string": [("val", t.STRING)],
    "list-strings": [("vals", t.ListType(t.STRING))],
    "option-u8": [("opt", t.OptionType(t.U8))],
    "result-ok-u8": [("res", t.ResultType(t.U8, None))],
    "result-err-u8": [("res", t.ResultType(None, t.U8))],
    "result-both-u8": [("res", t.ResultType(t.U8, t.U8))],
    "result-no-payloads": [("res", _NO_PAYLOADS)],
    "basic-record": [("rec", _BASIC)],
    "optional-fields-record": [("rec", _OPTIONAL_FIELDS)],
    "keyword-fields-record": [("rec", _KEYWORD_FIELDS)],
    "hand-enum": [("enm", t.EnumType(("left", "right")))],
    "keyword-cases-enum": [("enm", t.EnumType(_KEYWORDS))],
    "permission-flags": [("flgs", t.FlagsType(("read", "write")))],
}


def _lookup(name: str) -> list[tuple[str, t.Type]] | None:
    """Resolve a possibly qualified name the way the corpus harness does (package ui:tests,
    interface ui, version 0.1.0)."""
    for prefix in ("", "ui.", "ui:tests/ui."):
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            if prefix == "ui:tests/ui." and rest.endswith("@0.1.0"):
                rest = rest[: -len("@0.1.0")]
            if rest in UI_FUNCS:
                return UI_FUNCS[rest]
    return None


def run_case(text: str) -> str:
    """One corpus case, as the wasm-wave ui harness prints it (output or error)."""
    try:
        name, _ = parse_invocation(text)  # syntax errors come before name lookup
        params = _lookup(name)
        if params is None:
            return f"unknown test func {name!r}".replace("'", '"')
        _, values = parse_call(text, [ty for _, ty in params])
    except WaveError as err:
        return err.wave_message()
    args = ", ".join(f"{p}: {to_wave(ty, v)}" for (p, ty), v in zip(params, values, strict=True))
    return f"{name}({args})"


def _corpus_cases() -> list[Any]:
    if not CORPUS.is_dir():
        return [
            pytest.param(
                None,
                None,
                None,
                marks=pytest.mark.skip(reason=f"WAVE corpus not found at {CORPUS}"),
                id="corpus-missing",
            )
        ]
    cases: list[Any] = []
    for path in sorted(CORPUS.glob("*.waves")):
        expected = path.with_suffix(".out").read_text(encoding="utf-8").splitlines()
        inputs = path.read_text(encoding="utf-8").rstrip().rstrip(";")
        line = 0
        for index, raw in enumerate(inputs.split(";\n")):
            text = raw
            while text.startswith("//") and "\n" in text:
                comment, text = text.split("\n", 1)
                assert expected[line] == comment, f"{path.name}: comment out of step"
                line += 1
            cases.append(pytest.param(path.name, text, expected[line], id=f"{path.stem}-{index}"))
            line += 1
        assert line == len(expected), f"{path.name}: {len(expected) - line} unmatched output lines"
    return cases


@pytest.mark.parametrize(("filename", "text", "expected"), _corpus_cases())
def test_corpus(filename: str, text: str, expected: str) -> None:
    got = run_case(text)
    if filename.startswith("accept-"):
        assert got == expected
    else:
        # Must fail (an error, never a re-encoded call) with wasm-wave's message and span.
        assert not got.startswith(text.split("(", 1)[0] + "("), f"accepted {text!r}: {got}"
        assert got == expected


# ---------------------------------------------------------------------------------------------
# Unit tests


def test_error_is_component_error_with_position() -> None:
    with pytest.raises(WaveError) as info:
        parse(t.U32, '\n  "x"')
    err = info.value
    assert isinstance(err, ComponentError)
    assert str(err) == "invalid value type: expected u32, got string at 2:3"
    assert (err.line, err.col, err.span) == (2, 3, (3, 6))
    assert err.wave_message() == "invalid value type at 3..6"


@pytest.mark.parametrize(
    ("ty", "text", "value"),
    [
        (t.BOOL, "true", True),
        (t.S8, "-128", -128),
        (t.U64, "18446744073709551615", 2**64 - 1),
        (t.F64, "-2.5e3", -2500.0),
        (t.F64, "-inf", -math.inf),
        (t.CHAR, r"'\u{2603}'", "☃"),
        (t.STRING, r'"a\tb\"c"', 'a\tb"c'),
        (t.ListType(t.U8), "[1, 2, 255]", b"\x01\x02\xff"),
        (t.ListType(t.U16), "[1, 2,]", [1, 2]),
        (t.ListType(t.U16, 2), "[1, 2]", [1, 2]),
        (t.TupleType((t.U8, t.STRING)), '(1, "a")', (1, "a")),
        (t.RecordType((("x", t.U8), ("y", t.U8))), "{y: 2, x: 1}", Record(x=1, y=2)),
        (
            t.VariantType((("circle", t.F32), ("none-shape", None))),
            "circle(1.5)",
            Variant("circle", 1.5),
        ),
        (t.VariantType((("true", None),)), "%true", Variant("true")),
        (t.EnumType(("red", "green")), "green", "green"),
        (t.OptionType(t.U8), "some(1)", 1),
        (t.OptionType(t.U8), "1", 1),
        (t.OptionType(t.U8), "none", None),
        (t.OptionType(t.OptionType(t.U8)), "some(none)", Some(None)),
        (t.OptionType(t.OptionType(t.U8)), "some(some(3))", Some(3)),
        (t.ResultType(t.U8, t.STRING), 'err("e")', Err("e")),
        (t.ResultType(t.U8, t.STRING), "7", Ok(7)),
        (t.ResultType(None, None), "ok", Ok()),
        (t.FlagsType(("read", "write")), "{write, read}", frozenset({"read", "write"})),
        (t.MapType(t.STRING, t.U8), '[("a", 1), ("b", 2)]', {"a": 1, "b": 2}),
        (t.U8, "  // lead\n 1 // trail", 1),
    ],
)
def test_parse(ty: t.Type, text: str, value: Any) -> None:
    assert parse(ty, text) == value


@pytest.mark.parametrize(
    ("ty", "text", "message"),
    [
        (t.U8, "256", "invalid value: 256 is out of range for u8 at 1:1"),
        (t.U8, "-0", "invalid value: expected an integer for u8 at 1:1"),
        (t.S32, "1.5", "invalid value: expected an integer for s32 at 1:1"),
        (t.U8, "1 2", "trailing characters after value at 1:3"),
        (t.TupleType((t.U8,)), "()", "empty tuple at 1:1"),
        (
            t.EnumType(("red",)),
            "blue",
            'error converting Wasm value: unknown case "blue" (expected one of red) at 1:1',
        ),
        (
            t.RecordType((("x", t.U8),)),
            "{x: 1, y: 2}",
            'error converting Wasm value: unknown field "y" (expected fields x) at 1:1',
        ),
        (
            t.ListType(t.U8, 3),
            "[1]",
            "error converting Wasm value: wrong number of list values (want 3, got 1) at 1:1",
        ),
        (
            t.RecordType((("x", t.U8), ("y", t.U8))),
            "{x: 1 y: 2}",
            "unexpected token: LabelOrKeyword (expected `,` or `}`) at 1:7",
        ),
        (t.ListType(t.U8), "[" * 101 + "]" * 101, "value nesting too deep at 1:100"),
        (t.STRING, '"unterminated', "invalid token at 1:1"),
    ],
)
def test_parse_errors(ty: t.Type, text: str, message: str) -> None:
    with pytest.raises(WaveError) as info:
        parse(ty, text)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("ty", "value", "text"),
    [
        (t.F32, 0.1, "0.1"),
        (t.F64, 0.1, "0.1"),
        (t.F64, 1e300, "1" + "0" * 300),
        (t.F32, math.nan, "nan"),
        (t.CHAR, "\x00", r"'\u{0}'"),
        (t.STRING, "é\u0301\u200b", r'"é\u{301}\u{200b}"'),
        (t.RecordType((("a", t.OptionType(t.U8)),)), Record(a=None), "{:}"),
        (t.EnumType(("nan", "x")), "nan", "%nan"),
        (t.ListType(t.U8), b"\x01\x02", "[1, 2]"),
        (t.FlagsType(("a", "b", "c")), frozenset({"c", "a"}), "{a, c}"),
        (t.OptionType(t.OptionType(t.U8)), Some(None), "some(none)"),
        (t.ResultType(None, t.STRING), Err("x"), 'err("x")'),
        (t.TupleType((t.U8,)), (1,), "(1)"),
    ],
)
def test_to_wave(ty: t.Type, value: Any, text: str) -> None:
    assert to_wave(ty, value) == text


def test_to_wave_accepts_dataclass_records() -> None:
    from dataclasses import dataclass

    @dataclass
    class Point:
        x: int
        y_pos: int

    ty = t.RecordType((("x", t.S32), ("y-pos", t.S32)))
    assert to_wave(ty, Point(1, -2)) == "{x: 1, y-pos: -2}"


@pytest.mark.parametrize(
    ("ty", "value", "message"),
    [
        (t.U8, 300, "invalid value for type: 300 is out of range for u8 at the top-level value"),
        (
            t.ListType(t.BOOL),
            [True, 1],
            "invalid value for type: expected a bool value, got int 1 at [1]",
        ),
        (
            t.RecordType((("x", t.U8),)),
            {},
            "invalid value for type: missing field 'x' at the top-level value",
        ),
        (
            t.OwnType(t.ResourceType.fresh("r")),
            1,
            "invalid value for type: own<r> values have no WAVE form at the top-level value",
        ),
    ],
)
def test_to_wave_errors(ty: t.Type, value: Any, message: str) -> None:
    with pytest.raises(WaveError) as info:
        to_wave(ty, value)
    assert str(info.value) == message


def test_parse_invocation() -> None:
    assert parse_invocation("nullary()") == ("nullary", [])
    assert parse_invocation("f(\"a, b)\", [1, (2, 3)], {x: ')'},)") == (
        "f",
        ['"a, b)"', "[1, (2, 3)]", "{x: ')'}"],
    )
    assert parse_invocation("ns:pkg/iface.run@1.0.0( 1 // one\n )") == (
        "ns:pkg/iface.run@1.0.0",
        ["1"],
    )
    with pytest.raises(WaveError, match="unexpected end of input"):
        parse_invocation("f(1, ")
    with pytest.raises(WaveError, match="trailing characters"):
        parse_invocation("f(1) x")


def test_parse_args() -> None:
    types = [t.U32, t.STRING, t.OptionType(t.BOOL)]
    assert parse_args(types, '1, "x", true') == [1, "x", True]
    assert parse_args(types, '1, "x"') == [1, "x", None]
    assert parse_args(types, '1, "x",') == [1, "x", None]
    assert parse_args([], "  ") == []
    with pytest.raises(WaveError, match="missing required param"):
        parse_args(types, "1")
    with pytest.raises(WaveError, match=r"more param\(s\) than expected"):
        parse_args([t.U8], "1, 2")
    with pytest.raises(WaveError, match="expected u32, got string at 1:1"):
        parse_args(types, '"1", "x"')


def test_parse_call() -> None:
    def resolve(name: str) -> Sequence[t.Type] | None:
        return [t.U8] if name == "f" else None

    assert parse_call("f(1)", resolve) == ("f", [1])
    assert parse_call("g(1, 2)", [t.U8, t.U8]) == ("g", [1, 2])
    with pytest.raises(WaveError, match='unknown function: "g"'):
        parse_call("g(1)", resolve)


def test_f32_parsing_rounds_correctly() -> None:
    # Halfway between two f32s, where rounding through f64 first would go wrong.
    assert parse(t.F32, "16777217") == 16777216.0  # a tie: to even
    assert parse(t.F32, "16777217.000000001") == 16777218.0  # via f64 this would be a tie
    assert parse(t.F32, str(2**128 - 2**103)) == math.inf
    assert parse(t.F32, str(2**128 - 2**103 - 1)) == 3.4028234663852886e38
    assert parse(t.F32, "-0") == 0.0 and math.copysign(1, parse(t.F32, "-0")) < 0
    assert parse(t.F32, "1e-999999999") == 0.0 and parse(t.F32, "-1e999999999") == -math.inf
    assert parse(t.F64, "1e999999999") == math.inf


def test_huge_integers_are_out_of_range() -> None:
    with pytest.raises(WaveError, match="out of range for u64"):
        parse(t.U64, "9" * 5000)


def test_multiline_strings() -> None:
    assert parse(t.STRING, '"""\r\n  a\r\n   b\r\n  """') == "a\n b"
    with pytest.raises(WaveError, match="lines must be indented"):
        parse(t.STRING, '"""\n a\n  """')


# ---------------------------------------------------------------------------------------------
# Round-trip property

_words_lower = st.text(string.ascii_lowercase, min_size=1, max_size=4).flatmap(
    lambda w: st.text(string.ascii_lowercase + string.digits, max_size=3).map(lambda r: w + r)
)
labels = st.one_of(
    st.lists(_words_lower, min_size=1, max_size=2).map("-".join),
    st.sampled_from(_KEYWORDS),
    st.just("A-1B"),
)
PRIMS = [
    t.BOOL,
    t.S8,
    t.U8,
    t.S16,
    t.U16,
    t.S32,
    t.U32,
    t.S64,
    t.U64,
    t.F32,
    t.F64,
    t.CHAR,
    t.STRING,
]


def _unique(n_max: int) -> st.SearchStrategy[list[str]]:
    return st.lists(labels, min_size=1, max_size=n_max, unique=True)


def _compound(inner: st.SearchStrategy[t.Type]) -> st.SearchStrategy[t.Type]:
    opt_inner = st.one_of(st.none(), inner)
    return st.one_of(
        inner.map(t.ListType),
        st.tuples(inner, st.integers(1, 3)).map(lambda p: t.ListType(p[0], p[1])),
        st.lists(inner, min_size=1, max_size=3).map(lambda ts: t.TupleType(tuple(ts))),
        _unique(3).flatmap(
            lambda ns: st.lists(inner, min_size=len(ns), max_size=len(ns)).map(
                lambda ts: t.RecordType(tuple(zip(ns, ts, strict=True)))
            )
        ),
        _unique(3).flatmap(
            lambda ns: st.lists(opt_inner, min_size=len(ns), max_size=len(ns)).map(
                lambda ts: t.VariantType(tuple(zip(ns, ts, strict=True)))
            )
        ),
        _unique(4).map(lambda ns: t.EnumType(tuple(ns))),
        _unique(4).map(lambda ns: t.FlagsType(tuple(ns))),
        inner.map(t.OptionType),
        st.tuples(opt_inner, opt_inner).map(lambda p: t.ResultType(p[0], p[1])),
        st.tuples(st.sampled_from([t.STRING, t.U32]), inner).map(lambda p: t.MapType(*p)),
    )


wave_types = st.recursive(st.sampled_from(PRIMS), _compound, max_leaves=8)

_INT_BITS = {"s8": 8, "s16": 16, "s32": 32, "s64": 64, "u8": 8, "u16": 16, "u32": 32, "u64": 64}


def _variant_case(name: str, payload: t.Type | None) -> st.SearchStrategy[Variant]:
    if payload is None:
        return st.just(Variant(name))
    return values_of(payload).map(lambda v: Variant(name, v))


def values_of(ty: t.Type) -> st.SearchStrategy[Any]:
    if isinstance(ty, t.PrimType):
        if ty.name == "bool":
            return st.booleans()
        if ty.name in _INT_BITS:
            bits = _INT_BITS[ty.name]
            if ty.name.startswith("s"):
                return st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
            return st.integers(0, 2**bits - 1)
        if ty.name == "f32":
            return st.floats(width=32, allow_nan=False)
        if ty.name == "f64":
            return st.floats(allow_nan=False)
        if ty.name == "char":
            return st.characters(exclude_categories=["Cs"])
        return st.text()
    if isinstance(ty, t.ListType):
        if ty.element == t.U8 and ty.length is None:  # (a fixed-length one is a list, as lifted)
            return st.binary(max_size=4)
        lo, hi = (ty.length, ty.length) if ty.length is not None else (0, 3)
        return st.lists(values_of(ty.element), min_size=lo, max_size=hi)
    if isinstance(ty, t.TupleType):
        return st.tuples(*(values_of(e) for e in ty.types))
    if isinstance(ty, t.RecordType):
        return st.fixed_dictionaries({n: values_of(ft) for n, ft in ty.fields}).map(Record)
    if isinstance(ty, t.VariantType):
        return st.one_of(*(_variant_case(n, pt) for n, pt in ty.cases))
    if isinstance(ty, t.EnumType):
        return st.sampled_from(ty.names)
    if isinstance(ty, t.FlagsType):
        return st.sets(st.sampled_from(ty.names)).map(frozenset)
    if isinstance(ty, t.OptionType):
        some = values_of(ty.inner)
        if isinstance(ty.inner, t.OptionType):
            some = some.map(Some)
        return st.one_of(st.none(), some)
    if isinstance(ty, t.ResultType):
        ok = st.just(Ok()) if ty.ok is None else values_of(ty.ok).map(Ok)
        err = st.just(Err()) if ty.err is None else values_of(ty.err).map(Err)
        return st.one_of(ok, err)
    if isinstance(ty, t.MapType):
        return st.dictionaries(values_of(ty.key), values_of(ty.value), max_size=3)
    raise AssertionError(ty)


@given(st.data(), wave_types)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_round_trip(data: st.DataObject, ty: t.Type) -> None:
    value = data.draw(values_of(ty))
    text = to_wave(ty, value)
    assert parse(ty, text) == value, text
    # Printing is canonical: printing the parsed value gives the same text.
    assert to_wave(ty, parse(ty, text)) == text


@given(st.floats(width=32))
def test_f32_shortest_round_trip(x: float) -> None:
    back = parse(t.F32, to_wave(t.F32, x))
    assert back == x or (math.isnan(back) and math.isnan(x))


_FUZZ_TYPES = [
    t.U8,
    t.S64,
    t.F32,
    t.F64,
    t.CHAR,
    t.STRING,
    t.ListType(t.OptionType(t.STRING)),
    t.RecordType((("a", t.U8), ("b", t.OptionType(t.CHAR)))),
    t.VariantType((("x", t.U8), ("y", None))),
    t.ResultType(t.TupleType((t.U8, t.BOOL)), t.FlagsType(("p", "q"))),
]
_WAVE_ALPHABET = st.sampled_from([*"()[]{}:,'\"\\%-.e0159afuxyz{} \n/_☃", "some", "none"])


@given(st.sampled_from(_FUZZ_TYPES), st.lists(_WAVE_ALPHABET, max_size=20).map("".join))
def test_bad_input_raises_only_wave_error(ty: t.Type, text: str) -> None:
    for attempt in (lambda: parse(ty, text), lambda: parse_invocation("f(" + text)):
        try:
            attempt()
        except WaveError as err:
            assert err.span is not None and err.line is not None
