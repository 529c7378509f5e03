"""`wasi:sockets/network.network-error-code` (`@unstable(feature = network-error-code)` in the
WIT): linked only when the feature is enabled, as wasmtime does (`LinkOptions`, `wasmtime run -S
network-error-code`); it maps an `error` that came from the OS to its `error-code`."""

from __future__ import annotations

import errno
import functools
from typing import Any

import pytest

from wasm_component import Component, Engine, Linker, LinkError, Store, Trap
from wasm_component.wasi import IoError, WasiConfig, add_to_linker
from wasm_component.wasi._bindings.imports.wasi_io_error import _RT_Error
from wasm_component.wasi._bindings.imports.wasi_sockets_network import ErrorCode
from wasm_component.wasi.io import READY

# the error-code cases, in the WIT's order (the import's type must match the host's)
ENUM = " ".join(f'"{c.value}"' for c in ErrorCode)
#: exports `code(e: borrow<error>) -> option<error-code>`, calling network-error-code
WAT = f"""(component
  (import "wasi:io/error@0.2.0" (instance $ie (export "error" (type (sub resource)))))
  (alias export $ie "error" (type $error))
  (import "wasi:sockets/network@0.2.0" (instance $net
    (export "error" (type $err (eq $error)))
    (type $ec0 (enum {ENUM}))
    (export "error-code" (type $ec (eq $ec0)))
    (export "network-error-code" (func (param "err" (borrow $err)) (result (option $ec))))))
  (alias export $net "network-error-code" (func $nec))
  (alias export $net "error-code" (type $ec))
  (core module $libc (memory (export "memory") 1))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $mem))
  (core func $nec-low (canon lower (func $nec) (memory $mem)))
  (core func $drop (canon resource.drop $error))
  (core module $m
    (import "h" "nec" (func $nec (param i32 i32)))
    (import "h" "drop" (func $drop (param i32)))
    (func (export "code") (param i32) (result i32)
      (call $nec (local.get 0) (i32.const 16)) (call $drop (local.get 0)) (i32.const 16)))
  (core instance $i (instantiate $m
    (with "h" (instance (export "nec" (func $nec-low)) (export "drop" (func $drop))))))
  (func (export "code") (param "e" (borrow $error)) (result (option $ec))
    (canon lift (core func $i "code") (memory $mem))))
"""


@functools.cache
def _compiled() -> tuple[Engine, Component]:
    engine = Engine()
    return engine, Component.new(engine, WAT)


def _code() -> tuple[Store, Any]:
    engine, component = _compiled()
    linker = Linker(engine)
    linker.add_wasip2(features=["network-error-code"])
    store = Store(engine)
    store.set_wasi(WasiConfig())
    return store, linker.instantiate(store, component).get_func(store, "code")


def test_not_linked_unless_enabled() -> None:
    engine, component = _compiled()
    linker = Linker(engine)
    linker.add_wasip2()
    store = Store(engine)
    store.set_wasi(WasiConfig())
    with pytest.raises(LinkError, match=r"network-error-code`, but it is not defined"):
        linker.instantiate(store, component)


def test_an_os_error_maps_to_its_code() -> None:
    store, code = _code()
    push = store.wasi.push
    assert code(store, push(IoError("reset", errno.ECONNRESET), _RT_Error)) == "connection-reset"
    assert code(store, push(IoError("refused", errno.ECONNREFUSED), _RT_Error)) == \
        "connection-refused"
    assert code(store, push(IoError("odd", errno.ENOTDIR), _RT_Error)) == "unknown"


def test_an_error_not_from_the_os_is_none() -> None:
    store, code = _code()
    assert code(store, store.wasi.push(IoError("closed by the host"), _RT_Error)) is None


def test_a_handle_that_is_not_an_error_traps() -> None:
    store, code = _code()
    with pytest.raises(Trap, match=r"is a ReadyPollable, expected a IoError"):
        code(store, store.wasi.push(READY, _RT_Error))


def test_unknown_features_are_refused() -> None:
    engine = Engine()
    with pytest.raises(ValueError, match=r"unknown WASI feature 'bogus'"):
        add_to_linker(Linker(engine), features=["bogus"])
    with pytest.raises(TypeError, match=r"expected an iterable of feature names"):
        add_to_linker(Linker(engine), features="network-error-code")


@pytest.mark.parametrize(("flags", "expected"), [
    (["-S", "network-error-code"], ["network-error-code"]),
    (["-S", "network-error-code=y", "-S", "network-error-code=n"], []),
    ([], []),
])
def test_run_links_it_with_the_wasmtime_flag(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str],
                                             flags: list[str], expected: list[str]) -> None:
    from pathlib import Path

    from wasm_component import run

    seen: list[list[str]] = []
    real = Linker.add_wasip2

    def add_wasip2(self: Linker[Any], get_ctx: Any = None, *, features: Any = ()) -> None:
        seen.append(list(features))
        real(self, get_ctx, features=features)

    monkeypatch.setattr(Linker, "add_wasip2", add_wasip2)
    greeter = Path(__file__).resolve().parents[2] / "examples" / "greeter.wat"
    assert run.main([*flags, "--no-cache", "--invoke", 'greet("x")', str(greeter)]) == 0
    assert seen == [expected]
    assert capsys.readouterr().out.strip() == '"Hello, x!"'


@pytest.mark.parametrize("add", ["add_wasip2", "add_wasip3"])
def test_a_get_ctx_that_is_not_callable_is_refused(add: str) -> None:
    # before: accepted, failing only at the guest's first WASI call
    with pytest.raises(TypeError, match=r"expected a callable `get_ctx\(store\)` or None, got int"):
        getattr(Linker(Engine()), add)(get_ctx=5)
