/* More of the filesystem API: symlinks the host placed in the preopen (absolute, escaping,
 * looping), *at() calls relative to directory descriptors (escapes from a subdirectory),
 * a directory of many entries, reads past the end, and utimensat's "now"/"omit".
 * Preopen: /rw holding sub/, abs -> /etc, esc -> ../outside, and many/ (300 files).
 * Built with fs_common.h prepended. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    char buf[128]; struct stat st; ssize_t n;
    /* host-made symlinks */
    n = readlink("/rw/abs", buf, sizeof buf - 1);
    if (n >= 0) { buf[n] = 0; printf("readlink abs [%s]\n", buf); } else printf("readlink abs %s\n", ename(errno));
    n = readlink("/rw/esc", buf, sizeof buf - 1);
    if (n >= 0) { buf[n] = 0; printf("readlink esc [%s]\n", buf); } else printf("readlink esc %s\n", ename(errno));
    R("lstat abs", lstat("/rw/abs", &st));
    R("stat abs", stat("/rw/abs", &st));
    R("stat esc", stat("/rw/esc", &st));
    R("open abs/passwd", open("/rw/abs/passwd", O_RDONLY));
    R("open esc/secret", open("/rw/esc/secret", O_RDONLY));
    R("opendir esc", opendir("/rw/esc") ? 0 : -1);
    R("unlink esc (the link)", unlink("/rw/esc"));
    R("lstat esc gone", lstat("/rw/esc", &st));
    /* *at() relative to a subdirectory descriptor */
    int d = open("/rw/sub", O_RDONLY | O_DIRECTORY);
    R("open sub", d >= 0 ? 0 : -1);
    R("openat ..", openat(d, "..", O_RDONLY | O_DIRECTORY));
    R("openat ../..", openat(d, "../..", O_RDONLY | O_DIRECTORY));
    R("openat ../sub/f", openat(d, "../sub/f", O_RDONLY));
    R("mkdirat x", mkdirat(d, "x", 0755));
    R("fstatat x", fstatat(d, "x", &st, 0));
    printf("x is dir %d\n", S_ISDIR(st.st_mode));
    R("renameat x -> ../y", renameat(d, "x", d, "../y"));
    R("renameat ../y -> ../../z", renameat(d, "../y", d, "../../z"));
    R("unlinkat ../y dir", unlinkat(d, "../y", AT_REMOVEDIR));
    R("symlinkat", symlinkat("../sub", d, "loop"));
    R("fstatat loop nofollow", fstatat(d, "loop", &st, AT_SYMLINK_NOFOLLOW));
    R("open sub/loop/loop/loop/f", open("/rw/sub/loop/loop/loop/f", O_RDONLY));
    R("faccessat f", faccessat(d, "f", R_OK, 0));
    close(d);
    /* reads past the end, zero-length reads */
    int f = open("/rw/sub/f", O_RDWR);
    R("read 0", read(f, buf, 0));
    R("pread past end", pread(f, buf, 10, 1000));
    R("lseek past end", lseek(f, 100, SEEK_SET));
    R("read at 100", read(f, buf, 10));
    R("write at 100", write(f, "tail", 4));
    fstat(f, &st); printf("size now %lld\n", (long long)st.st_size);
    { struct timespec ts[2] = {{0, UTIME_OMIT}, {42, 0}};
      R("futimens omit/42", futimens(f, ts)); fstat(f, &st);
      printf("mtime %lld\n", (long long)st.st_mtim.tv_sec); }
    { struct timespec ts[2] = {{7, 0}, {0, UTIME_OMIT}};
      R("futimens 7/omit", futimens(f, ts)); fstat(f, &st);
      printf("atime is 7 %d mtime %lld\n", st.st_atim.tv_sec == 7, (long long)st.st_mtim.tv_sec); }
    { struct timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
      time_t before = time(NULL);
      R("futimens now", futimens(f, ts)); fstat(f, &st);
      printf("now ok %d\n", st.st_mtim.tv_sec >= before - 1); }
    close(f);
    R("read closed fd", read(f, buf, 1));
    /* trailing slashes */
    R("mkdir newdir/", mkdir("/rw/newdir/", 0755));
    R("stat newdir/", stat("/rw/newdir/", &st));
    R("stat sub/f/", stat("/rw/sub/f/", &st));
    R("open sub/f/", open("/rw/sub/f/", O_RDONLY));
    R("open newdir/", open("/rw/newdir/", O_RDONLY));
    R("create nf/", open("/rw/nf/", O_CREAT | O_WRONLY, 0644));
    R("rename newdir/ nd2/", rename("/rw/newdir/", "/rw/nd2/"));
    R("rename sub/f/ g", rename("/rw/sub/f/", "/rw/g"));
    R("rmdir nd2", rmdir("/rw/nd2"));
    R("unlink sub/f/", unlink("/rw/sub/f/"));
    R("mkdir sub/./x/../y", mkdir("/rw/sub/./x/../y", 0755));
    R("mkdir sub/x/..", mkdir("/rw/sub/x/..", 0755));
    R("symlink to dir/ slash", symlink("sub/", "/rw/subslash"));
    R("stat via subslash/f", stat("/rw/subslash/f", &st));
    R("unlink subslash/", unlink("/rw/subslash/"));
    R("rmdir sub/.", rmdir("/rw/sub/."));
    R("rmdir sub/..", rmdir("/rw/sub/.."));
    /* a directory with many entries (the adapter's readdir cache) */
    DIR *dir = opendir("/rw/many"); int count = 0; long sum = 0; struct dirent *e;
    while ((e = readdir(dir))) { count++; sum += strlen(e->d_name); }
    closedir(dir);
    printf("many: %d entries, name bytes %ld\n", count, sum);
    return 0;
}
