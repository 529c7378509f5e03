"""``wasi:http`` 0.2 in Python: serve ``wasi:http/proxy`` components from any ASGI server, and
let them make outgoing requests through ``httpx``.

- :func:`asgi_app`: a component as an ASGI 3 application (a fresh instance per request).
- :class:`HttpConfig`: what outgoing requests may reach (an allow-list, deny by default), a
  Python function to serve them instead, timeouts, body buffering.
- :func:`add_to_linker`: WASI 0.2 plus ``wasi:http/types`` and ``outgoing-handler`` on a
  linker, for hosts that drive ``incoming-handler`` themselves.
- ``wasm-component serve FILE`` runs :func:`asgi_app` under uvicorn.

The request/response plumbing (:class:`Message`, :mod:`.channel`) is independent of the WASI
version, so the WASI 0.3 ``wasi:http/service`` can share it.

Example::

    from wasm_component.http import HttpConfig, asgi_app

    app = asgi_app("proxy.wasm", http=HttpConfig(allowed_hosts=["127.0.0.1:9000"]))
    # uvicorn mymodule:app
"""

from __future__ import annotations

from .asgi import AsgiApp, asgi_app
from .channel import Channel
from .fields import FORBIDDEN, Fields
from .host import HttpState, add_to_linker, install
from .outgoing import HttpConfig, HttpIoError, Message

__all__ = [
    "FORBIDDEN",
    "AsgiApp",
    "Channel",
    "Fields",
    "HttpConfig",
    "HttpIoError",
    "HttpState",
    "Message",
    "add_to_linker",
    "asgi_app",
    "install",
]
