/* Ways out of a preopen (the sandbox; wasi-testsuite: interesting_paths, nofollow_errors,
 * 0.3's filesystem-dotdot, -open-errors, -mkdir-rmdir, -unlink-errors, -stat): absolute
 * paths, "..", symlinks the host made (absolute, relative out, chained, dangling to a new
 * file outside), symlinks the guest makes, every operation through them, trailing slashes,
 * out-and-back-in paths, and descriptors of subdirectories. Nothing beside /rw may change.
 * @dir: sub/deep
 * @file: sub/f=inner
 * @outside: secret=the host's secret
 * @outside: outdir/x=x
 * @symlink: abs -> /etc
 * @symlink: abs_secret -> /etc/passwd
 * @symlink: up -> ../outdir
 * @symlink: up_secret -> ../secret
 * @symlink: chain -> up
 * @symlink: dang_out -> ../made_outside
 * @symlink: sub/deep/up3 -> ../../..
 * @expect: open ../secret EPERM
 */
static const __wasi_lookupflags_t FOLLOW = __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW;

static void all_ops(__wasi_fd_t dir, const char *p) {
    char label[80]; __wasi_fd_t fd; __wasi_filestat_t st; uint8_t buf[64]; __wasi_size_t n;
    char joined[128]; snprintf(joined, sizeof joined, "%s/new", p);
#define L(op) (snprintf(label, sizeof label, "%s %s", op, p), label)
    W(L("open"), popen_(dir, FOLLOW, p, 0, __WASI_RIGHTS_FD_READ, 0, &fd));
    W(L("open O_DIRECTORY"), popen_(dir, FOLLOW, p, __WASI_OFLAGS_DIRECTORY, 0, 0, &fd));
    W(L("create under"), popen_(dir, FOLLOW, joined, __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_WRITE, 0, &fd));
    W(L("stat follow"), __wasi_path_filestat_get(dir, FOLLOW, p, &st));
    W(L("stat under"), __wasi_path_filestat_get(dir, 0, joined, &st));
    W(L("set_times follow"), __wasi_path_filestat_set_times(dir, FOLLOW, p, 0, 1, __WASI_FSTFLAGS_MTIM));
    W(L("mkdir under"), __wasi_path_create_directory(dir, joined));
    W(L("rmdir under"), __wasi_path_remove_directory(dir, joined));
    W(L("unlink under"), __wasi_path_unlink_file(dir, joined));
    W(L("symlink under"), __wasi_path_symlink("x", dir, joined));
    W(L("link under"), __wasi_path_link(dir, 0, "sub/f", dir, joined));
    W(L("link from"), __wasi_path_link(dir, 0, p, dir, "linked"));
    __wasi_path_unlink_file(dir, "linked");
    W(L("rename to under"), __wasi_path_rename(dir, "sub/f", dir, joined));
    W(L("readdir"), popen_(dir, FOLLOW, p, __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READDIR, 0, &fd));
    W(L("readlink under"), __wasi_path_readlink(dir, joined, buf, sizeof buf, &n));
#undef L
}

int main(void) {
    __wasi_fd_t rw = preopen("/rw"), fd, sub; __wasi_filestat_t st; char buf[64]; __wasi_size_t n;
    const char *paths[] = {"/etc/passwd", "/", "..", "../secret", "../rw/sub/f", "sub/../../secret",
                           "sub/./deep/../../../secret", "abs", "abs/passwd", "abs_secret", "up",
                           "up/x", "up/", "up_secret", "chain", "chain/x", "sub/deep/up3",
                           "sub/deep/up3/secret", "up/../rw/sub"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        char label[80]; snprintf(label, sizeof label, "open %s", paths[i]);
        W(label, popen_(rw, FOLLOW, paths[i], 0, __WASI_RIGHTS_FD_READ, 0, &fd));
    }
    const char *ops_on[] = {"..", "up", "chain", "abs", "sub/deep/up3", "up/"};
    for (size_t i = 0; i < sizeof ops_on / sizeof *ops_on; i++) all_ops(rw, ops_on[i]);
    /* creating through a dangling symlink that points out */
    W("create through dang_out", popen_(rw, FOLLOW, "dang_out", __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_WRITE, 0, &fd));
    W("excl create through dang_out", popen_(rw, FOLLOW, "dang_out", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, __WASI_RIGHTS_FD_WRITE, 0, &fd));
    W("mkdir dang_out/", __wasi_path_create_directory(rw, "dang_out/"));
    R("libc fopen w dang_out", fopen("/rw/dang_out", "w") ? 0 : -1);
    /* links the host made, read without following */
    W("readlink abs", __wasi_path_readlink(rw, "abs", (uint8_t *)buf, sizeof buf, &n));
    W("readlink up", __wasi_path_readlink(rw, "up", (uint8_t *)buf, sizeof buf, &n)); P("  [%.*s]", (int)n, buf);
    W("lstat abs", __wasi_path_filestat_get(rw, 0, "abs", &st)); P("  type %d", st.filetype);
    W("unlink chain (the link)", __wasi_path_unlink_file(rw, "chain"));
    /* symlinks the guest makes */
    W("symlink to /etc", __wasi_path_symlink("/etc", rw, "g_abs"));
    W("symlink to ..", __wasi_path_symlink("..", rw, "g_up"));
    W("open g_up follow", popen_(rw, FOLLOW, "g_up", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd));
    W("open g_up/secret", popen_(rw, FOLLOW, "g_up/secret", 0, __WASI_RIGHTS_FD_READ, 0, &fd));
    W("open g_up/rw/sub/f", popen_(rw, FOLLOW, "g_up/rw/sub/f", 0, __WASI_RIGHTS_FD_READ, 0, &fd));
    W("symlink sub/deep/g -> ../../..", __wasi_path_symlink("../../..", rw, "sub/deep/g"));
    W("open sub/deep/g/secret", popen_(rw, FOLLOW, "sub/deep/g/secret", 0, __WASI_RIGHTS_FD_READ, 0, &fd));
    W("symlink sub/deep/ok -> ../f", __wasi_path_symlink("../f", rw, "sub/deep/ok"));
    W("open sub/deep/ok (stays inside)", popen_(rw, FOLLOW, "sub/deep/ok", 0, __WASI_RIGHTS_FD_READ, 0, &fd));
    __wasi_fd_close(fd);
    /* a subdirectory's descriptor: ".." from it is outside it */
    W("open sub", popen_(rw, 0, "sub", __WASI_OFLAGS_DIRECTORY, 0, 0, &sub));
    W("sub: open ..", popen_(sub, 0, "..", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd));
    W("sub: open ../sub/f", popen_(sub, 0, "../sub/f", 0, __WASI_RIGHTS_FD_READ, 0, &fd));
    W("sub: open deep/..", popen_(sub, 0, "deep/..", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd)); __wasi_fd_close(fd);
    W("sub: open deep/../..", popen_(sub, 0, "deep/../..", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd));
    W("sub: symlink to ..", __wasi_path_symlink("..", sub, "back"));
    W("sub: open back follow", popen_(sub, FOLLOW, "back", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd));
    W("rw: open sub/back follow", popen_(rw, FOLLOW, "sub/back", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd)); __wasi_fd_close(fd);
    W("sub: rename f -> ../f2", __wasi_path_rename(sub, "f", sub, "../f2"));
    W("sub: rename f -> rw:f2", __wasi_path_rename(sub, "f", rw, "f2"));
    W("rename deep (open as fd) away", popen_(rw, 0, "sub/deep", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd));
    W("rename sub/deep -> moved", __wasi_path_rename(rw, "sub/deep", rw, "moved"));
    W("moved fd: open ..", popen_(fd, 0, "..", __WASI_OFLAGS_DIRECTORY, 0, 0, &sub));
    W("moved fd: open up3 follow", popen_(fd, FOLLOW, "up3", __WASI_OFLAGS_DIRECTORY, 0, 0, &sub));
    W("moved fd: stat ok", __wasi_path_filestat_get(fd, 0, "ok", &st));
    /* renumbering a subdirectory over the preopen does not widen it */
    W("renumber moved over preopen", __wasi_fd_renumber(fd, rw));
    W("new preopen: open ..", popen_(rw, 0, "..", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd));
    W("new preopen: stat g", __wasi_path_filestat_get(rw, 0, "g", &st));
    W("new preopen: open g/secret", popen_(rw, FOLLOW, "g/secret", 0, __WASI_RIGHTS_FD_READ, 0, &fd));
    return 0;
}
