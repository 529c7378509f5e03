"""Embedder restrictions: rules that are not part of the component model but that wasmtime applies
when a component is loaded (``Component::new``), and so does ``Component.new`` here.

They live apart from :func:`~wasm_component._validate.validate` because a component that breaks
them is still *valid* (wasm-tools accepts it); it is only unsupported by this runtime, exactly as
it is by wasmtime. The wasmtime conformance suite checks them with ``assert_invalid``:

- the root component may not import a component (``root-level component imports are not
  supported``): there is no way for a host to supply one;
- the root component may not export a component (``exporting a component from the root component
  is not supported``): there is no host-side representation of one;
- the root component may not export, directly or inside an exported instance, a function that is
  (after following aliases, bags of exports and instantiations of nested components) one of its
  own imported functions (``component export `x` is a reexport of an imported function which is
  not implemented``): wasmtime never lowers-then-lifts such a function, so calling it is
  unsupported.

Use :func:`check_embedder_restrictions` on the result of ``validate``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._binary import ast
from ..errors import ValidationError
from .model import ValidatedComponent

__all__ = ["check_embedder_restrictions"]

# Bound on the provenance walk (nested instantiations x aliases); past it a function is assumed
# to be implemented, which only ever accepts more.
_MAX_STEPS = 100_000


@dataclass(slots=True)
class _Ctx:
    """One component being traced; ``args``/``parent`` say what its imports were bound to
    (``parent`` None: the root, whose imports come from the host)."""

    vc: ValidatedComponent
    args: dict[str, ast.SortIdx]
    parent: _Ctx | None


class _Tracer:
    def __init__(self) -> None:
        self.steps = 0

    def host_import(self, ctx: _Ctx, sort: str, idx: int, path: tuple[str, ...]) -> bool:
        """Whether the item ``path`` inside item ``idx`` of ``sort`` resolves to a function the
        root component imported from the host."""
        self.steps += 1
        if self.steps > _MAX_STEPS:
            return False
        space = ctx.vc.index_spaces.get(sort)
        if space is None or not 0 <= idx < len(space):
            return False
        ent = space[idx]
        defs = ctx.vc.component.definitions
        if not 0 <= ent.origin < len(defs):
            return False
        d = defs[ent.origin]
        if isinstance(d, ast.Import):
            if ctx.parent is None:
                return sort in ("func", "instance")
            arg = ctx.args.get(d.name.name)
            if arg is None or arg.sort.core:
                return False
            return self.host_import(ctx.parent, arg.sort.name, arg.idx, path)
        if isinstance(d, ast.Export):
            if d.item.sort.core:
                return False
            return self.host_import(ctx, d.item.sort.name, d.item.idx, path)
        if isinstance(d, ast.AliasExport):
            return self.host_import(ctx, "instance", d.instance, (d.name, *path))
        if isinstance(d, ast.InlineExports):
            if not path:
                return False
            for name, si in d.exports:
                if name.name == path[0] and not si.sort.core:
                    return self.host_import(ctx, si.sort.name, si.idx, path[1:])
            return False
        if isinstance(d, ast.Instantiate):
            if not path:
                return False
            comps = ctx.vc.index_spaces.get("component", [])
            if not 0 <= d.component < len(comps):
                return False
            nested = ctx.vc.nested.get(comps[d.component].origin)
            if nested is None:  # an imported or aliased component: not traced
                return False
            inner = _Ctx(nested, dict(d.args), ctx)
            for nd in nested.component.definitions:
                if isinstance(nd, ast.Export) and nd.name.name == path[0] and \
                        not nd.item.sort.core:
                    return self.host_import(inner, nd.item.sort.name, nd.item.idx, path[1:])
            return False
        return False

    def instance_funcs(self, ctx: _Ctx, idx: int, prefix: tuple[str, ...],
                       exports: tuple[tuple[str, object], ...]) -> str | None:
        """The name of the first function export of instance ``idx`` (type ``exports``) that is a
        host import, searching nested instances too."""
        from .. import types as t

        for name, et in exports:
            path = (*prefix, name)
            if isinstance(et, t.FuncType):
                if self.host_import(ctx, "instance", idx, path):
                    return name
            elif isinstance(et, t.InstanceType):
                got = self.instance_funcs(ctx, idx, path, et.exports)
                if got is not None:
                    return got
        return None


def check_embedder_restrictions(vc: ValidatedComponent) -> None:
    """Raise :class:`~wasm_component.errors.ValidationError` (with the offending definition's
    offset) if the root component ``vc`` uses something wasmtime does not support; see the module
    docstring for the rules."""
    from .. import types as t

    root = _Ctx(vc, {}, None)
    tracer = _Tracer()
    for d in vc.component.definitions:
        if isinstance(d, ast.Import) and d.desc.kind == "component":
            raise ValidationError("root-level component imports are not supported", d.offset)
        if not isinstance(d, ast.Export) or d.item.sort.core:
            continue
        kind = d.item.sort.name
        if kind == "component":
            raise ValidationError(
                "exporting a component from the root component is not supported", d.offset)
        if kind == "func" and tracer.host_import(root, "func", d.item.idx, ()):
            raise ValidationError(
                f"component export `{d.name.name}` is a reexport of an imported function which "
                f"is not implemented", d.offset)
        if kind == "instance":
            insts = vc.index_spaces["instance"]
            if 0 <= d.item.idx < len(insts):
                it = insts[d.item.idx].type
                if isinstance(it, t.InstanceType):
                    bad = tracer.instance_funcs(root, d.item.idx, (), it.exports)
                    if bad is not None:
                        raise ValidationError(
                            f"component export `{bad}` is a reexport of an imported function "
                            f"which is not implemented", d.offset)
