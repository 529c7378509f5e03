/* What the C guests that call wasi:sockets directly share: the import macro, the program entry
 * and allocator the Canonical ABI needs, and the names of `error-code`'s cases.
 *
 * The modules are linked as reactors (-mexec-model=reactor) with their own `_start`: in a
 * command module wasm-ld wraps every export in constructors *and destructors*, so the preview1
 * adapter's first call to `cabi_realloc` would run the atexit handlers and close stdout. Lists
 * the host returns (bytes, datagrams) are allocated through `cabi_realloc`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(m, n) __attribute__((import_module(m), import_name(n)))

typedef int32_t h; /* a handle */
typedef int32_t i;

extern void __wasm_call_ctors(void);
int main(void);
__attribute__((export_name("_start"))) void start(void) {
    __wasm_call_ctors();
    exit(main());
}

__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *p, size_t old, size_t align, size_t size) {
    (void)old; (void)align;
    return realloc(p, size ? size : 1);
}

static const char *CODES[] = {
    "unknown", "access-denied", "not-supported", "invalid-argument", "out-of-memory", "timeout",
    "concurrency-conflict", "not-in-progress", "would-block", "invalid-state", "new-socket-limit",
    "address-not-bindable", "address-in-use", "remote-unreachable", "connection-refused",
    "connection-reset", "connection-aborted", "datagram-too-large", "name-unresolvable",
    "temporary-resolver-failure", "permanent-resolver-failure"};
#define WOULD_BLOCK 8

static const char *code(uint8_t c) { return c < sizeof CODES / sizeof *CODES ? CODES[c] : "?"; }
