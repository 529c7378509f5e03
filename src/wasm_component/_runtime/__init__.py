"""Runtime internals; :mod:`.core` is the only module that imports ``wasmtime``."""
