/* Symbolic links (wasi-testsuite: dangling_symlink, symlink_loop, nofollow_errors,
 * symlink_create, symlink_filestat, readlink, path_exists, path_symlink_trailing_slashes):
 * opening a link without following it, dangling links and loops, links to directories and
 * files, readlink into short buffers, stat and set-times without following, and links made
 * by the host that point out of the preopen.
 * @file: target.txt=0123456789
 * @dir: tdir
 * @symlink: host_abs -> /etc/passwd
 * @symlink: host_up -> ../outside
 * @symlink: host_dir -> tdir
 * @wit: rmdir dl/ EINVAL => rmdir dl/ ENOTDIR | wasmtime refuses rmdir of any `name/`; as POSIX's unlinkat (and Linux), a symlink there is not a directory (see trailing.c)
 */
#include <sys/time.h>

int main(void) {
    __wasi_fd_t rw = preopen("/rw"), fd; __wasi_filestat_t st, st2; char buf[64]; __wasi_size_t n;
    const __wasi_lookupflags_t FOLLOW = __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW;
    /* dangling */
    W("symlink dangling", __wasi_path_symlink("missing", rw, "dangling"));
    W("open dangling nofollow dir", popen_(rw, 0, "dangling", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd));
    W("open dangling nofollow", popen_(rw, 0, "dangling", 0, 0, 0, &fd));
    W("open dangling follow", popen_(rw, FOLLOW, "dangling", 0, 0, 0, &fd));
    W("create through dangling", popen_(rw, FOLLOW, "dangling", __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_WRITE, 0, &fd));
    if (!__wasi_fd_close(fd)) P("created through dangling: missing exists %d", access("/rw/missing", F_OK) == 0);
    W("excl create on dangling", popen_(rw, 0, "dangling", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, 0, 0, &fd));
    W("stat dangling nofollow", __wasi_path_filestat_get(rw, 0, "dangling", &st)); P("  type %d", st.filetype);
    W("stat dangling follow", __wasi_path_filestat_get(rw, FOLLOW, "dangling", &st));
    W("unlink dangling", __wasi_path_unlink_file(rw, "dangling"));
    unlink("/rw/missing");
    /* loops */
    W("symlink self loop", __wasi_path_symlink("loop", rw, "loop"));
    W("open loop nofollow", popen_(rw, 0, "loop", 0, 0, 0, &fd));
    W("open loop follow", popen_(rw, FOLLOW, "loop", 0, 0, 0, &fd));
    W("stat loop follow", __wasi_path_filestat_get(rw, FOLLOW, "loop", &st));
    W("open loop/x", popen_(rw, FOLLOW, "loop/x", 0, 0, 0, &fd));
    W("mkdir loop/x", __wasi_path_create_directory(rw, "loop/x"));
    W("symlink a -> b", __wasi_path_symlink("b", rw, "a"));
    W("symlink b -> a", __wasi_path_symlink("a", rw, "b"));
    W("open a follow", popen_(rw, FOLLOW, "a", 0, 0, 0, &fd));
    W("unlink loop", __wasi_path_unlink_file(rw, "loop"));
    W("unlink a", __wasi_path_unlink_file(rw, "a")); W("unlink b", __wasi_path_unlink_file(rw, "b"));
    /* to a directory */
    W("symlink to tdir", __wasi_path_symlink("tdir", rw, "dl"));
    W("open dl nofollow O_DIRECTORY", popen_(rw, 0, "dl", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd));
    W("open dl nofollow", popen_(rw, 0, "dl", 0, 0, 0, &fd));
    W("open dl follow O_DIRECTORY", popen_(rw, FOLLOW, "dl", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd)); __wasi_fd_close(fd);
    W("open dl/ nofollow", popen_(rw, 0, "dl/", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd)); __wasi_fd_close(fd);
    W("create dl/new", popen_(rw, 0, "dl/new", __WASI_OFLAGS_CREAT, 0, 0, &fd)); __wasi_fd_close(fd);
    P("tdir/new exists %d", access("/rw/tdir/new", F_OK) == 0);
    W("rmdir dl (a link)", __wasi_path_remove_directory(rw, "dl"));
    W("rmdir dl/", __wasi_path_remove_directory(rw, "dl/"));
    W("unlink dl/", __wasi_path_unlink_file(rw, "dl/"));
    W("unlink dl", __wasi_path_unlink_file(rw, "dl"));
    /* to a file */
    W("symlink to file", __wasi_path_symlink("target.txt", rw, "fl"));
    W("open fl nofollow O_DIRECTORY", popen_(rw, 0, "fl", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd));
    W("open fl nofollow", popen_(rw, 0, "fl", 0, 0, 0, &fd));
    W("open fl follow O_DIRECTORY", popen_(rw, FOLLOW, "fl", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd));
    W("open fl follow", popen_(rw, FOLLOW, "fl", 0, __WASI_RIGHTS_FD_READ, 0, &fd)); __wasi_fd_close(fd);
    W("open fl/ follow", popen_(rw, FOLLOW, "fl/", 0, 0, 0, &fd));
    W("symlink onto existing", __wasi_path_symlink("x", rw, "fl"));
    W("symlink onto dir", __wasi_path_symlink("x", rw, "tdir"));
    W("symlink name with slash", __wasi_path_symlink("x", rw, "new/"));
    W("symlink empty target", __wasi_path_symlink("", rw, "empty"));
    W("symlink empty name", __wasi_path_symlink("x", rw, ""));
    /* stat and set-times of the link itself */
    W("lstat fl", __wasi_path_filestat_get(rw, 0, "fl", &st)); P("  type %d size %llu", st.filetype, (unsigned long long)st.size);
    W("stat fl", __wasi_path_filestat_get(rw, FOLLOW, "fl", &st2)); P("  type %d size %llu", st2.filetype, (unsigned long long)st2.size);
    W("set_times fl nofollow", __wasi_path_filestat_set_times(rw, 0, "fl", 0, 5000000000ull, __WASI_FSTFLAGS_MTIM));
    __wasi_path_filestat_get(rw, 0, "fl", &st); __wasi_path_filestat_get(rw, FOLLOW, "fl", &st2);
    P("  link mtime 5s %d, target mtime 5s %d", st.mtim == 5000000000ull, st2.mtim == 5000000000ull);
    W("set_times fl follow", __wasi_path_filestat_set_times(rw, FOLLOW, "fl", 0, 7000000000ull, __WASI_FSTFLAGS_MTIM));
    __wasi_path_filestat_get(rw, FOLLOW, "fl", &st2); P("  target mtime 7s %d", st2.mtim == 7000000000ull);
    /* readlink */
    W("readlink fl 64", __wasi_path_readlink(rw, "fl", (uint8_t *)buf, 64, &n)); P("  [%.*s] %zu", (int)n, buf, (size_t)n);
    W("readlink fl 4", __wasi_path_readlink(rw, "fl", (uint8_t *)buf, 4, &n)); P("  [%.*s] %zu", (int)n, buf, (size_t)n);
    W("readlink fl 0", __wasi_path_readlink(rw, "fl", (uint8_t *)buf, 0, &n)); P("  %zu", (size_t)n);
    R("libc readlink 3", readlink("/rw/fl", buf, 3));
    W("readlink a file", __wasi_path_readlink(rw, "target.txt", (uint8_t *)buf, 64, &n));
    W("readlink a dir", __wasi_path_readlink(rw, "tdir", (uint8_t *)buf, 64, &n));
    W("readlink missing", __wasi_path_readlink(rw, "nope", (uint8_t *)buf, 64, &n));
    W("readlink fl/", __wasi_path_readlink(rw, "fl/", (uint8_t *)buf, 64, &n));
    /* path_exists: stat through a path of links */
    W("symlink chain", __wasi_path_symlink("fl", rw, "fl2"));
    W("stat chain follow", __wasi_path_filestat_get(rw, FOLLOW, "fl2", &st)); P("  type %d", st.filetype);
    W("stat dir link/file", __wasi_path_filestat_get(rw, 0, "host_dir/../target.txt", &st));
    R("access fl2", access("/rw/fl2", F_OK));
    /* host-made links out of the preopen */
    W("readlink host_abs", __wasi_path_readlink(rw, "host_abs", (uint8_t *)buf, 64, &n)); P("  [%.*s]", (int)n, buf);
    W("open host_abs follow", popen_(rw, FOLLOW, "host_abs", 0, __WASI_RIGHTS_FD_READ, 0, &fd));
    W("stat host_abs follow", __wasi_path_filestat_get(rw, FOLLOW, "host_abs", &st));
    W("stat host_abs nofollow", __wasi_path_filestat_get(rw, 0, "host_abs", &st)); P("  type %d", st.filetype);
    W("open host_up/x follow", popen_(rw, FOLLOW, "host_up/x", __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_WRITE, 0, &fd));
    W("mkdir host_up/y", __wasi_path_create_directory(rw, "host_up/y"));
    W("symlink absolute target", __wasi_path_symlink("/etc/passwd", rw, "abs"));
    W("symlink escaping target", __wasi_path_symlink("../../etc", rw, "esc"));
    W("open esc follow", popen_(rw, FOLLOW, "esc", 0, 0, 0, &fd));
    W("unlink esc", __wasi_path_unlink_file(rw, "esc"));
    W("unlink abs", __wasi_path_unlink_file(rw, "abs"));
    W("unlink fl2", __wasi_path_unlink_file(rw, "fl2"));
    W("unlink fl", __wasi_path_unlink_file(rw, "fl"));
    W("unlink empty", __wasi_path_unlink_file(rw, "empty"));
    return 0;
}
