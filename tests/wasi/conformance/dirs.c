/* Directory operations (wasi-testsuite: remove_nonempty_directory,
 * remove_directory_trailing_slashes, unlink_file_trailing_slashes, path_rename,
 * path_rename_dir_trailing_slashes, path_link, interesting_paths; 0.3's filesystem-mkdir-rmdir,
 * filesystem-unlink-errors, filesystem-rename, filesystem-hard-links): mkdir/rmdir/unlink
 * on every kind of name, rename over files and directories, hard links, and the ways out.
 * @file: a.txt=a
 * @dir: full/inner
 * @symlink: parent -> ..
 * @symlink: dot -> .
 * @wit: rmdir r/// EINVAL => rmdir r/// OK | wasmtime refuses rmdir of any `name/`; POSIX (and Linux) removes the directory, and wasi-testsuite's remove_directory_trailing_slashes asks for that (or EACCES)
 */
int main(void) {
    __wasi_fd_t rw = preopen("/rw"), fd, child; __wasi_filestat_t st;
    /* mkdir */
    W("mkdir empty", __wasi_path_create_directory(rw, ""));
    W("mkdir .", __wasi_path_create_directory(rw, "."));
    W("mkdir ..", __wasi_path_create_directory(rw, ".."));
    W("mkdir /", __wasi_path_create_directory(rw, "/"));
    W("mkdir a.txt", __wasi_path_create_directory(rw, "a.txt"));
    W("mkdir parent/foo", __wasi_path_create_directory(rw, "parent/foo"));
    W("mkdir ../rw/q", __wasi_path_create_directory(rw, "../rw/q"));
    W("mkdir q/", __wasi_path_create_directory(rw, "q/"));
    W("mkdir q///", __wasi_path_create_directory(rw, "r///"));
    W("mkdir q again", __wasi_path_create_directory(rw, "q"));
    W("mkdir missing/x", __wasi_path_create_directory(rw, "missing/x"));
    W("mkdir a.txt/x", __wasi_path_create_directory(rw, "a.txt/x"));
    /* rmdir */
    W("rmdir empty", __wasi_path_remove_directory(rw, ""));
    W("rmdir .", __wasi_path_remove_directory(rw, "."));
    W("rmdir ..", __wasi_path_remove_directory(rw, ".."));
    W("rmdir /", __wasi_path_remove_directory(rw, "/"));
    W("rmdir a.txt", __wasi_path_remove_directory(rw, "a.txt"));
    W("rmdir z.txt", __wasi_path_remove_directory(rw, "z.txt"));
    W("rmdir full", __wasi_path_remove_directory(rw, "full"));
    W("rmdir full/inner/..", __wasi_path_remove_directory(rw, "full/inner/.."));
    W("rmdir q/../../rw/q", __wasi_path_remove_directory(rw, "q/../../rw/q"));
    W("rmdir parent", __wasi_path_remove_directory(rw, "parent"));
    W("rmdir dot", __wasi_path_remove_directory(rw, "dot"));
    W("rmdir parent/rw", __wasi_path_remove_directory(rw, "parent/rw"));
    W("rmdir q", __wasi_path_remove_directory(rw, "q"));
    W("rmdir r///", __wasi_path_remove_directory(rw, "r///"));
    __wasi_path_remove_directory(rw, "r"); /* not printed: gone already where "r///" worked */
    /* unlink */
    W("unlink empty", __wasi_path_unlink_file(rw, ""));
    W("unlink .", __wasi_path_unlink_file(rw, "."));
    W("unlink ..", __wasi_path_unlink_file(rw, ".."));
    W("unlink /", __wasi_path_unlink_file(rw, "/"));
    W("unlink /etc/passwd", __wasi_path_unlink_file(rw, "/etc/passwd"));
    W("unlink full (a dir)", __wasi_path_unlink_file(rw, "full"));
    W("unlink full/", __wasi_path_unlink_file(rw, "full/"));
    W("unlink z.txt", __wasi_path_unlink_file(rw, "z.txt"));
    W("unlink parent/z.txt", __wasi_path_unlink_file(rw, "parent/z.txt"));
    W("unlink a.txt/", __wasi_path_unlink_file(rw, "a.txt/"));
    /* rename */
    W("mkdir src", __wasi_path_create_directory(rw, "src"));
    W("rename src -> dst", __wasi_path_rename(rw, "src", rw, "dst"));
    W("stat src", __wasi_path_filestat_get(rw, 0, "src", &st));
    W("mkdir src", __wasi_path_create_directory(rw, "src"));
    W("rename dir over empty dir", __wasi_path_rename(rw, "src", rw, "dst"));
    W("mkdir src", __wasi_path_create_directory(rw, "src"));
    W("rename dir over non-empty", __wasi_path_rename(rw, "src", rw, "full"));
    W("rename dir over file", __wasi_path_rename(rw, "src", rw, "a.txt"));
    W("rename file over dir", __wasi_path_rename(rw, "a.txt", rw, "src"));
    W("rename dir into itself", __wasi_path_rename(rw, "src", rw, "src/sub"));
    W("rename src/ -> moved/", __wasi_path_rename(rw, "src/", rw, "moved/"));
    W("rename moved -> m2/", __wasi_path_rename(rw, "moved", rw, "m2/"));
    W("rename m2/ -> m3", __wasi_path_rename(rw, "m2/", rw, "m3"));
    W("rename a.txt/ -> b", __wasi_path_rename(rw, "a.txt/", rw, "b"));
    W("rename a.txt -> b/", __wasi_path_rename(rw, "a.txt", rw, "b/"));
    W("rename missing", __wasi_path_rename(rw, "missing", rw, "b"));
    W("rename a.txt -> ../x", __wasi_path_rename(rw, "a.txt", rw, "../x"));
    W("rename a.txt -> parent/x", __wasi_path_rename(rw, "a.txt", rw, "parent/x"));
    W("rename . -> x", __wasi_path_rename(rw, ".", rw, "x"));
    W("rename x -> .", __wasi_path_rename(rw, "a.txt", rw, "."));
    W("rename a.txt -> a.txt", __wasi_path_rename(rw, "a.txt", rw, "a.txt"));
    touch("/rw/b.txt");
    W("rename file over file", __wasi_path_rename(rw, "b.txt", rw, "a.txt"));
    W("rename link parent -> p2", __wasi_path_rename(rw, "parent", rw, "p2"));
    W("stat p2 nofollow", __wasi_path_filestat_get(rw, 0, "p2", &st)); P("  type %d", st.filetype);
    /* a subdirectory descriptor */
    W("open full", popen_(rw, 0, "full", __WASI_OFLAGS_DIRECTORY, 0, 0, &child));
    W("child mkdir z", __wasi_path_create_directory(child, "z"));
    W("child rmdir z", __wasi_path_remove_directory(child, "z"));
    W("child mkdir ../z", __wasi_path_create_directory(child, "../z"));
    W("child rmdir ../m3", __wasi_path_remove_directory(child, "../m3"));
    W("child rename inner -> ../x", __wasi_path_rename(child, "inner", child, "../x"));
    W("child rename inner -> rw:x", __wasi_path_rename(child, "inner", rw, "x"));
    W("rename x back", __wasi_path_rename(rw, "x", child, "inner"));
    /* hard links */
    W("link a.txt -> h", __wasi_path_link(rw, 0, "a.txt", rw, "h"));
    W("stat h", __wasi_path_filestat_get(rw, 0, "h", &st)); P("  nlink %llu", (unsigned long long)st.nlink);
    W("link onto existing", __wasi_path_link(rw, 0, "a.txt", rw, "h"));
    W("link a dir", __wasi_path_link(rw, 0, "full", rw, "h2"));
    W("link missing", __wasi_path_link(rw, 0, "missing", rw, "h3"));
    W("link to ../h4", __wasi_path_link(rw, 0, "a.txt", rw, "../h4"));
    W("link from ../rw/a.txt", __wasi_path_link(rw, 0, "../rw/a.txt", rw, "h5"));
    W("link to h6/", __wasi_path_link(rw, 0, "a.txt", rw, "h6/"));
    W("link a.txt/ ", __wasi_path_link(rw, 0, "a.txt/", rw, "h7"));
    W("link into full", __wasi_path_link(rw, 0, "a.txt", child, "h8"));
    W("link follow symlink", __wasi_path_link(rw, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "dot", rw, "h9"));
    W("symlink fl -> a.txt", __wasi_path_symlink("a.txt", rw, "fl"));
    W("link a symlink", __wasi_path_link(rw, 0, "fl", rw, "hl"));
    W("stat hl nofollow", __wasi_path_filestat_get(rw, 0, "hl", &st)); P("  type %d", st.filetype);
    W("unlink h", __wasi_path_unlink_file(rw, "h"));
    W("unlink hl", __wasi_path_unlink_file(rw, "hl"));
    W("unlink full/h8", __wasi_path_unlink_file(rw, "full/h8"));
    W("stat a.txt", __wasi_path_filestat_get(rw, 0, "a.txt", &st)); P("  nlink %llu", (unsigned long long)st.nlink);
    /* interesting paths */
    touch("/rw/full/inner/file");
    W("dotted path", popen_(rw, 0, "full/.//inner/../../full/inner/../inner///./file", 0, 0, 0, &fd)); __wasi_fd_close(fd);
    W("file/", popen_(rw, 0, "full/inner/file/", 0, 0, 0, &fd));
    W("file/.", popen_(rw, 0, "full/inner/file/.", 0, 0, 0, &fd));
    W("dir/.", popen_(rw, 0, "full/inner/.", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd)); __wasi_fd_close(fd);
    W("too many ..", popen_(rw, 0, "full/inner/../../../rw/full", 0, 0, 0, &fd));
    W("NUL inside", popen_(rw, 0, "full\0x", 0, 0, 0, &fd)); __wasi_fd_close(fd);
    __wasi_fd_close(child);
    return 0;
}
