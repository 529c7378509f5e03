"""C programs (wasm32-wasi, adapted with the preview1 command adapter) run through our WASI
host and through ``wasmtime.component`` + ``add_wasip2``: the same stdout, stderr and exit code
for the same inputs."""

from __future__ import annotations

import pytest

from ._build import Inputs, c_component, run_ours, run_wasmtime

ARGS_ENV = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  printf("argc=%d\n", argc);
  for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
  const char *v = getenv("GREETING");
  printf("GREETING=%s\n", v ? v : "(unset)");
  fprintf(stderr, "to stderr\n");
  return argc > 2 ? 7 : 0;
}
"""


@pytest.mark.parametrize("inputs", [
    Inputs(("prog",), (("GREETING", "hi"),)),
    Inputs(("prog", "one", "two words"), ()),
])
def test_args_env_stdio_exit(inputs: Inputs) -> None:
    path = c_component(ARGS_ENV, "args_env")
    ours = run_ours(path, inputs)
    assert ours == run_wasmtime(path, inputs)
    assert b"argc=" in ours.stdout and ours.stderr == b"to stderr\n"
