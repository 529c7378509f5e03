/* Cases from the WASI test suite's filesystem tests (interesting paths, trailing slashes on
 * symlink/link/unlink, rename and link semantics), printed for comparison.
 * Preopen: /rw (empty). Built with fs_common.h prepended. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static void touch(const char *p) { close(open(p, O_CREAT | O_WRONLY, 0644)); }

int main(void) {
    struct stat st;
    /* interesting paths */
    R("mkdir dir", mkdir("/rw/dir", 0755));
    R("mkdir dir/nested", mkdir("/rw/dir/nested", 0755));
    touch("/rw/dir/nested/file");
    R("dotted path", open("/rw/dir/.//nested/../../dir/nested/../nested///./file", O_RDONLY) >= 0 ? 0 : -1);
    R("file/", open("/rw/dir/nested/file/", O_RDONLY));
    R("file///", open("/rw/dir/nested/file///", O_RDONLY));
    R("nested/", open("/rw/dir/nested/", O_RDONLY) >= 0 ? 0 : -1);
    R("nested///", open("/rw/dir/nested///", O_RDONLY) >= 0 ? 0 : -1);
    R("too many ..", open("/rw/dir/nested/../../../rw/dir/nested/file", O_RDONLY));
    /* symlink trailing slashes */
    R("symlink to target/", symlink("source", "/rw/target/"));
    R("symlink to target", symlink("source", "/rw/target"));
    R("unlink target", unlink("/rw/target"));
    R("mkdir target", mkdir("/rw/target", 0755));
    R("symlink onto dir/", symlink("source", "/rw/target/"));
    R("symlink onto dir", symlink("source", "/rw/target"));
    R("rmdir target", rmdir("/rw/target"));
    touch("/rw/target");
    R("symlink onto file/", symlink("source", "/rw/target/"));
    R("symlink onto file", symlink("source", "/rw/target"));
    R("unlink target file", unlink("/rw/target"));
    /* unlink trailing slashes */
    R("mkdir d", mkdir("/rw/d", 0755));
    R("unlink d", unlink("/rw/d"));
    R("unlink d/", unlink("/rw/d/"));
    R("rmdir d/", rmdir("/rw/d/"));
    rmdir("/rw/d"); /* not printed: gone already where rmdir("d/") worked */
    touch("/rw/f");
    R("unlink f/", unlink("/rw/f/"));
    R("unlink f", unlink("/rw/f"));
    /* links */
    touch("/rw/file");
    R("link file link", link("/rw/file", "/rw/link"));
    R("stat link nlink", stat("/rw/link", &st) == 0 ? (long)st.st_nlink : -1);
    R("unlink link", unlink("/rw/link"));
    touch("/rw/link");
    R("link onto file", link("/rw/file", "/rw/link"));
    R("unlink link2", unlink("/rw/link"));
    R("link to itself", link("/rw/file", "/rw/file"));
    R("mkdir link", mkdir("/rw/link", 0755));
    R("link onto dir", link("/rw/file", "/rw/link"));
    R("rmdir link", rmdir("/rw/link"));
    R("mkdir subdir", mkdir("/rw/subdir", 0755));
    R("link a dir", link("/rw/subdir", "/rw/link"));
    R("link to link/", link("/rw/file", "/rw/link/"));
    R("dangling symlink", symlink("target", "/rw/symlink"));
    R("link the symlink", link("/rw/symlink", "/rw/link"));
    R("lstat link", lstat("/rw/link", &st) == 0 ? (S_ISLNK(st.st_mode) ? 1 : 0) : -1);
    R("unlink link3", unlink("/rw/link"));
    R("link onto symlink", link("/rw/file", "/rw/symlink"));
    R("unlink symlink", unlink("/rw/symlink"));
    R("self loop", symlink("symlink", "/rw/symlink"));
    R("link the loop", link("/rw/symlink", "/rw/link"));
    R("unlink loop", unlink("/rw/symlink"));
    R("unlink loop link", unlink("/rw/link"));
    /* rename */
    R("mkdir source", mkdir("/rw/source", 0755));
    R("rename dir", rename("/rw/source", "/rw/target"));
    R("open source", open("/rw/source", O_RDONLY | O_DIRECTORY));
    R("mkdir source2", mkdir("/rw/source", 0755));
    R("rename onto empty dir", rename("/rw/source", "/rw/target"));
    R("mkdir source3", mkdir("/rw/source", 0755));
    touch("/rw/target/file");
    R("rename onto non-empty", rename("/rw/source", "/rw/target"));
    R("rename dir onto file", rename("/rw/source", "/rw/target/file"));
    R("rename file onto dir", rename("/rw/target/file", "/rw/source"));
    R("rename file over file", rename("/rw/target/file", "/rw/file"));
    R("rename dir/ to new/", rename("/rw/source/", "/rw/renamed/"));
    R("rename file to x/", rename("/rw/file", "/rw/x/"));
    R("rename to itself", rename("/rw/file", "/rw/file"));
    R("rmdir renamed", rmdir("/rw/renamed"));
    R("rmdir target", rmdir("/rw/target"));
    R("rmdir subdir", rmdir("/rw/subdir"));
    R("unlink file", unlink("/rw/file"));
    R("rmdir nested (a file in it)", rmdir("/rw/dir/nested"));
    R("unlink nested/file", unlink("/rw/dir/nested/file"));
    R("rmdir nested", rmdir("/rw/dir/nested"));
    R("rmdir dir", rmdir("/rw/dir"));
    return 0;
}
