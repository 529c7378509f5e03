"""A ``wasi:http/proxy`` (WASI 0.2) or ``wasi:http/service`` (0.3) component as an ASGI 3
application.

For 0.2, each request gets a fresh instance from one :class:`~wasm_component.InstancePre` (as
``wasmtime serve`` does for WASI 0.2: no state leaks between requests). For 0.3, an instance is
reused for several requests, a bounded number at once (:mod:`.pool`), each an async call of
``handler.handle`` on the server's loop, its response body moved by the WASI 0.3 pumps. The runtime is
synchronous, so the guest's ``incoming-handler.handle`` runs in a thread pool while the event
loop moves the bodies: the request body flows into the guest through a bounded
:class:`~wasm_component.http.channel.Channel` (the next ASGI ``receive`` waits until the guest
has read what is buffered), the response body out of it the same way (the guest's
``check-write`` is 0 while the server has not sent what is buffered). A guest that traps before
answering gets a 500; one that traps mid-body gets its connection cut; either way the server
and the other requests carry on. A client that disconnects fails the guest's body streams.

Example (run with ``uvicorn module:app``)::

    from wasm_component.http import HttpConfig, asgi_app
    app = asgi_app("proxy.wasm", http=HttpConfig(allowed_hosts=["api.example.com"]))
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..bindgen import rt
from ..component import Component
from ..engine import Engine, Store
from ..errors import LinkError, Trap
from ..linker import InstancePre, Linker
from ..values import Ok
from ..wasi import IoError, StreamClosed, WasiConfig
from ._bindings.exports import wasi_http_incoming_handler as b_handler
from .channel import EOF, Channel, wait_async
from .host import HttpState, add_to_linker, install, push_outparam, push_request
from .outgoing import HttpConfig, Message
from .pool import DEFAULT_MAX_REUSE, DEFAULT_PER_INSTANCE, InstancePool

__all__ = ["AsgiApp", "asgi_app"]

log = logging.getLogger("wasm_component.http")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def asgi_app(component: Component | str | os.PathLike[str], *, engine: Engine | None = None,
             wasi: WasiConfig | Callable[[], WasiConfig] | None = None,
             http: HttpConfig | None = None, max_workers: int = 64,
             linker: Linker | None = None, per_instance: int = DEFAULT_PER_INSTANCE,
             max_reuse: int = DEFAULT_MAX_REUSE, collect_retired: bool = False) -> AsgiApp:
    """An ASGI 3 app serving ``component`` (a WASI 0.2 ``wasi:http/proxy`` component or a 0.3
    ``wasi:http/service`` one, or its path).

    ``wasi`` is each instance's WASI configuration (or a function making one per instance);
    ``http`` its HTTP policy (default: no outgoing requests); ``max_workers`` bounds the
    requests whose guest runs at once (more wait). A 0.2 component gets a fresh instance per
    request; a 0.3 one reuses an instance for up to ``max_reuse`` requests, at most
    ``per_instance`` at once (as ``wasmtime serve``).

    ``collect_retired``: run the cyclic garbage collector when a 0.3 instance retires. What
    its instances leave in reference cycles (a guest task still waiting when the instance
    retires, its waitables) holds the store's linear memories until the collector runs, which
    may be many retirements later: the process's RSS rises and falls by whole instances.
    ``wasm-component serve`` sets it, after freezing (``gc.freeze``) what its start-up made,
    so that a collection only walks what the live instances hold."""
    return AsgiApp(component, engine=engine, wasi=wasi, http=http, max_workers=max_workers,
                   linker=linker, per_instance=per_instance, max_reuse=max_reuse,
                   collect_retired=collect_retired)


class AsgiApp:
    """See :func:`asgi_app`."""

    def __init__(self, component: Component | str | os.PathLike[str], *,
                 engine: Engine | None, wasi: WasiConfig | Callable[[], WasiConfig] | None,
                 http: HttpConfig | None, max_workers: int, linker: Linker | None,
                 per_instance: int = DEFAULT_PER_INSTANCE,
                 max_reuse: int = DEFAULT_MAX_REUSE,
                 collect_retired: bool = False) -> None:  # fmt: skip
        if isinstance(component, Component):
            self.engine = component.engine
            self.component = component
        else:
            from ..run import load_component

            self.engine = engine or Engine()
            self.component = load_component(self.engine, component)
        self.http = http or HttpConfig()
        self._wasi = wasi
        self.export, self.p3 = _handler_export(self.component)
        if linker is None:
            linker = Linker(self.engine)
            add_to_linker(linker)
            if self.p3:  # a 0.3 component imports some 0.2 interfaces too (its libc)
                from .p3 import add_to_linker as add_http_p3

                add_http_p3(linker)
            # imports outside WASI and wasi:http trap if called
            linker.define_unknown_imports_as_traps(self.component)
        self.pre: InstancePre = linker.instantiate_pre(self.component)
        self.executor = ThreadPoolExecutor(max_workers, thread_name_prefix="wasi-http-guest")
        self.pool: InstancePool[_Served] = InstancePool(
            self._new_instance, per_instance=per_instance, max_reuse=max_reuse,
            on_retire=_collect_soon if collect_retired else None)
        self._running = asyncio.Semaphore(max_workers)

    def _wasi_config(self) -> WasiConfig:
        w = self._wasi
        if w is None:
            return WasiConfig().inherit_stdout().inherit_stderr()
        return w if isinstance(w, WasiConfig) else w()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await (self._http_p3 if self.p3 else self._http)(scope, receive, send)
        else:
            raise ValueError(f"`asgi_app`: expected an `http` or `lifespan` scope, got "
                             f"`{scope['type']}`")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.executor.shutdown(wait=False, cancel_futures=True)
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _run_guest(self, msg: Message, deliver: Callable[[Message | Any], None],
                   sent: list[Message | Any]) -> None:
        """One request on a fresh instance (in a worker thread)."""
        store = Store(self.engine)
        store.set_wasi(self._wasi_config())

        def on_set(result: Message | Any) -> None:
            sent.append(result)
            deliver(result)

        install(store, HttpState(self.http, on_set))
        cx = rt.Ctx(store)
        try:
            instance = self.pre.instantiate(store)
            idx = instance.get_export_index(store, self.export)
            handler = b_handler.Exports(store, instance, cx, idx)
            handler.handle(push_request(store, msg), push_outparam(store))
        finally:
            # (the bindings' interface objects and their context refer to each other: a cycle
            # holding the store, its instance and linear memory, until the cyclic GC)
            cx.ifaces.clear()
            msg.body.abandon()
            for r in sent:
                if isinstance(r, Message) and not r.body.ended:
                    r.body.fail(IoError("the guest returned or trapped before finishing the "
                                        "response body"))

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        msg = _request_message(scope, Channel(self.http.body_buffer))
        answered: asyncio.Future[Message | Any] = loop.create_future()

        def deliver(result: Message | Any) -> None:
            loop.call_soon_threadsafe(_resolve, answered, result)

        sent: list[Message | Any] = []
        call = loop.run_in_executor(self.executor, self._run_guest, msg, deliver, sent)
        disconnected = asyncio.Event()
        pump_in = asyncio.create_task(_pump_request(receive, msg.body, disconnected))
        try:
            waits: set[asyncio.Future[Any]] = {answered, call}
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if not answered.done():
                exc = call.exception()
                if exc is not None:
                    log.warning("guest failed before responding: %s", exc)
                    await _plain(send, 500, f"the component failed: {_why(exc)}\n")
                else:
                    await _plain(send, 500, "the component did not set a response\n")
                return
            result = answered.result()
            if not isinstance(result, Message):
                await _plain(send, 500, f"the component answered with an error: "
                                        f"{type(result).__name__}\n")
                return
            await self._respond(scope, send, result, disconnected)
        finally:
            pump_in.cancel()
            try:
                await call
            except Trap as e:
                log.warning("guest trapped: %s", e)
            except Exception:
                log.exception("guest call failed")
            for m in (msg, *sent):
                if isinstance(m, Message):
                    m.body.close()  # the guest is done with it: release its pipes now

    # -- WASI 0.3: reused instances, requests as concurrent guest tasks --------------------

    async def _new_instance(self) -> _Served:
        store = Store(self.engine)
        store.set_wasi(self._wasi_config())
        install(store, HttpState(self.http))
        instance = self.pre.instantiate(store)
        idx = instance.get_export_index(store, "handle",
                                        instance.get_export_index(store, self.export))
        handle = None if idx is None else instance.get_func(store, idx)
        if handle is None:
            raise LinkError(f"`asgi_app`: `{self.export}` has no `handle` function")
        return _Served(store, handle)

    async def _http_p3(self, scope: Scope, receive: Receive, send: Send) -> None:
        from .p3 import message_of
        from .p3 import push_request as push_request_p3

        async with self._running:
            slot = await self.pool.acquire()
            served = slot.instance
            msg = _request_message(scope, Channel(self.http.body_buffer))
            disconnected = asyncio.Event()
            pump_in = asyncio.create_task(_pump_request(receive, msg.body, disconnected))
            try:
                request = push_request_p3(served.store.wasi, msg)
                try:
                    result = await served.handle.call_async(served.store, request)
                except Trap as e:
                    slot.broken = True  # its state is unknown: no more requests for it
                    log.warning("guest trapped: %s", e)
                    await _plain(send, 500, f"the component failed: {_why(e)}\n")
                    return
                if not isinstance(result, Ok):
                    await _plain(send, 500, f"the component answered with an error: "
                                            f"{getattr(result, 'value', result)!r}\n")
                    return
                response = message_of(served.store.wasi, result.value)
                try:
                    await self._respond(scope, send, response, disconnected)
                finally:
                    response.body.close()
            finally:
                pump_in.cancel()
                msg.body.abandon()
                self.pool.release(slot)

    async def _respond(self, scope: Scope, send: Send, result: Message,
                       disconnected: asyncio.Event) -> None:
        trailers_ok = "http.response.trailers" in scope.get("extensions", {})
        headers = [(k.encode("latin-1"), v) for k, v in result.headers]
        await send({"type": "http.response.start", "status": result.status,
                    "headers": headers, "trailers": trailers_ok})
        body = result.body
        gone: asyncio.Task[Any] | None = None  # (watched only while waiting for the body)
        try:
            while True:
                got = body.take_nowait()
                if got is None:
                    if gone is None:
                        gone = asyncio.create_task(disconnected.wait())
                    waiting = asyncio.create_task(wait_async(body.readable))
                    await asyncio.wait({waiting, gone}, return_when=asyncio.FIRST_COMPLETED)
                    if gone.done():
                        waiting.cancel()
                        body.abandon()
                        log.info("client disconnected mid-response")
                        return
                    continue
                if got is EOF:
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    break
                assert isinstance(got, bytes)
                # (the last chunk, when the end is already there, ends the body: one send less)
                last = body.drained()
                await send({"type": "http.response.body", "body": got, "more_body": not last})
                if last:
                    break
        except Exception as e:  # the guest's body failed: cut the connection
            body.abandon()
            log.warning("response body failed: %s", e)
            raise
        finally:
            if gone is not None:
                gone.cancel()
        if trailers_ok:
            await send({"type": "http.response.trailers",
                        "headers": [(k.encode("latin-1"), v) for k, v in body.trailers or []],
                        "more_trailers": False})


def _handler_export(component: Component) -> tuple[str, bool]:
    """The name of the component's handler export, and whether it is WASI 0.3's: a
    ``wasi:http/incoming-handler`` 0.2.x (any 0.2 version: the bindings are 0.2.12's, and 0.2.x
    interfaces only ever grew), or a ``wasi:http/handler`` 0.3.x."""
    names = [name for name, _ in component.component_type().exports]
    for name in names:
        if name.startswith("wasi:http/incoming-handler@0.2."):
            return name, False
    for name in names:
        if name.startswith("wasi:http/handler@0.3."):
            return name, True
    raise LinkError("`asgi_app`: the component exports no `wasi:http/incoming-handler@0.2.x` "
                    "or `wasi:http/handler@0.3.x` (is it a wasi:http proxy or service "
                    "component?)")


class _Served:
    """A WASI 0.3 instance in the pool: its store and its ``handler.handle``."""

    __slots__ = ("handle", "store")

    def __init__(self, store: Store, handle: Any) -> None:
        self.store = store
        self.handle = handle


def _collect_soon(_: _Served) -> None:
    # (on the loop's next turn: the request that retired the instance has let go of it)
    asyncio.get_running_loop().call_soon(gc.collect)


def _resolve(fut: asyncio.Future[Any], value: Any) -> None:
    if not fut.done():
        fut.set_result(value)


def _why(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


async def _plain(send: Send, status: int, text: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": text.encode()})


def _request_message(scope: Scope, body: Channel) -> Message:
    headers = [(k.decode("latin-1").lower(), bytes(v)) for k, v in scope["headers"]]
    path = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string") or b""
    authority = next((v.decode("latin-1") for k, v in headers if k == "host"), None)
    if authority is None and scope.get("server"):
        host, port = scope["server"]
        authority = f"{host}:{port}"
    return Message(headers, body, method=scope["method"], scheme=scope.get("scheme", "http"),
                   authority=authority,
                   path_with_query=(path + (b"?" + query if query else b"")).decode("latin-1"))


async def _pump_request(receive: Receive, body: Channel, disconnected: asyncio.Event) -> None:
    """Feed the request body into ``body`` as the guest reads it; then watch for the client
    going away."""
    more = True
    while more:
        await wait_async(body.writable)
        message = await receive()
        if message["type"] == "http.disconnect":
            body.fail(IoError("the client disconnected"))
            disconnected.set()
            return
        more = bool(message.get("more_body", False))
        with contextlib.suppress(StreamClosed):  # the guest does not want the rest: drain it
            body.put(message.get("body", b""))
    body.finish()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            disconnected.set()
            return
