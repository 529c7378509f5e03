"""Recursive-descent parser: tokens of one WIT file -> :mod:`.ast` nodes.

Kept separate from the resolver so that syntax errors are reported with the exact token that was
unexpected (``expected X, found Y``), and so that a file can be parsed without any knowledge of
the package it belongs to. Each grammar production of WIT.md maps onto one method here.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from . import ast
from .lexer import SpanError, Token, describe, split_comments, tokenize, validate_id
from .model import PRIMITIVES

__all__ = ["parse_file"]

MAX_DEPTH = 100

_SEMVER_RE = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)


_VALID_IDS: set[str] = set()  # names already known to be valid kebab-case labels


def parse_file(text: str, base: int) -> ast.PackageFile:
    """Parse one file whose first byte sits at global offset ``base``."""
    return _Parser(text, base).parse_file()


class _Parser:
    def __init__(self, text: str, base: int) -> None:
        self.text = text
        self.base = base
        toks = tokenize(text, base)
        self.kinds = toks.kinds
        self.starts = toks.starts
        self.ends = toks.ends
        self.comments = toks.comments
        self.n = len(self.kinds)
        self.pos = 0
        self.docs_taken = -1
        self.eof = base + len(text)
        self.depth = 0

    # --- token helpers ---------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token | None:
        i = self.pos + ahead
        if i >= self.n:
            return None
        return (self.kinds[i], self.starts[i], self.ends[i])

    def peek_kind(self) -> str | None:
        i = self.pos
        return self.kinds[i] if i < self.n else None

    def next(self) -> Token | None:
        i = self.pos
        if i >= self.n:
            return None
        self.pos = i + 1
        return (self.kinds[i], self.starts[i], self.ends[i])

    def eat(self, kind: str) -> bool:
        i = self.pos
        if i < self.n and self.kinds[i] == kind:
            self.pos = i + 1
            return True
        return False

    def expect(self, kind: str) -> Token:
        i = self.pos
        if i < self.n and self.kinds[i] == kind:
            self.pos = i + 1
            return (kind, self.starts[i], self.ends[i])
        raise self._expected(describe(kind), self.peek())

    def _expected(self, what: str, found: Token | None) -> SpanError:
        if found is None:
            return SpanError(self.eof, f"expected {what}, found eof")
        return SpanError(found[1], f"expected {what}, found {describe(found[0])}")

    def text_of(self, t: Token) -> str:
        return self.text[t[1] - self.base : t[2] - self.base]

    def parse_docs(self) -> ast.Docs:
        i = self.pos
        found = self.comments.get(i)
        if found is None or self.docs_taken == i:
            return ast.Docs()
        self.docs_taken = i
        base = self.base
        texts: list[str] = []
        for a, b in found:
            texts += split_comments(self.text[a - base : b - base])
        return ast.Docs(texts, found[0][0])

    # --- identifiers, versions, attributes ---------------------------------------------------

    def parse_id(self) -> ast.Id:
        t = self.next()
        if t is None or t[0] not in ("id", "explicit-id"):
            raise self._expected("an identifier or string", t)
        name = self.text_of(t)
        if t[0] == "explicit-id":
            name = name[1:]
        if name not in _VALID_IDS:
            err = validate_id(name)
            if err is not None:
                raise SpanError(t[1], err)
            if len(_VALID_IDS) < 100_000:
                _VALID_IDS.add(name)
        return ast.Id(name, t[1])

    def parse_version(self) -> tuple[int, str]:
        start = self.expect("integer")[1]
        self.expect(".")
        self.expect("integer")
        self.expect(".")
        end = self.expect("integer")[2]
        end = self._eat_version_ids("-", end)
        end = self._eat_version_ids("+", end)
        text = self.text[start - self.base : end - self.base]
        if not _SEMVER_RE.fullmatch(text):
            raise SpanError(start, f"invalid semver version `{text}`")
        return start, text

    def _eat_version_ids(self, prefix: str, end: int) -> int:
        if not self.eat(prefix):
            return end
        end = self.ends[self.pos - 1]
        while True:
            t = self.peek()
            if t is not None and t[0] in ("id", "integer", "-"):
                self.next()
                end = t[2]
                continue
            if t is not None and t[0] == ".":
                t2 = self.peek(1)
                if t2 is not None and t2[0] in ("id", "integer", "-"):
                    self.next()
                    self.next()
                    end = t2[2]
                    continue
            return end

    def parse_opt_version(self) -> str | None:
        if self.eat("@"):
            return self.parse_version()[1]
        return None

    def parse_attributes(self) -> list[ast.Attribute]:
        attrs: list[ast.Attribute] = []
        while self.eat("@"):
            ident = self.parse_id()
            if ident.name in ("since", "deprecated"):
                self.expect("(")
                self._eat_named("version")
                self.expect("=")
                _, version = self.parse_version()
                self.expect(")")
                attrs.append(ast.Attribute(ident.name, ident.span, version))
            elif ident.name == "unstable":
                self.expect("(")
                self._eat_named("feature")
                self.expect("=")
                feature = self.parse_id()
                self.expect(")")
                attrs.append(ast.Attribute("unstable", ident.span, feature.name))
            elif ident.name == "external-id":
                self.expect("(")
                lit = self.expect("string")
                self.expect(")")
                attrs.append(ast.Attribute("external-id", ident.span, self.text_of(lit)[1:-1]))
            else:
                raise SpanError(ident.span, f"unknown attribute `{ident.name}`")
        return attrs

    def _eat_named(self, expected: str) -> None:
        ident = self.parse_id()
        if ident.name != expected:
            raise SpanError(ident.span, f"expected `{expected}`, found `{ident.name}`")

    # --- top level -----------------------------------------------------------------------------

    def parse_file(self) -> ast.PackageFile:
        save = (self.pos, self.docs_taken)
        docs = self.parse_docs()
        package = None
        if self.eat("package"):
            name = self.parse_package_name(docs)
            if self.eat(";"):
                package = name
            else:
                self.pos, self.docs_taken = save
        else:
            self.pos, self.docs_taken = save
        items = self.parse_decl_list(None)
        return ast.PackageFile(package, items)

    def parse_package_name(self, docs: ast.Docs) -> ast.PackageNameAst:
        namespace = self.parse_id()
        self.expect(":")
        name = self.parse_id()
        version = self.parse_opt_version()
        return ast.PackageNameAst(namespace, name, version, namespace.span, docs)

    def parse_decl_list(
        self, end: str | None
    ) -> list[ast.Interface | ast.World | ast.TopUse | ast.PackageFile]:
        items: list[ast.Interface | ast.World | ast.TopUse | ast.PackageFile] = []
        docs = self.parse_docs()
        while True:
            if end is not None:
                if self.eat(end):
                    break
            elif self.pos >= self.n:
                break
            items.append(self.parse_decl(docs))
            docs = self.parse_docs()
        return items

    def parse_decl(
        self, docs: ast.Docs
    ) -> ast.Interface | ast.World | ast.TopUse | ast.PackageFile:
        attrs = self.parse_attributes()
        t = self.peek()
        kind = None if t is None else t[0]
        if kind == "interface":
            self.next()
            name = self.parse_id()
            return ast.Interface(docs, attrs, name, self.parse_interface_items())
        if kind == "world":
            self.next()
            name = self.parse_id()
            return ast.World(docs, attrs, name, self.parse_world_items())
        if kind == "use":
            assert t is not None
            self.next()
            path = self.parse_use_path()
            alias = self.parse_id() if self.eat("as") else None
            self.expect(";")
            return ast.TopUse(t[1], attrs, path, alias)
        if kind == "package":
            assert t is not None
            self.next()
            if attrs:
                raise SpanError(t[1], "cannot place attributes on nested packages")
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise SpanError(t[1], "package nesting too deep")
            pname = self.parse_package_name(docs)
            self.expect("{")
            items = self.parse_decl_list("}")
            self.depth -= 1
            return ast.PackageFile(pname, items)
        raise self._expected("`world`, `interface` or `use`", t)

    def parse_use_path(self) -> ast.UsePath:
        first = self.parse_id()
        if not self.eat(":"):
            return ast.UsePath(first)
        pkg = self.parse_id()
        self.expect("/")
        name = self.parse_id()
        version = self.parse_opt_version()
        return ast.UsePath(name, ast.PackageNameAst(first, pkg, version, first.span))

    # --- interfaces ------------------------------------------------------------------------------

    def parse_interface_items(self) -> list[ast.InterfaceItem]:
        self.expect("{")
        items: list[ast.InterfaceItem] = []
        while True:
            docs = self.parse_docs()
            if self.eat("}"):
                return items
            attrs = self.parse_attributes()
            items.append(self.parse_interface_item(docs, attrs))

    def parse_interface_item(self, docs: ast.Docs, attrs: list[ast.Attribute]) -> ast.InterfaceItem:
        t = self.peek()
        kind = None if t is None else t[0]
        if kind in ("type", "flags", "enum", "variant", "resource", "record"):
            return self.parse_typedef(docs, attrs)
        if kind in ("id", "explicit-id"):
            name = self.parse_id()
            self.expect(":")
            func = self.parse_func()
            self.expect(";")
            return ast.NamedFunc(docs, attrs, name, func)
        if kind == "use":
            return self.parse_use(attrs)
        raise self._expected("`type`, `resource` or `func`", t)

    def parse_use(self, attrs: list[ast.Attribute]) -> ast.Use:
        self.expect("use")
        path = self.parse_use_path()
        self.expect(".")
        self.expect("{")
        names: list[tuple[ast.Id, ast.Id | None]] = []
        while not self.eat("}"):
            name = self.parse_id()
            alias = self.parse_id() if self.eat("as") else None
            names.append((name, alias))
            if not self.eat(","):
                self.expect("}")
                break
        self.expect(";")
        return ast.Use(attrs, path, names)

    def parse_func(self) -> ast.Func:
        is_async = self.eat("async")
        span = self.expect("func")[1]
        self.expect("(")
        params = self.parse_params()
        result = self.parse_type() if self.eat("->") else None
        return ast.Func(span, is_async, params, result)

    def parse_params(self) -> list[tuple[ast.Id, ast.TypeExpr]]:
        params: list[tuple[ast.Id, ast.TypeExpr]] = []
        while True:
            self.parse_docs()
            if self.eat(")"):
                return params
            name = self.parse_id()
            self.expect(":")
            params.append((name, self.parse_type()))
            if not self.eat(","):
                self.expect(")")
                return params

    def _parse_list(self, start: str, end: str, item: Callable[[ast.Docs], None]) -> None:
        """Drive ``item(docs)`` over a comma separated list with an optional trailing comma."""
        self.expect(start)
        while True:
            docs = self.parse_docs()
            if self.eat(end):
                return
            item(docs)
            if not self.eat(","):
                self.expect(end)
                return

    def parse_typedef(self, docs: ast.Docs, attrs: list[ast.Attribute]) -> ast.TypeDef:
        t = self.next()
        assert t is not None
        kind = t[0]
        name = self.parse_id()
        if kind == "type":
            self.expect("=")
            ty = self.parse_type()
            self.expect(";")
            return ast.TypeDef(docs, attrs, name, ty)
        expr = ast.TypeExpr(kind, name.span)
        if kind == "record":

            def field(d: ast.Docs) -> None:
                fname = self.parse_id()
                self.expect(":")
                expr.fields.append((d, fname, self.parse_type()))

            self._parse_list("{", "}", field)
        elif kind == "flags" or kind == "enum":

            def flag(d: ast.Docs) -> None:
                expr.cases.append((d, self.parse_id(), None))

            self._parse_list("{", "}", flag)
        elif kind == "variant":

            def case(d: ast.Docs) -> None:
                cname = self.parse_id()
                cty = None
                if self.eat("("):
                    cty = self.parse_type()
                    self.expect(")")
                expr.cases.append((d, cname, cty))

            self._parse_list("{", "}", case)
        else:  # resource
            if self.eat("{"):
                while not self.eat("}"):
                    fdocs = self.parse_docs()
                    fattrs = self.parse_attributes()
                    expr.funcs.append(self.parse_resource_func(fdocs, fattrs))
            else:
                self.expect(";")
        return ast.TypeDef(docs, attrs, name, expr)

    def parse_resource_func(self, docs: ast.Docs, attrs: list[ast.Attribute]) -> ast.ResourceFunc:
        t = self.peek()
        kind = None if t is None else t[0]
        if kind == "constructor":
            assert t is not None
            self.next()
            self.expect("(")
            params = self.parse_params()
            result = self.parse_type() if self.eat("->") else None
            self.expect(";")
            func = ast.Func(t[1], False, params, result)
            return ast.ResourceFunc("constructor", docs, attrs, ast.Id("constructor", t[1]), func)
        if kind in ("id", "explicit-id"):
            name = self.parse_id()
            self.expect(":")
            fkind = "static" if self.eat("static") else "method"
            func = self.parse_func()
            self.expect(";")
            return ast.ResourceFunc(fkind, docs, attrs, name, func)
        raise self._expected("`constructor` or identifier", t)

    # --- types -------------------------------------------------------------------------------

    def parse_type(self) -> ast.TypeExpr:
        t = self.next()
        if t is None:
            raise self._expected("a type", t)
        kind = t[0]
        span = t[1]
        if kind in PRIMITIVES:
            return ast.TypeExpr(kind, span)
        if kind in ("id", "explicit-id"):
            self.pos -= 1
            return ast.TypeExpr("name", span, ref=self.parse_id())
        if kind in ("own", "borrow"):
            self.expect("<")
            ref = self.parse_id()
            self.expect(">")
            return ast.TypeExpr(kind, ref.span, ref=ref)
        if kind not in ("tuple", "list", "map", "option", "result", "future", "stream"):
            raise self._expected("a type", t)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise SpanError(span, "type nesting too deep")
        try:
            return self._parse_compound(kind, span)
        finally:
            self.depth -= 1

    def _parse_compound(self, kind: str, span: int) -> ast.TypeExpr:
        if kind == "tuple":
            expr = ast.TypeExpr("tuple", span)

            def elem(_d: ast.Docs) -> None:
                expr.args.append(self.parse_type())

            self._parse_list("<", ">", elem)
            return expr
        if kind == "list":
            self.expect("<")
            inner = self.parse_type()
            if self.eat(","):
                num = self.next()
                if num is None or num[0] != "integer":
                    raise self._expected("fixed-length", num)
                size = int(self.text_of(num))
                self.expect(">")
                return ast.TypeExpr("fixed-list", span, args=[inner], size=size)
            self.expect(">")
            return ast.TypeExpr("list", span, args=[inner])
        if kind == "map":
            self.expect("<")
            key = self.parse_type()
            self.expect(",")
            value = self.parse_type()
            self.expect(">")
            return ast.TypeExpr("map", span, args=[key, value])
        if kind == "option":
            self.expect("<")
            inner = self.parse_type()
            self.expect(">")
            return ast.TypeExpr("option", span, args=[inner])
        if kind == "result":
            ok: ast.TypeExpr | None = None
            err: ast.TypeExpr | None = None
            if self.eat("<"):
                if self.eat("_"):
                    self.expect(",")
                    err = self.parse_type()
                else:
                    ok = self.parse_type()
                    if self.eat(","):
                        err = self.parse_type()
                self.expect(">")
            return ast.TypeExpr("result", span, args=[ok, err])
        # future / stream
        arg: ast.TypeExpr | None = None
        if self.eat("<"):
            arg = self.parse_type()
            self.expect(">")
        return ast.TypeExpr(kind, span, args=[arg])

    # --- worlds ------------------------------------------------------------------------------

    def parse_world_items(self) -> list[ast.WorldItem]:
        self.expect("{")
        items: list[ast.WorldItem] = []
        while True:
            docs = self.parse_docs()
            if self.eat("}"):
                return items
            attrs = self.parse_attributes()
            items.append(self.parse_world_item(docs, attrs))

    def parse_world_item(self, docs: ast.Docs, attrs: list[ast.Attribute]) -> ast.WorldItem:
        t = self.peek()
        kind = None if t is None else t[0]
        if kind == "import":
            self.next()
            return ast.Import(docs, attrs, self.parse_extern())
        if kind == "export":
            self.next()
            return ast.Export(docs, attrs, self.parse_extern())
        if kind == "use":
            return self.parse_use(attrs)
        if kind in ("type", "flags", "resource", "record", "variant", "enum"):
            return self.parse_typedef(docs, attrs)
        if kind == "include":
            self.next()
            path = self.parse_use_path()
            names: list[tuple[ast.Id, ast.Id]] = []
            if self.eat("with"):

                def item(_d: ast.Docs) -> None:
                    name = self.parse_id()
                    self.expect("as")
                    names.append((name, self.parse_id()))

                self._parse_list("{", "}", item)
            else:
                self.expect(";")
            return ast.Include(attrs, path, names)
        raise self._expected("`import`, `export`, `include`, `use`, or type definition", t)

    def parse_extern(self) -> ast.ExternKind:
        save = self.pos
        saved_docs = self.docs_taken
        first = self.peek()
        if first is not None and first[0] in ("id", "explicit-id"):
            ident = self.parse_id()
            if self.eat(":"):
                nk = self.peek_kind()
                if nk in ("func", "async"):
                    func = self.parse_func()
                    self.expect(";")
                    return ast.ExternFunc(ident, func)
                if nk == "interface":
                    self.next()
                    return ast.ExternInterface(ident, self.parse_interface_items())
                after = self.peek(1)
                if nk in ("id", "explicit-id") and (after is None or after[0] != "/"):
                    path = self.parse_use_path()
                    self.expect(";")
                    return ast.ExternPath(path, ident)
        self.pos = save
        self.docs_taken = saved_docs
        path = self.parse_use_path()
        self.expect(";")
        return ast.ExternPath(path)
