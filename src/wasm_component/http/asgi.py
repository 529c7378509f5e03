"""A ``wasi:http/proxy`` component as an ASGI 3 application.

Each request gets a fresh instance from one :class:`~wasm_component.InstancePre` (as
``wasmtime serve`` does for WASI 0.2: no state leaks between requests). The runtime is
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
import logging
import os
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..bindgen import rt
from ..component import Component
from ..engine import Engine, Store
from ..errors import LinkError, NotSupported, Trap
from ..linker import InstancePre, Linker
from ..wasi import IoError, StreamClosed, WasiConfig
from ._bindings.exports import wasi_http_incoming_handler as b_handler
from .channel import EOF, Channel, wait_async
from .host import HttpState, add_to_linker, install, push_outparam, push_request
from .outgoing import HttpConfig, Message

__all__ = ["AsgiApp", "asgi_app"]

log = logging.getLogger("wasm_component.http")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def asgi_app(component: Component | str | os.PathLike[str], *, engine: Engine | None = None,
             wasi: WasiConfig | Callable[[], WasiConfig] | None = None,
             http: HttpConfig | None = None, max_workers: int = 64,
             linker: Linker | None = None) -> AsgiApp:
    """An ASGI 3 app serving ``component`` (a ``wasi:http/proxy`` component, or its path).

    ``wasi`` is each instance's WASI configuration (or a function making one per request);
    ``http`` its HTTP policy (default: no outgoing requests); ``max_workers`` bounds the
    requests whose guest runs at once (more wait for a thread)."""
    return AsgiApp(component, engine=engine, wasi=wasi, http=http, max_workers=max_workers,
                   linker=linker)


class AsgiApp:
    """See :func:`asgi_app`."""

    def __init__(self, component: Component | str | os.PathLike[str], *,
                 engine: Engine | None, wasi: WasiConfig | Callable[[], WasiConfig] | None,
                 http: HttpConfig | None, max_workers: int, linker: Linker | None) -> None:
        if isinstance(component, Component):
            self.engine = component.engine
            self.component = component
        else:
            from ..run import load_component

            self.engine = engine or Engine()
            self.component = load_component(self.engine, component)
        self.http = http or HttpConfig()
        self._wasi = wasi
        self.export = _handler_export(self.component)
        if linker is None:
            linker = Linker(self.engine)
            add_to_linker(linker)
            # imports outside WASI 0.2 and wasi:http trap if called
            linker.define_unknown_imports_as_traps(self.component)
        self.pre: InstancePre = linker.instantiate_pre(self.component)
        self.executor = ThreadPoolExecutor(max_workers, thread_name_prefix="wasi-http-guest")

    def _wasi_config(self) -> WasiConfig:
        w = self._wasi
        if w is None:
            return WasiConfig().inherit_stdout().inherit_stderr()
        return w if isinstance(w, WasiConfig) else w()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
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
        try:
            instance = self.pre.instantiate(store)
            idx = instance.get_export_index(store, self.export)
            handler = b_handler.Exports(store, instance, rt.Ctx(store), idx)
            handler.handle(push_request(store, msg), push_outparam(store))
        finally:
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

    async def _respond(self, scope: Scope, send: Send, result: Message,
                       disconnected: asyncio.Event) -> None:
        trailers_ok = "http.response.trailers" in scope.get("extensions", {})
        headers = [(k.encode("latin-1"), v) for k, v in result.headers]
        await send({"type": "http.response.start", "status": result.status,
                    "headers": headers, "trailers": trailers_ok})
        body = result.body
        gone = asyncio.create_task(disconnected.wait())
        try:
            while True:
                got = body.take_nowait()
                if got is None:
                    waiting = asyncio.create_task(wait_async(body.readable))
                    await asyncio.wait({waiting, gone}, return_when=asyncio.FIRST_COMPLETED)
                    if gone.done():
                        waiting.cancel()
                        body.abandon()
                        log.info("client disconnected mid-response")
                        return
                    continue
                if got is EOF:
                    break
                assert isinstance(got, bytes)
                await send({"type": "http.response.body", "body": got, "more_body": True})
        except Exception as e:  # the guest's body failed: cut the connection
            body.abandon()
            log.warning("response body failed: %s", e)
            raise
        finally:
            gone.cancel()
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        if trailers_ok:
            await send({"type": "http.response.trailers",
                        "headers": [(k.encode("latin-1"), v) for k, v in body.trailers or []],
                        "more_trailers": False})


def _handler_export(component: Component) -> str:
    """The name of the component's ``wasi:http/incoming-handler`` 0.2.x export (any 0.2
    version: the bindings are 0.2.12's, and 0.2.x interfaces only ever grew)."""
    names = [name for name, _ in component.component_type().exports]
    for name in names:
        if name.startswith("wasi:http/incoming-handler@0.2."):
            return name
    if any(name.startswith("wasi:http/handler@0.3") for name in names):
        raise NotSupported("`wasi:http/service` 0.3 components need the component-model async "
                           "runtime, which is not built yet (0.2 `wasi:http/proxy` ones are "
                           "served)")
    raise LinkError("`asgi_app`: the component exports no `wasi:http/incoming-handler@0.2.x` "
                    "(is it a wasi:http/proxy component?)")


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
