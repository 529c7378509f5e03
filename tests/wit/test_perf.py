"""A WASI 0.2-sized package set (7 packages, 49 interfaces, ~6,000 lines) parses and resolves
completely: every package, interface, named type and function the generator wrote is there.

How *fast* it resolves is measured by ``benchmarks/wit_resolve.py``, not asserted here (a timed
assertion fails on a loaded machine and proves nothing on an idle one).
"""

from __future__ import annotations

from pathlib import Path

from wasm_component.wit import Resolve

from . import synth_wasi as s


def test_wasi_sized_set_resolves_completely(tmp_path: Path) -> None:
    wit = s.write_tree(tmp_path)
    resolve = Resolve()
    main = resolve.push_path(wit)
    assert str(resolve.packages[main].name) == f"wasi:{s.PACKAGES[-1]}@0.2.0"
    assert len(resolve.packages) == len(s.PACKAGES)
    n_ifaces = len(s.PACKAGES) * s.IFACES_PER_PACKAGE
    assert len(resolve.interfaces) == n_ifaces
    # defined in every interface: records, two variants, flags, resources; in each package's
    # first one also the error-code enum; `use`d (two names) in every interface but the very
    # first of the set
    defined = n_ifaces * (s.RECORDS + 2 + 1 + s.RESOURCES) + len(s.PACKAGES)
    used = (n_ifaces - 1) * 2
    named = [t for t in resolve.types if t.name is not None]
    assert len(named) == defined + used
    funcs = sum(len(i.functions) for i in resolve.interfaces)
    # free functions, plus per resource: constructor, methods, one static function
    assert funcs == n_ifaces * (s.FUNCS + s.RESOURCES * (1 + s.METHODS + 1))
    for pkg in resolve.packages:
        assert list(pkg.worlds) == ["imports"]
