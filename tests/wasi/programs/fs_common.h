/* Shared by the fs_*.c programs (prepended when they are built): errno names, and R(),
 * which prints a call's result and errno in one line. */
#include <errno.h>
#include <stdio.h>

static const char *ename(int e) {
    switch (e) {
    case 0: return "OK";
    case EPERM: return "EPERM"; case ENOENT: return "ENOENT"; case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR"; case EISDIR: return "EISDIR"; case EINVAL: return "EINVAL";
    case ENOTEMPTY: return "ENOTEMPTY"; case ELOOP: return "ELOOP"; case EBADF: return "EBADF";
    case EACCES: return "EACCES"; case ENOTCAPABLE: return "ENOTCAPABLE"; case EXDEV: return "EXDEV";
    case ESPIPE: return "ESPIPE"; case EROFS: return "EROFS"; case ENAMETOOLONG: return "ENAMETOOLONG";
    default: return "E?";
    }
}
#define R(label, expr) do { errno = 0; long r_ = (long)(expr); \
    printf("%-30s %ld %s\n", label, r_ < 0 ? -1L : r_, r_ < 0 ? ename(errno) : "OK"); } while (0)
