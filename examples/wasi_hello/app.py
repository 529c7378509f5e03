"""A WASI command written in Python (``wasi:cli/run``), built with componentize-py against the
WASI WIT that wasm-component ships::

    componentize-py -d src/wasm_component/wasi/wit/0.2.12 -w command componentize \
        -p examples/wasi_hello app -o hello.wasm
    wasm-component run --env GREETING=Hello hello.wasm World
"""

import os
import sys
import time

from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        who = " ".join(sys.argv[1:]) or "nobody"
        greeting = os.environ.get("GREETING", "Hi")
        print(f"{greeting}, {who}! (CPython {sys.version.split()[0]} in a WASI component)")
        print(f"the guest's clock says {time.strftime('%Y-%m-%d', time.gmtime())}; "
              f"16 random bytes: {os.urandom(16).hex()}")
