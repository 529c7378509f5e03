"""The fuzz targets: ``make(rng) -> input`` and ``run(input) -> outcome`` per target.

``run`` returns a short outcome label (for the statistics) when the library behaved inside the
error contract, and raises :class:`Finding` when it did not: an exception type the contract does
not allow there, or a round trip that changed the value.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wasm_component import Component, Engine, EngineConfig, Linker, Store
from wasm_component import types as t
from wasm_component._abi import (
    BytearrayMemory,
    CanonicalOptions,
    ComponentInstanceState,
    LiftLowerContext,
    Task,
    alignment,
    elem_size,
    load,
    store,
)
from wasm_component._binary.reader import decode_component
from wasm_component._validate import Features, check_embedder_restrictions, validate
from wasm_component.errors import (
    ComponentError,
    DecodeError,
    LinkError,
    NotSupported,
    Trap,
    ValidationError,
    WitError,
)

from . import gen

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
if not CORPORA.is_dir():  # a worktree: /work/wt/<branch> next to /work/shared
    CORPORA = ROOT.parents[1] / "shared" / "corpora"
CACHE = Path.home() / ".cache" / "wasm-component-tests"


class Finding(Exception):
    """The library failed outside its contract on this input."""


def _outside(where: str, e: BaseException) -> Finding:
    return Finding(f"{where}: {type(e).__module__}.{type(e).__qualname__}: {e}"[:2000])


@dataclass
class Target:
    name: str
    make: Callable[[random.Random], Any]
    run: Callable[[Any], str]
    to_bytes: Callable[[Any], bytes]


# -- seeds -------------------------------------------------------------------------------------


@functools.cache
def component_seeds() -> tuple[bytes, ...]:
    """Every component binary of the conformance corpora (deduplicated, sorted)."""
    out: dict[bytes, None] = {}
    for kind in ("wasm-tools", "wasmtime"):
        for p in sorted((CORPORA / kind / "json").glob("**/*.wasm")):
            data = p.read_bytes()
            if len(data) >= 8 and data[:4] == b"\0asm" and data[6:8] == b"\x01\x00":
                out[data] = None
    return tuple(sorted(out, key=lambda d: (len(d), d)))


FEATURES = (Features.all(), Features.default())


def fuzz_engine() -> Engine:
    """An engine whose guests cannot run forever (fuel) nor blow the Python stack."""
    return Engine(EngineConfig(consume_fuel=True, max_wasm_stack=256 * 1024))


@functools.cache
def _engine() -> Engine:
    return fuzz_engine()


@functools.cache
def runnable_seeds() -> tuple[bytes, ...]:
    """The seeds that compile and instantiate with unknown imports as traps (cached on disk:
    finding them compiles every corpus component once)."""
    seeds = component_seeds()
    key = hashlib.sha256(b"".join(hashlib.sha256(s).digest() for s in seeds)).hexdigest()[:16]
    path = CACHE / f"fuzz-runnable-{key}.pickle"
    if path.exists():
        idx: list[int] = pickle.loads(path.read_bytes())
        return tuple(seeds[i] for i in idx)
    idx = []
    for i, s in enumerate(seeds):
        try:
            _instantiate(s)
        except ComponentError:
            continue
        except Exception:
            continue
        idx.append(i)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(idx))
    return tuple(seeds[i] for i in idx)


@functools.cache
def wit_seeds() -> tuple[str, ...]:
    out = []
    for p in sorted((CORPORA / "wit-parser").glob("**/*.wit")):
        try:
            out.append(p.read_text())
        except (OSError, UnicodeDecodeError):
            continue
    return tuple(out)


# -- decode + validate -------------------------------------------------------------------------

WORST: dict[str, Any] = {"per_kb": 0.0, "seconds": 0.0, "size": 0}


def make_decode(rng: random.Random) -> tuple[bytes, int]:
    """A mutated corpus component, or (one in five) a generated type section, as is or
    lightly mutated: the byte mutations mostly exercise the decoder, the generated types the
    validator's type rules."""
    fi = rng.randrange(len(FEATURES))
    if rng.random() < 0.2:
        from wasm_component._runtime.core import wat2wasm

        try:
            data = wat2wasm(gen.component_wat(rng))
        except ComponentError:  # text our generator got wrong: wasmtime's parser refused it
            data = b"\0asm\x0d\0\x01\0"
        return (data if rng.random() < 0.7 else gen.mutate(rng, data)), fi
    seeds = component_seeds()
    return gen.mutate(rng, rng.choice(seeds), rounds=rng.choice((1, 1, 2, 4))), fi


def run_decode(case: tuple[bytes, int]) -> str:
    data, fi = case
    t0 = time.perf_counter()
    try:
        vc = validate(decode_component(data), FEATURES[fi])
        check_embedder_restrictions(vc)
        out = "valid"
    except DecodeError:
        out = "decode-error"
    except ValidationError:
        out = "validation-error"
    except Exception as e:
        raise _outside("decode+validate", e) from e
    dt = time.perf_counter() - t0
    kb = max(len(data) / 1024, 0.25)  # inputs under 256 bytes count as 256
    if dt / kb > WORST["per_kb"]:
        dt = min(dt, *(_time_decode(case) for _ in range(2)))  # not a scheduling hiccup
        if dt / kb > WORST["per_kb"]:
            WORST.update(per_kb=dt / kb, seconds=dt, size=len(data))
    return out


def _time_decode(case: tuple[bytes, int]) -> float:
    t0 = time.perf_counter()
    with contextlib.suppress(DecodeError, ValidationError):
        check_embedder_restrictions(validate(decode_component(case[0]), FEATURES[case[1]]))
    return time.perf_counter() - t0


# -- instantiate + call ------------------------------------------------------------------------

_CALLABLE = (t.PrimType, t.ListType, t.RecordType, t.TupleType, t.VariantType, t.EnumType,
             t.FlagsType, t.OptionType, t.ResultType, t.MapType)


def _plain(ty: t.Type | None) -> bool:
    """Whether ``gen.value`` can make values of ``ty`` (no handles, streams or futures)."""
    match ty:
        case None | t.EnumType() | t.FlagsType():
            return True
        case t.PrimType(name):
            return name != "error-context"
        case t.ListType(el, _) | t.OptionType(el):
            return _plain(el)
        case t.RecordType(fields):
            return all(_plain(x) for _, x in fields)
        case t.TupleType(types):
            return all(_plain(x) for x in types)
        case t.VariantType(cases):
            return all(_plain(x) for _, x in cases)
        case t.ResultType(ok, err):
            return _plain(ok) and _plain(err)
        case t.MapType(k, v):
            return _plain(k) and _plain(v)
    return False


def _instantiate(data: bytes) -> tuple[Store, Any]:
    engine = _engine()
    c = Component.new(engine, data)
    store = Store(engine)
    store.limiter(memory_size=64 << 20, table_elements=100_000, instances=100, tables=100,
                  memories=100)
    store.set_fuel(200_000)
    linker = Linker(engine)
    linker.define_unknown_imports_as_traps(c)
    return store, linker.instantiate(store, c)


def _funcs(store: Store, inst: Any, prefix: tuple[str, ...] = ()) -> list[Any]:
    out = []
    for name, kind in inst.exports(store) if not prefix else []:
        if kind == "func":
            f = inst.get_func(store, name)
            if f is not None:
                out.append(f)
        elif kind == "instance":
            idx = inst.get_export_index(store, name)
            sub = inst._resolve(idx)[1]
            for n2 in getattr(sub, "exports", {}):
                f = inst.get_func(store, inst.get_export_index(store, n2, idx))
                if f is not None:
                    out.append(f)
    return out


def make_instantiate(rng: random.Random) -> tuple[bytes, int]:
    seeds = runnable_seeds()
    s = rng.choice(seeds)
    data = s if rng.random() < 0.3 else gen.mutate(rng, s, rounds=2)
    return data, rng.randrange(2**32)


def run_instantiate(case: tuple[bytes, int]) -> str:
    data, vseed = case
    rng = random.Random(vseed)
    try:
        store, inst = _instantiate(data)
    except (DecodeError, ValidationError):
        return "invalid"
    except (LinkError, Trap, NotSupported):
        return "instantiate-refused"
    except Exception as e:
        raise _outside("instantiate", e) from e
    calls = 0
    for f in _funcs(store, inst):
        ty = f.type
        if not all(_plain(p) for _, p in ty.params) or not _plain(ty.result):
            continue
        for _ in range(2):
            args = [gen.value(rng, p) for _, p in ty.params]
            try:
                f(store, *args)
                calls += 1
            except (Trap, NotSupported):
                calls += 1
            except Exception as e:
                raise _outside(f"call `{f.name}`", e) from e
    return "called" if calls else "instantiated"


# -- lift / lower ------------------------------------------------------------------------------


def _cx(enc: str, mem: BytearrayMemory) -> LiftLowerContext:
    opts = CanonicalOptions(enc, mem, mem.realloc)  # type: ignore[arg-type]
    inst = ComponentInstanceState()
    return LiftLowerContext(opts, inst, Task(inst))


_ENCS = ("utf8", "utf16", "latin1+utf16")


def make_abi(rng: random.Random) -> tuple[t.Type, Any, str, bytes]:
    ty = gen.value_type(rng)
    return ty, gen.value(rng, ty), rng.choice(_ENCS), rng.randbytes(rng.choice([0, 16, 64, 512]))


def run_abi(case: tuple[t.Type, Any, str, bytes]) -> str:
    ty, v, enc, junk = case
    mem = BytearrayMemory(1 << 16)
    cx = _cx(enc, mem)
    try:
        ptr = mem.realloc(0, 0, alignment(ty), elem_size(ty))
        store(cx, ty, v, ptr)
        back = load(_cx(enc, mem), ty, ptr)
    except Exception as e:
        raise _outside(f"lower/lift {ty.wit()}", e) from e
    if not _same(back, v):
        raise Finding(f"round trip of {ty.wit()} changed {v!r} into {back!r}")
    if not junk:
        return "roundtrip"
    # lifting garbage memory may only trap
    mem2 = BytearrayMemory(1 << 12)
    mem2.view()[16:16 + len(junk)] = junk
    try:
        load(_cx(enc, mem2), ty, 16 - 16 % alignment(ty))
    except Trap:
        return "junk-trapped"
    except Exception as e:
        raise _outside(f"lift junk as {ty.wit()}", e) from e
    return "junk-lifted"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b)
    return bool(a == b)


# -- WIT ---------------------------------------------------------------------------------------


def make_wit(rng: random.Random) -> bytes:
    seeds = wit_seeds()
    return gen.mutate(rng, rng.choice(seeds).encode(), keep=0)


def run_wit(data: bytes) -> str:
    from wasm_component.wit import Resolve, parse_group

    text = data.decode("utf-8", "replace")
    try:
        Resolve().push_group(parse_group([("fuzz.wit", text)]))
    except WitError:
        return "rejected"
    except Exception as e:
        raise _outside("wit", e) from e
    return "accepted"


# -- WAVE --------------------------------------------------------------------------------------


def make_wave(rng: random.Random) -> tuple[t.Type, Any, bytes | None]:
    ty = gen.value_type(rng)
    v = gen.value(rng, ty)
    return ty, v, (None if rng.random() < 0.3 else rng.getrandbits(32).to_bytes(4, "little"))


def run_wave(case: tuple[t.Type, Any, bytes | None]) -> str:
    from wasm_component.wave import WaveError, parse, to_wave

    ty, v, mseed = case
    try:
        text = to_wave(ty, v)
        back = parse(ty, text)
    except Exception as e:
        raise _outside(f"wave round trip of {ty.wit()}", e) from e
    if not _same(back, v):
        raise Finding(f"wave round trip of {ty.wit()} changed {v!r} into {back!r} ({text})")
    if mseed is None:
        return "roundtrip"
    bad = gen.mutate(random.Random(mseed), text.encode(), keep=0).decode("utf-8", "replace")
    try:
        parse(ty, bad)
    except WaveError:
        return "rejected"
    except Exception as e:
        raise _outside(f"wave parse {bad!r} as {ty.wit()}", e) from e
    return "accepted"


# -- validator differential: our verdict vs wasm-tools' ------------------------------------


def make_vdiff(rng: random.Random) -> bytes:
    from wasm_component._runtime.core import wat2wasm

    try:
        return wat2wasm(gen.component_wat(rng))
    except ComponentError:
        return b"\0asm\x0d\0\x01\0"


def run_vdiff(data: bytes) -> str:
    """Generated type sections: valid for us iff valid for ``wasm-tools validate -f all``."""
    import subprocess

    try:
        validate(decode_component(data), Features.all())
        ours: str | None = None
    except (DecodeError, ValidationError) as e:
        ours = str(e)
    except Exception as e:
        raise _outside("validate", e) from e
    p = subprocess.run(["wasm-tools", "validate", "--features", "all", "-"], input=data,
                       capture_output=True, check=False)
    theirs = None if p.returncode == 0 else p.stderr.decode(errors="replace").strip()
    if (ours is None) != (theirs is None):
        raise Finding(f"validator disagrees with wasm-tools: ours {ours!r}, theirs {theirs!r}")
    return "both-valid" if ours is None else "both-invalid"


def _pickled(x: Any) -> bytes:
    return pickle.dumps(x)


def _raw(x: bytes) -> bytes:
    return x


TARGETS: dict[str, Target] = {
    "decode": Target("decode", make_decode, run_decode, _pickled),
    "instantiate": Target("instantiate", make_instantiate, run_instantiate, _pickled),
    "abi": Target("abi", make_abi, run_abi, _pickled),
    "wit": Target("wit", make_wit, run_wit, _raw),
    "wave": Target("wave", make_wave, run_wave, _pickled),
    "vdiff": Target("vdiff", make_vdiff, run_vdiff, _raw),
}


def load_input(target: str, data: bytes) -> Any:
    """A stored corpus input back in the target's input form."""
    return data if TARGETS[target].to_bytes is _raw else pickle.loads(data)


def corpus(target: str) -> list[Path]:
    d = ROOT / "fuzz" / "corpus" / target
    return sorted(d.glob("*")) if d.is_dir() else []


_ = os
