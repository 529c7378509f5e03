"""Generators and converters for the differential (echo) test.

Everything here is engine-neutral:

- Hypothesis strategies for component value types (built from ``wasm_component.types``), for
  echo signatures and for values of a type (in *our* Python value representation);
- a WAT generator for a component whose export ``echo`` forwards its arguments to the imported
  ``host-echo`` (same signature) and returns what it returns, with a correct Canonical ABI core
  module (bump-allocator ``realloc``, flat/spilled params, flat/return-pointer results,
  ``post-return``);
- converters between our value representation and ``wasmtime.component``'s, a type-directed
  equality (NaN-aware, sign-of-zero-aware) and a check that a value has exactly our form;
- bad host return values ("wrong shape", non-scalar chars, lone surrogates...) that both engines
  must reject.

Fixed-length lists are not generated: wasmtime-py's ``wasmtime.component`` has no value type for
them (``valtype_from_ptr`` knows no fixed-list kind), so there is no oracle.
"""

from __future__ import annotations

import functools
import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from tests.exports import export_func
from wasm_component import types as t
from wasm_component.values import Err, Ok, Record, Some, Variant

# ---------------------------------------------------------------------------------------------
# Types

INT_RANGES: dict[str, tuple[int, int]] = {
    "s8": (-(2**7), 2**7 - 1),
    "u8": (0, 2**8 - 1),
    "s16": (-(2**15), 2**15 - 1),
    "u16": (0, 2**16 - 1),
    "s32": (-(2**31), 2**31 - 1),
    "u32": (0, 2**32 - 1),
    "s64": (-(2**63), 2**63 - 1),
    "u64": (0, 2**64 - 1),
}

SCALARS = (t.BOOL, t.S8, t.U8, t.S16, t.U16, t.S32, t.U32, t.S64, t.U64, t.F32, t.F64, t.CHAR,
           t.STRING)

# A pool of kebab-case labels (field / case names); enums, variants and flags with many cases
# use generated ``c<i>`` labels instead.
LABELS = ("a", "b", "c", "x", "y", "z", "foo", "bar-baz", "q-r-s", "val", "e0", "k9", "long-name",
          "is-ok", "w")


def _unique_labels(min_size: int, max_size: int) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(LABELS), min_size=min_size, max_size=max_size,
                    unique=True).map(tuple)


def _many_labels(n: int, prefix: str = "c") -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(n))


# Case counts: mostly small, sometimes just over 256 so the discriminant becomes a u16.
_case_counts = st.one_of(*[st.integers(1, 6)] * 10,
                         st.sampled_from([255, 256, 257, 300]))

enum_types = st.one_of(
    _unique_labels(1, 6).map(t.EnumType),
    _case_counts.map(lambda n: t.EnumType(_many_labels(n))),
)
flags_types = st.one_of(
    _unique_labels(1, 6).map(t.FlagsType),
    st.sampled_from([1, 7, 8, 9, 15, 16, 17, 31, 32]).map(lambda n: t.FlagsType(_many_labels(n, "f"))),
)

leaf_types: st.SearchStrategy[t.Type] = st.one_of(
    st.sampled_from(SCALARS), enum_types, flags_types
)


@st.composite
def _variant_of(draw: Any, sub: st.SearchStrategy[t.Type]) -> t.VariantType:
    if draw(st.integers(0, 9)) == 0:
        # Many cases (u16 discriminant); a few carry payloads.
        n = draw(st.sampled_from([256, 257, 300]))
        names = _many_labels(n)
        payloads = {draw(st.integers(0, n - 1)): draw(sub) for _ in range(draw(st.integers(0, 3)))}
        return t.VariantType(tuple((nm, payloads.get(i)) for i, nm in enumerate(names)))
    names = draw(_unique_labels(1, 5))
    return t.VariantType(tuple((nm, draw(st.none() | sub)) for nm in names))


@st.composite
def _record_of(draw: Any, sub: st.SearchStrategy[t.Type]) -> t.RecordType:
    names = draw(_unique_labels(1, 6))
    return t.RecordType(tuple((nm, draw(sub)) for nm in names))


def _compound(sub: st.SearchStrategy[t.Type]) -> st.SearchStrategy[t.Type]:
    opt_sub = st.none() | sub
    return st.one_of(
        sub.map(t.ListType),
        st.just(t.ListType(t.U8)),
        _record_of(sub),
        st.lists(sub, min_size=1, max_size=5).map(lambda ts: t.TupleType(tuple(ts))),
        _variant_of(sub),
        sub.map(t.OptionType),
        sub.map(lambda s: t.OptionType(t.OptionType(s))),
        st.builds(t.ResultType, opt_sub, opt_sub),
    )


def val_types(max_depth: int = 3) -> st.SearchStrategy[t.Type]:
    """Value types nested at most ``max_depth`` compound levels deep."""
    s: st.SearchStrategy[t.Type] = leaf_types
    for _ in range(max_depth):
        s = st.one_of(leaf_types, _compound(s))
    return s


# ---------------------------------------------------------------------------------------------
# Signatures


@dataclass(frozen=True)
class Signature:
    """``echo: func(p0: T0, ...) -> R``. ``ret`` says what the host returns: ``"all"`` (its one
    argument, or the tuple of all), ``"first"`` (only ``p0``) or ``"none"`` (no result)."""

    params: tuple[t.Type, ...]
    ret: str = "all"

    @property
    def result(self) -> t.Type | None:
        if self.ret == "none":
            return None
        if self.ret == "first" or len(self.params) == 1:
            return self.params[0]
        return t.TupleType(self.params)

    @property
    def functype(self) -> t.FuncType:
        return t.FuncType(tuple((f"p{i}", ty) for i, ty in enumerate(self.params)), self.result)

    def echo(self, args: tuple[Any, ...]) -> Any:
        """What the host function returns for ``args`` (in either representation)."""
        if self.ret == "none":
            return None
        if self.ret == "first" or len(args) == 1:
            return args[0]
        return tuple(args)


@st.composite
def signatures(draw: Any, max_depth: int = 3) -> Signature:
    mode = draw(st.sampled_from(["single-scalar", "single", "single", "few", "many-scalars",
                                 "many-scalars", "mixed"]))
    if mode == "single-scalar":
        # flat in / flat out (a leaf, or an option/enum of one)
        params: tuple[t.Type, ...] = (draw(st.one_of(leaf_types, leaf_types.map(t.OptionType))),)
    elif mode == "single":
        # one param: flat in/flat out for scalars, flat in/spilled out for small aggregates,
        # spilled/spilled for big ones.
        params = (draw(val_types(max_depth)),)
    elif mode == "few":
        params = tuple(draw(st.lists(val_types(max_depth), min_size=2, max_size=4)))
    elif mode == "many-scalars":
        # > MAX_FLAT_PARAMS flat params: pointer-passed params.
        params = tuple(draw(st.lists(st.sampled_from(SCALARS), min_size=9, max_size=20)))
    else:
        params = tuple(draw(st.lists(val_types(max(1, max_depth - 1)), min_size=1, max_size=8)))
    ret = draw(st.sampled_from(["all", "all", "all", "all", "all", "first", "first", "none"]))
    return Signature(params, ret)


# ---------------------------------------------------------------------------------------------
# Canonical ABI: flattening, sizes, alignment

MAX_FLAT_PARAMS = 16
MAX_FLAT_RESULTS = 1


def _disc_size(n: int) -> int:
    return 1 if n <= 256 else 2 if n <= 65536 else 4


def _cases(ty: t.Type) -> list[t.Type | None]:
    if isinstance(ty, t.VariantType):
        return [c for _, c in ty.cases]
    if isinstance(ty, t.OptionType):
        return [None, ty.inner]
    if isinstance(ty, t.ResultType):
        return [ty.ok, ty.err]
    if isinstance(ty, t.EnumType):
        return [None] * len(ty.names)
    raise TypeError(ty)


def _join(a: str, b: str) -> str:
    if a == b:
        return a
    if {a, b} == {"i32", "f32"}:
        return "i32"
    return "i64"


def flatten(ty: t.Type) -> list[str]:
    if isinstance(ty, t.PrimType):
        return {"s64": ["i64"], "u64": ["i64"], "f32": ["f32"], "f64": ["f64"],
                "string": ["i32", "i32"]}.get(ty.name, ["i32"])
    if isinstance(ty, t.ListType):
        assert ty.length is None
        return ["i32", "i32"]
    if isinstance(ty, t.RecordType):
        return [f for _, ft in ty.fields for f in flatten(ft)]
    if isinstance(ty, t.TupleType):
        return [f for ft in ty.types for f in flatten(ft)]
    if isinstance(ty, t.FlagsType):
        return ["i32"] * ((len(ty.names) + 31) // 32)
    if isinstance(ty, (t.VariantType, t.OptionType, t.ResultType, t.EnumType)):
        flat: list[str] = []
        for c in _cases(ty):
            if c is None:
                continue
            for i, f in enumerate(flatten(c)):
                if i < len(flat):
                    flat[i] = _join(flat[i], f)
                else:
                    flat.append(f)
        return ["i32", *flat]
    raise TypeError(ty)


def _align_to(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def alignment(ty: t.Type) -> int:
    if isinstance(ty, t.PrimType):
        return {"bool": 1, "s8": 1, "u8": 1, "s16": 2, "u16": 2, "s64": 8, "u64": 8,
                "f64": 8}.get(ty.name, 4)
    if isinstance(ty, t.ListType):
        return 4
    if isinstance(ty, t.RecordType):
        return max((alignment(ft) for _, ft in ty.fields), default=1)
    if isinstance(ty, t.TupleType):
        return max((alignment(ft) for ft in ty.types), default=1)
    if isinstance(ty, t.FlagsType):
        n = len(ty.names)
        return 1 if n <= 8 else 2 if n <= 16 else 4
    cases = _cases(ty)
    return max([_disc_size(len(cases))] + [alignment(c) for c in cases if c is not None])


def size(ty: t.Type) -> int:
    if isinstance(ty, t.PrimType):
        return {"bool": 1, "s8": 1, "u8": 1, "s16": 2, "u16": 2, "s64": 8, "u64": 8,
                "f64": 8, "string": 8}.get(ty.name, 4)
    if isinstance(ty, t.ListType):
        return 8
    if isinstance(ty, (t.RecordType, t.TupleType)):
        fts = [ft for _, ft in ty.fields] if isinstance(ty, t.RecordType) else list(ty.types)
        s = 0
        for ft in fts:
            s = _align_to(s, alignment(ft)) + size(ft)
        return _align_to(s, alignment(ty))
    if isinstance(ty, t.FlagsType):
        n = len(ty.names)
        return 1 if n <= 8 else 2 if n <= 16 else 4 * ((n + 31) // 32)
    cases = _cases(ty)
    s = _disc_size(len(cases))
    payload = [c for c in cases if c is not None]
    if payload:
        s = _align_to(s, max(alignment(c) for c in payload)) + max(size(c) for c in payload)
    return _align_to(s, alignment(ty))


def core_sigs(sig: Signature) -> tuple[list[str], list[str], list[str], list[str], bool]:
    """``(lift_params, lift_results, lower_params, lower_results, results_spilled)``."""
    params = [f for p in sig.params for f in flatten(p)]
    results = flatten(sig.result) if sig.result is not None else []
    if len(params) > MAX_FLAT_PARAMS:
        params = ["i32"]
    spilled = len(results) > MAX_FLAT_RESULTS
    if spilled:
        return params, ["i32"], [*params, "i32"], [], True
    return params, results, params, results, False


def shape(sig: Signature) -> str:
    """A label for the ABI shape: params flat/spilled x results flat/spilled/none."""
    nparams = sum(len(flatten(p)) for p in sig.params)
    nres = len(flatten(sig.result)) if sig.result is not None else 0
    p = "params-spilled" if nparams > MAX_FLAT_PARAMS else "params-flat"
    r = "no-result" if sig.result is None else (
        "results-spilled" if nres > MAX_FLAT_RESULTS else "results-flat")
    return f"{p}/{r}"


# ---------------------------------------------------------------------------------------------
# WAT generation


class _TypeEmitter:
    """Emits type definitions bottom-up. Records, variants, enums and flags must be *named* to
    appear in an imported or exported function's type, so each is defined and then imported as
    ``(import "tN" (type (eq ...)))``; structural types are plain definitions."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[t.Type, str] = {}
        self.count = 0

    def ref(self, ty: t.Type) -> str:
        if isinstance(ty, t.PrimType):
            return ty.name
        got = self.names.get(ty)
        if got is not None:
            return got
        if isinstance(ty, t.ListType):
            body = f"(list {self.ref(ty.element)})"
        elif isinstance(ty, t.TupleType):
            body = "(tuple " + " ".join(self.ref(e) for e in ty.types) + ")"
        elif isinstance(ty, t.OptionType):
            body = f"(option {self.ref(ty.inner)})"
        elif isinstance(ty, t.ResultType):
            parts = []
            if ty.ok is not None:
                parts.append(self.ref(ty.ok))
            if ty.err is not None:
                parts.append(f"(error {self.ref(ty.err)})")
            body = "(result " + " ".join(parts) + ")" if parts else "(result)"
        elif isinstance(ty, t.RecordType):
            body = "(record " + " ".join(
                f'(field "{n}" {self.ref(ft)})' for n, ft in ty.fields) + ")"
        elif isinstance(ty, t.VariantType):
            body = "(variant " + " ".join(
                f'(case "{n}")' if ct is None else f'(case "{n}" {self.ref(ct)})'
                for n, ct in ty.cases) + ")"
        elif isinstance(ty, t.EnumType):
            body = "(enum " + " ".join(f'"{n}"' for n in ty.names) + ")"
        elif isinstance(ty, t.FlagsType):
            body = "(flags " + " ".join(f'"{n}"' for n in ty.names) + ")"
        else:
            raise TypeError(ty)
        i = self.count
        self.count += 1
        if isinstance(ty, (t.RecordType, t.VariantType, t.EnumType, t.FlagsType)):
            self.lines.append(f"(type $d{i} {body})")
            self.lines.append(f'(import "t{i}" (type $t{i} (eq $d{i})))')
        else:
            self.lines.append(f"(type $t{i} {body})")
        self.names[ty] = f"$t{i}"
        return f"$t{i}"


def _core_functype(params: list[str], results: list[str]) -> str:
    p = f"(param {' '.join(params)})" if params else ""
    r = f"(result {' '.join(results)})" if results else ""
    return f"{p} {r}".strip()


HEAP_BASE = 16

LIBC = f"""
  (core module $libc
    (memory (export "memory") 1)
    (global $bump (mut i32) (i32.const {HEAP_BASE}))
    (func (export "realloc") (param $old i32) (param $osz i32) (param $al i32) (param $nsz i32)
                             (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get $al) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $al))))
      (global.set $bump (i32.add (local.get $p) (local.get $nsz)))
      (block $ok
        (br_if $ok (i32.le_u (global.get $bump) (i32.shl (memory.size) (i32.const 16))))
        (br_if $ok (i32.ne (memory.grow (i32.add (i32.shr_u (i32.sub (global.get $bump)
                                                   (i32.shl (memory.size) (i32.const 16)))
                                                 (i32.const 16))
                                        (i32.const 1)))
                           (i32.const -1)))
        unreachable)
      (if (local.get $old)
        (then (memory.copy (local.get $p) (local.get $old)
                (select (local.get $osz) (local.get $nsz)
                        (i32.lt_u (local.get $osz) (local.get $nsz))))))
      (local.get $p))
    (func (export "reset") (global.set $bump (i32.const {HEAP_BASE}))))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $mem))
  (alias core export $libc "realloc" (core func $realloc))
"""


def component_wat(sig: Signature) -> str:
    """A component exporting ``echo`` that forwards to the imported ``host-echo``."""
    em = _TypeEmitter()
    param_refs = [em.ref(p) for p in sig.params]
    res = sig.result
    res_ref = em.ref(res) if res is not None else None
    lift_p, lift_r, low_p, low_r, spilled = core_sigs(sig)

    ft_params = " ".join(f'(param "p{i}" {r})' for i, r in enumerate(param_refs))
    ft_result = f" (result {res_ref})" if res_ref is not None else ""

    body: list[str] = []
    if spilled:
        assert res is not None
        body.append(f"(local.set $ret (call $realloc (i32.const 0) (i32.const 0) "
                    f"(i32.const {alignment(res)}) (i32.const {size(res)})))")
    body += [f"(local.get {i})" for i in range(len(lift_p))]
    if spilled:
        body.append("(local.get $ret)")
    body.append("(call $host)")
    if spilled:
        body.append("(local.get $ret)")
    local = "(local $ret i32)" if spilled else ""
    main = f"""
  (core module $main
    (import "libc" "realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
    (import "libc" "reset" (func $reset))
    (import "host" "echo" (func $host {_core_functype(low_p, low_r)}))
    (func (export "echo") {_core_functype(lift_p, lift_r)} {local}
      {" ".join(body)})
    (func (export "post") {_core_functype(lift_r, [])}
      (call $reset)))"""

    types = "\n  ".join(em.lines)
    return f"""(component
  {types}
  (type $ft (func {ft_params}{ft_result}))
  (import "host-echo" (func $host (type $ft)))
{LIBC}
  (core func $host_lowered (canon lower (func $host) (memory $mem) (realloc $realloc)))
{main}
  (core instance $main (instantiate $main
    (with "libc" (instance $libc))
    (with "host" (instance (export "echo" (func $host_lowered))))))
  (func $echo (type $ft) (canon lift (core func $main "echo") (memory $mem) (realloc $realloc)
    (post-return (core func $main "post"))))
  (export "echo" (func $echo))
)
"""


# ---------------------------------------------------------------------------------------------
# Values (our representation)


def _f32(x: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", x))[0])


def values(ty: t.Type, max_len: int = 4) -> st.SearchStrategy[Any]:
    if isinstance(ty, t.PrimType):
        n = ty.name
        if n == "bool":
            return st.booleans()
        if n in INT_RANGES:
            lo, hi = INT_RANGES[n]
            return st.integers(lo, hi)
        if n == "f32":
            return st.floats(width=32)
        if n == "f64":
            return st.floats()
        if n == "char":
            return st.characters(blacklist_categories=["Cs"])
        if n == "string":
            return st.text(max_size=12)
        raise TypeError(ty)
    if isinstance(ty, t.ListType):
        if ty.element == t.U8:
            return st.binary(max_size=24)
        return st.lists(values(ty.element, max_len), max_size=max_len)
    if isinstance(ty, t.RecordType):
        return st.fixed_dictionaries({n: values(ft, max_len) for n, ft in ty.fields}).map(Record)
    if isinstance(ty, t.TupleType):
        return st.tuples(*(values(e, max_len) for e in ty.types))
    if isinstance(ty, t.VariantType):
        # Pick a case first so variants with hundreds of cases stay cheap.
        def case(i: int) -> st.SearchStrategy[Any]:
            n, ct = ty.cases[i]
            if ct is None:
                return st.just(Variant(n))
            return values(ct, max_len).map(functools.partial(Variant, n))

        return st.integers(0, len(ty.cases) - 1).flatmap(case)
    if isinstance(ty, t.EnumType):
        return st.sampled_from(ty.names)
    if isinstance(ty, t.FlagsType):
        return st.sets(st.sampled_from(ty.names)).map(frozenset)
    if isinstance(ty, t.OptionType):
        inner = values(ty.inner, max_len)
        if isinstance(ty.inner, t.OptionType):
            inner = inner.map(Some)
        return st.none() | inner
    if isinstance(ty, t.ResultType):
        ok = st.just(None) if ty.ok is None else values(ty.ok, max_len)
        err = st.just(None) if ty.err is None else values(ty.err, max_len)
        return ok.map(Ok) | err.map(Err)
    raise TypeError(ty)


def arg_values(sig: Signature) -> st.SearchStrategy[tuple[Any, ...]]:
    max_len = 4 if len(sig.params) <= 4 else 2
    return st.tuples(*(values(p, max_len) for p in sig.params))


# ---------------------------------------------------------------------------------------------
# Our form: exact-shape check and type-directed equality


def conforms(ty: t.Type | None, v: Any) -> bool:
    """Whether ``v`` has exactly our documented Python form for ``ty``."""
    if ty is None:
        return v is None
    if isinstance(ty, t.PrimType):
        n = ty.name
        if n == "bool":
            return type(v) is bool
        if n in INT_RANGES:
            lo, hi = INT_RANGES[n]
            return type(v) is int and lo <= v <= hi
        if n in ("f32", "f64"):
            return type(v) is float
        # (str/bytes subclasses are fine: ours may tag lifted strings with their encoding)
        if n == "char":
            return isinstance(v, str) and len(v) == 1
        return isinstance(v, str)
    if isinstance(ty, t.ListType):
        if ty.element == t.U8:
            return isinstance(v, bytes)
        return type(v) is list and all(conforms(ty.element, e) for e in v)
    if isinstance(ty, t.RecordType):
        return (isinstance(v, Mapping) and list(v.keys()) == [n for n, _ in ty.fields]
                and all(conforms(ft, v[n]) for n, ft in ty.fields))
    if isinstance(ty, t.TupleType):
        return (type(v) is tuple and len(v) == len(ty.types)
                and all(conforms(e, x) for e, x in zip(ty.types, v, strict=True)))
    if isinstance(ty, t.VariantType):
        if not isinstance(v, Variant):
            return False
        for n, ct in ty.cases:
            if n == v.case:
                return conforms(ct, v.payload)
        return False
    if isinstance(ty, t.EnumType):
        return isinstance(v, str) and v in ty.names
    if isinstance(ty, t.FlagsType):
        return type(v) is frozenset and v <= set(ty.names)
    if isinstance(ty, t.OptionType):
        if v is None:
            return True
        if isinstance(ty.inner, t.OptionType):
            return isinstance(v, Some) and conforms(ty.inner, v.value)
        return conforms(ty.inner, v)
    if isinstance(ty, t.ResultType):
        if isinstance(v, Ok):
            return conforms(ty.ok, v.value)
        if isinstance(v, Err):
            return conforms(ty.err, v.value)
        return False
    raise TypeError(ty)


def _float_eq(a: Any, b: Any) -> bool:
    if not (isinstance(a, float) and isinstance(b, float)):
        return False
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def equal(ty: t.Type | None, a: Any, b: Any) -> bool:
    """Type-directed equality of two values in our form (NaNs equal, -0.0 != 0.0)."""
    if ty is None:
        return a is None and b is None
    if isinstance(ty, t.PrimType):
        if ty.name in ("f32", "f64"):
            return _float_eq(a, b)
        if ty.name in ("char", "string"):
            return isinstance(a, str) and isinstance(b, str) and str(a) == str(b)
        return type(a) is type(b) and a == b
    if isinstance(ty, t.ListType):
        if ty.element == t.U8:
            return isinstance(a, bytes) and isinstance(b, bytes) and bytes(a) == bytes(b)
        return (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
                and all(equal(ty.element, x, y) for x, y in zip(a, b, strict=True)))
    if isinstance(ty, t.RecordType):
        return (isinstance(a, Mapping) and isinstance(b, Mapping)
                and set(a) == set(b) == {n for n, _ in ty.fields}
                and all(equal(ft, a[n], b[n]) for n, ft in ty.fields))
    if isinstance(ty, t.TupleType):
        return (isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) == len(ty.types)
                and all(equal(e, x, y) for e, x, y in zip(ty.types, a, b, strict=True)))
    if isinstance(ty, t.VariantType):
        if not (isinstance(a, Variant) and isinstance(b, Variant) and a.case == b.case):
            return False
        return equal(dict(ty.cases).get(a.case), a.payload, b.payload)
    if isinstance(ty, t.EnumType):
        return isinstance(a, str) and isinstance(b, str) and str(a) == str(b)
    if isinstance(ty, t.FlagsType):
        return type(a) is type(b) and a == b
    if isinstance(ty, t.OptionType):
        if a is None or b is None:
            return a is None and b is None
        if isinstance(ty.inner, t.OptionType):
            return isinstance(a, Some) and isinstance(b, Some) and equal(ty.inner, a.value, b.value)
        return equal(ty.inner, a, b)
    if isinstance(ty, t.ResultType):
        if isinstance(a, Ok) and isinstance(b, Ok):
            return equal(ty.ok, a.value, b.value)
        if isinstance(a, Err) and isinstance(b, Err):
            return equal(ty.err, a.value, b.value)
        return False
    raise TypeError(ty)


# ---------------------------------------------------------------------------------------------
# wasmtime.component's representation
#
# wasmtime-py represents variant-like types (variant, option, result) *untagged* when the Python
# classes of their cases are disjoint (a case without payload counts as ``object``), and as
# ``wasmtime.component.Variant(tag, payload)`` otherwise; see ``VariantLikeType._tagged``.
# Records are ``wasmtime.component.Record`` objects with attributes, flags are ``set``s.


@functools.cache
def _wt_classes(ty: t.Type | None) -> frozenset[type]:
    import wasmtime.component as wc

    if ty is None:
        return frozenset({object})
    if isinstance(ty, t.PrimType):
        n = ty.name
        if n == "bool":
            return frozenset({bool})
        if n in INT_RANGES:
            return frozenset({int})
        if n in ("f32", "f64"):
            return frozenset({float})
        return frozenset({str})
    if isinstance(ty, t.ListType):
        return frozenset({bytes} if ty.element == t.U8 else {list})
    if isinstance(ty, t.RecordType):
        return frozenset({wc.Record})
    if isinstance(ty, t.TupleType):
        return frozenset({tuple})
    if isinstance(ty, t.EnumType):
        return frozenset({str})
    if isinstance(ty, t.FlagsType):
        return frozenset({set})
    if wt_tagged(ty):
        return frozenset({wc.Variant})
    out: set[type] = set()
    for c in _cases(ty):
        out |= _wt_classes(c)
    return frozenset(out)


@functools.cache
def wt_tagged(ty: t.Type) -> bool:
    seen: set[type] = set()
    for c in _cases(ty):
        cls = _wt_classes(c)
        if cls & seen:
            return True
        seen |= cls
    return False


def _case_names(ty: t.Type) -> list[str]:
    if isinstance(ty, t.VariantType):
        return [n for n, _ in ty.cases]
    if isinstance(ty, t.OptionType):
        return ["none", "some"]
    return ["ok", "err"]


class Bad:
    """A deliberately invalid host return value: ``ours`` for our engine, ``wt`` for
    wasmtime.component. ``what`` describes it for failure messages."""

    def __init__(self, ours: Any, wt: Any, what: str) -> None:
        self.ours, self.wt, self.what = ours, wt, what

    def __repr__(self) -> str:
        return f"Bad({self.what})"


class _WtUnsafe:
    """The ``wt`` half of a ``Bad`` that must not be given to wasmtime.component: handing it a
    char that is not a Unicode scalar value aborts the process (a Rust panic in the C API,
    ``crates/c-api/src/component/val.rs``: ``char::from_u32(..).unwrap()``). For such cases the
    spec is the oracle: our engine must raise."""

    def __repr__(self) -> str:
        return "WT_UNSAFE"


WT_UNSAFE = _WtUnsafe()


def wt_safe(v: Any) -> bool:
    b = find_bad(v)
    return b is None or b.wt is not WT_UNSAFE


class Junk:
    """An object no engine should accept as any component value."""

    def __repr__(self) -> str:
        return "Junk()"


def _ours_case(ty: t.Type, v: Any) -> tuple[str, Any]:
    if isinstance(ty, t.VariantType):
        return v.case, v.payload
    if isinstance(ty, t.OptionType):
        if v is None:
            return "none", None
        return "some", (v.value if isinstance(v, Some) else v)
    if isinstance(v, Ok):
        return "ok", v.value
    return "err", v.value


def to_wt(ty: t.Type | None, v: Any) -> Any:
    """Our value -> wasmtime.component's value (``Bad`` markers become their ``wt`` half)."""
    import wasmtime.component as wc

    if isinstance(v, Bad):
        return v.wt
    if ty is None or isinstance(ty, (t.PrimType, t.EnumType)):
        return v
    if isinstance(ty, t.ListType):
        return v if ty.element == t.U8 else [to_wt(ty.element, e) for e in v]
    if isinstance(ty, t.RecordType):
        r = wc.Record()
        for n, ft in ty.fields:
            if n in v:
                setattr(r, n, to_wt(ft, v[n]))
        return r
    if isinstance(ty, t.TupleType):
        return tuple(to_wt(e, x) for e, x in zip(ty.types, v))  # noqa: B905 (bad arity allowed)
    if isinstance(ty, t.FlagsType):
        return set(v)
    case, payload = _ours_case(ty, v)
    names = _case_names(ty)
    ct = _cases(ty)[names.index(case)] if case in names else None
    p = to_wt(ct, payload)
    if wt_tagged(ty):
        return wc.Variant(case) if ct is None else wc.Variant(case, p)
    return p


def _wt_conforms(ty: t.Type | None, v: Any) -> bool:
    import wasmtime.component as wc

    if ty is None:
        return v is None
    if isinstance(ty, t.PrimType):
        n = ty.name
        if n == "bool":
            return type(v) is bool
        if n in INT_RANGES:
            return type(v) is int
        if n in ("f32", "f64"):
            return type(v) is float
        return type(v) is str and (n != "char" or len(v) == 1)
    if isinstance(ty, t.ListType):
        if ty.element == t.U8:
            return type(v) is bytes
        return type(v) is list and all(_wt_conforms(ty.element, e) for e in v)
    if isinstance(ty, t.RecordType):
        return isinstance(v, wc.Record) and all(
            hasattr(v, n) and _wt_conforms(ft, getattr(v, n)) for n, ft in ty.fields)
    if isinstance(ty, t.TupleType):
        return (type(v) is tuple and len(v) == len(ty.types)
                and all(_wt_conforms(e, x) for e, x in zip(ty.types, v, strict=True)))
    if isinstance(ty, t.EnumType):
        return type(v) is str and v in ty.names
    if isinstance(ty, t.FlagsType):
        return type(v) is set
    names, cases = _case_names(ty), _cases(ty)
    if wt_tagged(ty):
        if not isinstance(v, wc.Variant) or v.tag not in names:
            return False
        return _wt_conforms(cases[names.index(v.tag)], v.payload)
    return any(_wt_conforms(c, v) for c in cases)


class ConversionError(Exception):
    pass


def from_wt(ty: t.Type | None, v: Any) -> Any:
    """wasmtime.component's value -> our value. Raises ``ConversionError`` if ``v`` is not a
    valid wasmtime-py value of ``ty``."""
    import wasmtime.component as wc

    if ty is None:
        if v is not None:
            raise ConversionError(f"expected None, got {v!r}")
        return None
    if not _wt_conforms(ty, v):
        raise ConversionError(f"{v!r} is not a wasmtime-py value of {ty}")
    if isinstance(ty, (t.PrimType, t.EnumType)):
        return v
    if isinstance(ty, t.ListType):
        return v if ty.element == t.U8 else [from_wt(ty.element, e) for e in v]
    if isinstance(ty, t.RecordType):
        return Record({n: from_wt(ft, getattr(v, n)) for n, ft in ty.fields})
    if isinstance(ty, t.TupleType):
        return tuple(from_wt(e, x) for e, x in zip(ty.types, v, strict=True))
    if isinstance(ty, t.FlagsType):
        return frozenset(v)
    names, cases = _case_names(ty), _cases(ty)
    if wt_tagged(ty):
        assert isinstance(v, wc.Variant)
        case, ct, payload = v.tag, cases[names.index(v.tag)], v.payload
    else:
        # Untagged: the case whose type the value conforms to (case classes are disjoint).
        matches = [i for i, c in enumerate(cases) if _wt_conforms(c, v)]
        if len(matches) != 1:
            raise ConversionError(f"ambiguous untagged value {v!r} for {ty}")
        case, ct, payload = names[matches[0]], cases[matches[0]], v
    p = from_wt(ct, payload)
    if isinstance(ty, t.VariantType):
        return Variant(case, p)
    if isinstance(ty, t.OptionType):
        if case == "none":
            return None
        return Some(p) if isinstance(ty.inner, t.OptionType) else p
    return Ok(p) if case == "ok" else Err(p)


def strip(v: Any) -> Any:
    """Our value with ``Bad`` markers replaced by their ``ours`` half."""
    if isinstance(v, Bad):
        return v.ours
    if isinstance(v, Record):
        return Record({k: strip(x) for k, x in v.items()})
    if isinstance(v, Variant):
        return Variant(v.case, strip(v.payload))
    if isinstance(v, Ok):
        return Ok(strip(v.value))
    if isinstance(v, Err):
        return Err(strip(v.value))
    if isinstance(v, Some):
        return Some(strip(v.value))
    if isinstance(v, tuple):
        return tuple(strip(x) for x in v)
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


# ---------------------------------------------------------------------------------------------
# Bad host return values


def bad_leaves(ty: t.Type, v: Any) -> list[Bad]:
    """Replacements for the value ``v`` of ``ty`` that both engines must reject."""
    import wasmtime.component as wc

    out = [Bad(Junk(), Junk(), f"junk object for {ty}")]
    if isinstance(ty, t.PrimType):
        n = ty.name
        if n == "bool":
            out.append(Bad("true", "true", "str for bool"))
        elif n in INT_RANGES:
            out += [Bad("7", "7", f"str for {n}"), Bad(1.5, 1.5, f"float for {n}")]
        elif n in ("f32", "f64"):
            out.append(Bad("1.0", "1.0", f"str for {n}"))
        elif n == "char":
            out += [Bad("ab", "ab", "2-char str for char"), Bad("", "", "empty str for char"),
                    Bad(65, 65, "int for char"),
                    Bad("\ud800", WT_UNSAFE, "surrogate U+D800 for char"),
                    Bad("\udfff", WT_UNSAFE, "surrogate U+DFFF for char")]
        elif n == "string":
            out += [Bad(5, 5, "int for string"),
                    Bad("a\udc00b", "a\udc00b", "lone surrogate in string")]
    elif isinstance(ty, t.ListType):
        out.append(Bad(5, 5, f"int for {ty}"))
        if ty.element == t.U8:
            out.append(Bad("abc", "abc", "str for list<u8>"))
    elif isinstance(ty, t.RecordType):
        # Drop one field, keep the others valid.
        for i, (n, _) in enumerate(ty.fields):
            rest = ty.fields[:i] + ty.fields[i + 1:]
            ours = Record({m: v[m] for m, _ in rest})
            wt = wc.Record()
            for m, ft in rest:
                setattr(wt, m, to_wt(ft, v[m]))
            out.append(Bad(ours, wt, f"record missing field {n!r}"))
    elif isinstance(ty, t.TupleType):
        short = v[:-1]
        out.append(Bad(short, to_wt(t.TupleType(ty.types[:-1]), short) if short else (),
                       f"tuple of arity {len(ty.types) - 1} for {ty}"))
    elif isinstance(ty, t.VariantType):
        unknown = wc.Variant("zz-nope") if wt_tagged(ty) else Junk()
        out.append(Bad(Variant("zz-nope"), unknown, "unknown variant case"))
    elif isinstance(ty, t.EnumType):
        out.append(Bad("zz-nope", "zz-nope", "unknown enum case"))
    elif isinstance(ty, t.FlagsType):
        out.append(Bad(frozenset({"zz-nope"}), {"zz-nope"}, "unknown flag"))
        out.append(Bad(5, 5, "int for flags"))
    return out


def _children(ty: t.Type, v: Any) -> list[tuple[t.Type, Any, Any]]:
    """``(child type, child value, rebuild)`` where ``rebuild(new_child)`` gives a new parent."""
    out: list[tuple[t.Type, Any, Any]] = []
    if isinstance(ty, t.ListType) and ty.element != t.U8:
        for i, e in enumerate(v):
            out.append((ty.element, e, lambda x, i=i: [*v[:i], x, *v[i + 1:]]))
    elif isinstance(ty, t.RecordType):
        for n, ft in ty.fields:
            out.append((ft, v[n], lambda x, n=n: Record({**v, n: x})))
    elif isinstance(ty, t.TupleType):
        for i, e in enumerate(ty.types):
            out.append((e, v[i], lambda x, i=i: (*v[:i], x, *v[i + 1:])))
    elif isinstance(ty, t.VariantType):
        ct = dict(ty.cases)[v.case]
        if ct is not None:
            out.append((ct, v.payload, lambda x: Variant(v.case, x)))
    elif isinstance(ty, t.OptionType):
        if v is not None:
            if isinstance(v, Some):
                out.append((ty.inner, v.value, lambda x: Some(x)))
            else:
                out.append((ty.inner, v, lambda x: x))
    elif isinstance(ty, t.ResultType):
        ct = ty.ok if isinstance(v, Ok) else ty.err
        if ct is not None:
            out.append((ct, v.value, lambda x: type(v)(x)))
    return out


@st.composite
def corrupted(draw: Any, ty: t.Type, v: Any) -> Any:
    """``v`` with one sub-value (possibly itself) replaced by a ``Bad`` leaf."""
    kids = _children(ty, v)
    if kids and draw(st.integers(0, 2)) > 0:
        cty, cv, rebuild = draw(st.sampled_from(kids))
        return rebuild(draw(corrupted(cty, cv)))
    return draw(st.sampled_from(bad_leaves(ty, v)))


def find_bad(v: Any) -> Bad | None:
    if isinstance(v, Bad):
        return v
    if isinstance(v, Mapping):
        vs: Any = v.values()
    elif isinstance(v, (Variant,)):
        vs = [v.payload]
    elif isinstance(v, (Ok, Err, Some)):
        vs = [v.value]
    elif isinstance(v, (tuple, list)):
        vs = v
    else:
        return None
    for x in vs:
        b = find_bad(x)
        if b is not None:
            return b
    return None


__all__ = [
    "Bad",
    "ConversionError",
    "Junk",
    "Signature",
    "arg_values",
    "component_wat",
    "conforms",
    "core_sigs",
    "corrupted",
    "equal",
    "find_bad",
    "from_wt",
    "shape",
    "signatures",
    "strip",
    "to_wt",
    "val_types",
    "values",
]


# ---------------------------------------------------------------------------------------------
# Raw lifting: a guest export returning arbitrary bits


def _wat_bytes(b: bytes) -> str:
    return "".join(f"\\{x:02x}" for x in b)


def raw_lift_wat(ty: t.Type, flat: list[int | float], mem: bytes) -> str:
    """A component exporting ``f: func() -> ty`` whose core function returns the given flat
    values (when ``ty`` flattens to one value) or a pointer to ``mem`` placed at offset
    ``RAW_BASE`` (a return pointer). ``mem`` may encode anything: the lift must trap or agree."""
    em = _TypeEmitter()
    ref = em.ref(ty)
    ftys = flatten(ty)
    if len(ftys) > MAX_FLAT_RESULTS:
        res, body = "i32", f"(i32.const {RAW_BASE})"
    else:
        (res,) = ftys
        (v,) = flat
        if res in ("f32", "f64"):
            bits = struct.unpack("<I", struct.pack("<f", v))[0] if res == "f32" else \
                struct.unpack("<Q", struct.pack("<d", v))[0]
            ity = "i32" if res == "f32" else "i64"
            body = f"({res}.reinterpret_{ity} ({ity}.const {bits}))"
        else:
            body = f"({res}.const {v})"
    types = "\n  ".join(em.lines)
    return f"""(component
  {types}
  (core module $m
    (memory (export "memory") 1)
    (data (i32.const {RAW_BASE}) "{_wat_bytes(mem)}")
    (func (export "f") (result {res}) {body}))
  (core instance $i (instantiate $m))
  (alias core export $i "memory" (core memory $mem))
  (func $f (result {ref}) (canon lift (core func $i "f") (memory $mem)))
  (export "f" (func $f))
)
"""


RAW_BASE = 1024

# Bytes biased towards small values, so discriminants, bools and lengths are often valid.
_raw_byte = st.one_of(st.sampled_from([0, 0, 0, 1, 1, 2, 3]), st.integers(0, 255))


@st.composite
def raw_flat(draw: Any, ty: t.Type) -> list[int | float]:
    """One flat core value for a type with a single flat value (or ``[]`` otherwise)."""
    ftys = flatten(ty)
    if len(ftys) != 1:
        return []
    f = ftys[0]
    if f == "i32":
        v = draw(st.one_of(st.integers(0, 3), st.integers(-(2**31), 2**31 - 1),
                           st.sampled_from([0xD7FF, 0xD800, 0xDFFF, 0xE000, 0x10FFFF, 0x110000,
                                            255, 256, 65535, 65536, -1])))
        return [v]
    if f == "i64":
        return [draw(st.one_of(st.integers(0, 3), st.integers(-(2**63), 2**63 - 1)))]
    if f == "f32":
        return [draw(st.floats(width=32))]
    return [draw(st.floats())]


@functools.cache
def wt_ambiguous(ty: t.Type | None) -> bool:
    """Whether wasmtime-py mis-handles values of ``ty`` (a wasmtime-py bug): in an *untagged*
    variant-like, ``VariantLikeType._lower`` takes the first case whose classes the value is an
    ``isinstance`` of, so a later case is shadowed when an earlier case's classes include a
    superclass of one of its classes (``object`` from a payload-less case or an untagged option
    inside; ``int`` shadows ``bool``). E.g. ``result<u32, bool>``: ``err(true)`` arrives as
    ``ok(1)``; ``result<option<u32>, string>``: ``err("x")`` raises."""
    if ty is None or isinstance(ty, (t.PrimType, t.EnumType, t.FlagsType)):
        return False
    if isinstance(ty, t.ListType):
        return wt_ambiguous(ty.element)
    if isinstance(ty, t.RecordType):
        return any(wt_ambiguous(ft) for _, ft in ty.fields)
    if isinstance(ty, t.TupleType):
        return any(wt_ambiguous(e) for e in ty.types)
    cases = _cases(ty)
    if any(wt_ambiguous(c) for c in cases):
        return True
    if wt_tagged(ty):
        return False
    # A payload-less case only captures ``None`` (not an isinstance test), and ``None`` is never
    # a value of another case's type here (that would make the type tagged).
    classes = [_wt_classes(c) if c is not None else frozenset() for c in cases]
    return any(issubclass(b, a) for i, ci in enumerate(classes) for cj in classes[i + 1:]
               for a in ci for b in cj)


def wt_ambiguous_sig(sig: Signature) -> bool:
    return any(wt_ambiguous(p) for p in sig.params)


# ---------------------------------------------------------------------------------------------
# Call sequences: each call's outcome, its value or "trap"

Calls = Sequence[tuple[str, Sequence[Any]]]


def ours_outcomes(text: str, calls: Calls) -> list[Any]:
    """Instantiate ``text`` with our runtime (no imports) and make ``calls`` in order."""
    import wasm_component as w

    engine = w.Engine()
    store = w.Store(engine)
    inst = w.Linker(engine).instantiate(store, w.Component.new(engine, text))
    out: list[Any] = []
    for name, args in calls:
        try:
            out.append(export_func(inst, store, name)(store, *args))
        except w.Trap:
            out.append("trap")
    return out


def peer_outcomes(text: str, calls: Calls) -> list[Any]:
    """:func:`ours_outcomes` with wasmtime.component."""
    import wasmtime
    import wasmtime.component as wc

    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    inst = wc.Linker(engine).instantiate(store, wc.Component(engine, text))
    out: list[Any] = []
    for name, args in calls:
        f = inst.get_func(store, name)
        assert f is not None
        try:
            value = f(store, *args)
            f.post_return(store)
            out.append(value)
        except wasmtime.WasmtimeError:
            out.append("trap")
    return out
