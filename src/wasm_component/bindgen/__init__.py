"""Typed Python bindings for a WIT world, generated ahead of time or built at run time.

- ``generate(wit, world=...)`` returns the source files of a bindings package;
  ``write(wit, out_dir, world=...)`` writes them (``wasm-component bindgen WIT --world W -o DIR``).
- ``load(wit, world=...)`` builds the same package in memory and returns its root module.

``wit`` is a path (a ``.wit`` file or a package directory with ``deps/``) or WIT source text.
The generated package has, per world: records as frozen dataclasses, enums as ``enum.Enum``,
flags as ``enum.Flag``, variants as one dataclass per case plus a union alias, options as
``T | None`` (``Some`` when nested), results as ``Ok[T] | Err[E]``; imported interfaces become
``Host`` Protocols with ``add_to_linker(linker, get_host)``; exports become a class whose
``instantiate(store, component, linker)`` returns typed methods (interfaces as attributes).

Example::

    bindings = load("examples/bindgen/shapes.wit", world="shapes")
    linker = Linker(engine)
    bindings.add_to_linker(linker, lambda store: MyHost())
    app = bindings.Shapes.instantiate(store, component, linker)
    app.api.area(bindings.exports.example_shapes_api.ShapeCircle(2.0))
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import itertools
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import ModuleType

from ..errors import WitError
from ..wit.resolve import Resolve
from .generator import Options, generate_world
from .rt import ErrorResult

__all__ = ["ErrorResult", "Options", "WitSource", "generate", "load", "resolve_world", "write"]

_counter = itertools.count()


class WitSource(str):
    """WIT source text, never read as a path (a plain ``str`` is taken as source only when it
    has a newline or starts with ``package``/``world``/``interface``/``//``; a
    :class:`pathlib.Path` is always a path).

    Example::

        >>> resolve, world = resolve_world(WitSource("package a:b; world w {}"))
    """

    __slots__ = ()


def resolve_world(
    wit: str | os.PathLike[str],
    world: str | None = None,
    *,
    features: Iterable[str] = (),
    all_features: bool = False,
) -> tuple[Resolve, int]:
    """Resolve ``wit`` (a path, or source text: see :class:`WitSource`) and select ``world``
    (see ``Resolve.select_world``)."""
    resolve = Resolve(features=set(features), all_features=all_features)
    text = os.fspath(wit)
    is_source = isinstance(wit, WitSource) or (isinstance(wit, str) and (
        "\n" in text or text.lstrip().startswith(("package", "world", "interface", "//"))))
    if is_source:
        pkg = resolve.push_str(text)
    else:
        if not Path(text).exists():
            raise WitError(f"WIT path `{text}` does not exist")
        pkg = resolve.push_path(text)
    return resolve, resolve.select_world(pkg, world)


def generate(
    wit: str | os.PathLike[str],
    world: str | None = None,
    *,
    features: Iterable[str] = (),
    all_features: bool = False,
    with_: Mapping[str, str] | None = None,
    bases: Sequence[str] = (),
    decorators: Sequence[str] = (),
    type_check: bool = True,
    docs: bool = True,
) -> dict[str, str]:
    """The bindings package for ``world`` of ``wit``: relative path -> Python source.

    ``features``/``all_features`` choose ``@unstable`` features; ``with_`` maps interfaces
    (``"ns:pkg/iface"`` -> module) or imported resources (``"ns:pkg/iface/res"`` ->
    ``"module:Class"``) to existing Python code; ``bases``/``decorators`` (``"module:name"``)
    are added to generated records and variant cases (decorators also to enums and flags);
    ``docs=False`` leaves the WIT's doc comments out.
    """
    resolve, wid = resolve_world(wit, world, features=features, all_features=all_features)
    opts = Options(dict(with_ or {}), tuple(bases), tuple(decorators), type_check, docs)
    return generate_world(resolve, wid, opts)


def write(
    wit: str | os.PathLike[str], out_dir: str | os.PathLike[str], world: str | None = None,
    **options: object,
) -> list[Path]:
    """Generate (see :func:`generate`) and write the package into ``out_dir``."""
    files = generate(wit, world, **options)  # type: ignore[arg-type]
    out = Path(out_dir)
    written = []
    for rel, text in sorted(files.items()):
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        written.append(p)
    return written


class _Loader(importlib.abc.Loader):
    def __init__(self, source: str, path: str) -> None:
        self.source = source
        self.path = path

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        code = compile(self.source, self.path, "exec")
        exec(code, module.__dict__)


class _Finder(importlib.abc.MetaPathFinder):
    def __init__(self, pkg: str, files: Mapping[str, str]) -> None:
        self.pkg = pkg
        self.files = files

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.pkg and not fullname.startswith(self.pkg + "."):
            return None
        rel = fullname[len(self.pkg):].lstrip(".").replace(".", "/")
        for cand, is_pkg in ((f"{rel}/__init__.py" if rel else "__init__.py", True),
                             (f"{rel}.py", False)):
            if cand in self.files:
                origin = f"<bindgen {self.pkg}/{cand}>"
                spec = importlib.machinery.ModuleSpec(
                    fullname, _Loader(self.files[cand], origin), origin=origin,
                    is_package=is_pkg)
                return spec
        return None


def load(
    wit: str | os.PathLike[str],
    world: str | None = None,
    *,
    name: str | None = None,
    **options: object,
) -> ModuleType:
    """Build the bindings in memory and return the root module (the generated package's
    ``__init__``; interface modules are ``mod.imports.<name>`` / ``mod.exports.<name>``).

    ``name`` is the package name to register in ``sys.modules`` (default: a fresh one).
    Options are those of :func:`generate`.
    """
    files = generate(wit, world, **options)  # type: ignore[arg-type]
    pkg = name or f"_wasm_component_bindings_{next(_counter)}"
    finder = _Finder(pkg, files)
    sys.meta_path.insert(0, finder)
    try:
        root = importlib.import_module(pkg)
        for rel in files:
            if rel.endswith(".py") and rel != "__init__.py":
                mod = rel[:-3].replace("/", ".")
                if mod.endswith(".__init__"):
                    mod = mod[: -len(".__init__")]
                importlib.import_module(f"{pkg}.{mod}")
    finally:
        sys.meta_path.remove(finder)
    return root
