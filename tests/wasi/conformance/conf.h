/* Prepended to every conformance/*.c program. Each check prints one line (a label, the
 * result, the error name), so two hosts can be compared line by line.
 *   R(label, expr)  a libc call: its result (-1 on error) and errno's name;
 *   W(label, expr)  a raw preview1 call (<wasi/api.h>): "OK" or the __WASI_ERRNO_* name;
 *   P(fmt, ...)     a free-form line.
 * The scratch preopen is /rw (read-write); the program's header says what is in it. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

static const char *ename(int e) {
    switch (e) {
    case 0: return "OK";
    case E2BIG: return "E2BIG"; case EACCES: return "EACCES"; case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF"; case EBUSY: return "EBUSY"; case EEXIST: return "EEXIST";
    case EFBIG: return "EFBIG"; case EINTR: return "EINTR"; case EINVAL: return "EINVAL";
    case EIO: return "EIO"; case EISDIR: return "EISDIR"; case ELOOP: return "ELOOP";
    case EMLINK: return "EMLINK"; case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOENT: return "ENOENT"; case ENOSPC: return "ENOSPC"; case ENOSYS: return "ENOSYS";
    case ENOTDIR: return "ENOTDIR"; case ENOTEMPTY: return "ENOTEMPTY";
    case ENOTSUP: return "ENOTSUP"; case ENOTTY: return "ENOTTY"; case ENXIO: return "ENXIO";
    case EPERM: return "EPERM"; case EPIPE: return "EPIPE"; case EROFS: return "EROFS";
    case ESPIPE: return "ESPIPE"; case EXDEV: return "EXDEV"; case ENOTCAPABLE: return "ENOTCAPABLE";
    case EOVERFLOW: return "EOVERFLOW"; case ENOMEM: return "ENOMEM"; case EILSEQ: return "EILSEQ";
    default: { static char b[16]; snprintf(b, sizeof b, "E#%d", e); return b; }
    }
}
/* preview1 errno values are the same numbers as wasi-libc's errno */
#define R(label, expr) do { errno = 0; long r_ = (long)(expr); \
    printf("%-34s %ld %s\n", label, r_ < 0 ? -1L : r_, r_ < 0 ? ename(errno) : "OK"); } while (0)
#define W(label, expr) do { __wasi_errno_t e_ = (expr); printf("%-34s %s\n", label, ename(e_)); } while (0)
#define P(...) do { printf(__VA_ARGS__); printf("\n"); } while (0)

/* the preopen whose name is `name`, by fd_prestat_get over fds 3.. (as libc does) */
static __wasi_fd_t preopen(const char *name) {
    for (__wasi_fd_t fd = 3; fd < 64; fd++) {
        __wasi_prestat_t ps; char buf[256];
        if (__wasi_fd_prestat_get(fd, &ps) != 0) continue;
        if (ps.u.dir.pr_name_len >= sizeof buf) continue;
        if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)buf, ps.u.dir.pr_name_len) != 0) continue;
        buf[ps.u.dir.pr_name_len] = 0;
        if (strcmp(buf, name) == 0) return fd;
    }
    P("no preopen %s", name); exit(3);
}
/* path_open with preview1's arguments */
static __wasi_errno_t popen_(__wasi_fd_t dir, __wasi_lookupflags_t lf, const char *path,
                             __wasi_oflags_t of, __wasi_rights_t base, __wasi_fdflags_t ff,
                             __wasi_fd_t *out) {
    return __wasi_path_open(dir, lf, path, of, base, base, ff, out);
}
static void touch(const char *p) { close(open(p, O_CREAT | O_WRONLY, 0644)); }
#ifdef CONF_DIRECT
/* A program with `@imports` calls those component-model interfaces itself (the Canonical ABI
 * by hand): it is linked as a reactor with its own `_start` (in a command module wasm-ld
 * wraps every export in constructors and destructors, so the adapter's first `cabi_realloc`
 * would run the atexit handlers), and gives the host an allocator. */
#define IMPORT(m, n) __attribute__((import_module(m), import_name(n)))
extern void __wasm_call_ctors(void);
int main(int argc, char **argv);
__attribute__((export_name("_start"))) void start_(void) {
    __wasm_call_ctors();
    /* argv through libc's own startup is not run in a reactor: read it here */
    __wasi_size_t argc, len;
    __wasi_args_sizes_get(&argc, &len);
    char **argv = calloc(argc + 1, sizeof *argv); char *buf = malloc(len);
    __wasi_args_get((uint8_t **)argv, (uint8_t *)buf);
    exit(main((int)argc, argv));
}
__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *p, size_t old, size_t align, size_t size) {
    (void)old; (void)align;
    return realloc(p, size ? size : 1);
}
#endif
