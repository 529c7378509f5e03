/* Trailing slashes on symlinks (wasi-testsuite: path_symlink_trailing_slashes,
 * remove_directory_trailing_slashes, path_rename_dir_trailing_slashes, dangling_symlink):
 * "link/" names what the link points to when it is read (stat, open), but an operation that
 * removes, renames or makes the name never acts on the link's target instead: Linux answers
 * ENOTDIR (rmdir, rename) or EEXIST (mkdir, symlink, link over a dangling link).
 * @dir: tdir
 * @dir: edir
 * @file: f=f
 * @symlink: dl -> tdir
 * @symlink: el -> edir
 * @symlink: dang -> missing
 * @symlink: fl -> f
 * @expect: edir still there 1
 * @wit: rmdir el/ EINVAL => rmdir el/ ENOTDIR | wasmtime refuses rmdir of any `name/` (see dirs.c); as POSIX's unlinkat (and Linux), a symlink there is not a directory
 * @wit: rmdir dl/ EINVAL => rmdir dl/ ENOTDIR | as above
 * @wit: libc rmdir /rw/el/ -1 EINVAL => libc rmdir /rw/el/ -1 ENOTDIR | as above
 * @wit: symlink x dang/ ENOENT => symlink x dang/ EEXIST | POSIX's symlinkat: "path2 names an existing file or symbolic link" is EEXIST (as Linux); wasmtime follows the dangling link
 * @wit: link f dang/ ENOENT => link f dang/ EEXIST | as above (POSIX's linkat)
 */
int main(void) {
    __wasi_fd_t rw = preopen("/rw"), fd; __wasi_filestat_t st;
    W("stat dl/", __wasi_path_filestat_get(rw, 0, "dl/", &st)); P("  type %d", st.filetype);
    W("stat fl/", __wasi_path_filestat_get(rw, 0, "fl/", &st));
    W("stat dang/", __wasi_path_filestat_get(rw, 0, "dang/", &st));
    W("open dl/", popen_(rw, 0, "dl/", 0, 0, 0, &fd)); __wasi_fd_close(fd);
    W("rmdir el/", __wasi_path_remove_directory(rw, "el/"));
    P("edir still there %d", access("/rw/edir", F_OK) == 0);
    W("rmdir dl/", __wasi_path_remove_directory(rw, "dl/"));
    W("unlink el/", __wasi_path_unlink_file(rw, "el/"));
    W("unlink fl/", __wasi_path_unlink_file(rw, "fl/"));
    W("unlink dang/", __wasi_path_unlink_file(rw, "dang/"));
    W("mkdir dang/", __wasi_path_create_directory(rw, "dang/"));
    P("missing made %d", access("/rw/missing", F_OK) == 0);
    W("mkdir el/", __wasi_path_create_directory(rw, "el/"));
    W("symlink x dang/", __wasi_path_symlink("x", rw, "dang/"));
    W("link f dang/", __wasi_path_link(rw, 0, "f", rw, "dang/"));
    P("missing made %d", access("/rw/missing", F_OK) == 0);
    W("create dang/", popen_(rw, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "dang/", __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_WRITE, 0, &fd));
    W("rename el/ x", __wasi_path_rename(rw, "el/", rw, "x"));
    W("rename el x/", __wasi_path_rename(rw, "el", rw, "x/"));
    W("rename edir dang/", __wasi_path_rename(rw, "edir", rw, "dang/"));
    W("rename edir el/", __wasi_path_rename(rw, "edir", rw, "el/"));
    W("rename tdir/ dl/", __wasi_path_rename(rw, "tdir/", rw, "dl/"));
    W("rename f fl/", __wasi_path_rename(rw, "f", rw, "fl/"));
    W("set_times el/", __wasi_path_filestat_set_times(rw, 0, "el/", 0, 1000000000, __WASI_FSTFLAGS_MTIM));
    W("readlink el/", __wasi_path_readlink(rw, "el/", (uint8_t *)&st, sizeof st, &(__wasi_size_t){0}));
    R("libc rmdir /rw/el/", rmdir("/rw/el/"));
    R("libc unlink /rw/el/", unlink("/rw/el/"));
    R("libc mkdir /rw/dang/", mkdir("/rw/dang/", 0755));
    P("edir still there %d", access("/rw/edir", F_OK) == 0);
    return 0;
}
