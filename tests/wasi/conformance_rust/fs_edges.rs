/* Edges of std::fs paths and handles (wasi-testsuite's interesting_paths, dir_fd_op_failures,
 * path_open_read_write, file_truncation in std's terms): `.` and `..` as the last
 * component of create_dir, remove_dir, remove_file and rename, the preopen itself as a
 * target, a trailing slash on create_dir, renaming a file onto itself, writing through a
 * read-only handle and reading through a write-only one, set_len on a read-only handle and
 * past the end (a hole of zeros), and a path holding a NUL byte.
 * @file: f.txt=0123456789
 * @dir: sub/inner
 * @expect: set_len grow Ok(())
 */
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};

fn main() {
    show("create_dir trailing slash", fs::create_dir("/rw/made/"));
    show("made is a dir", fs::metadata("/rw/made").map(|m| m.is_dir()));
    show("create_dir via ..", fs::create_dir("/rw/sub/../made2"));
    show("create_dir .", fs::create_dir("/rw/sub/."));
    show("create_dir ..", fs::create_dir("/rw/sub/inner/.."));
    show("create_dir the preopen", fs::create_dir("/rw"));
    show("remove_dir ending in .", fs::remove_dir("/rw/sub/inner/."));
    show("remove_dir ending in ..", fs::remove_dir("/rw/sub/inner/.."));
    show("remove_dir the preopen", fs::remove_dir("/rw"));
    show("remove_dir /rw/.", fs::remove_dir("/rw/."));
    show("remove_file ending in ..", fs::remove_file("/rw/sub/.."));
    show("remove_file the preopen", fs::remove_file("/rw"));
    show("rename from .", fs::rename("/rw/sub/.", "/rw/elsewhere"));
    show("rename onto .", fs::rename("/rw/made", "/rw/sub/."));
    show("rename the preopen", fs::rename("/rw", "/rw/x"));
    show("rename onto the preopen", fs::rename("/rw/made", "/rw"));
    show("rename file onto itself", fs::rename("/rw/f.txt", "/rw/f.txt"));
    show("rename dir onto itself", fs::rename("/rw/made", "/rw/made"));
    show("rename via ..", fs::rename("/rw/sub/inner/../../made2", "/rw/sub/made3"));
    show("metadata /rw/", fs::metadata("/rw/").map(|m| m.is_dir()));
    show("metadata /rw/sub/..", fs::metadata("/rw/sub/..").map(|m| m.is_dir()));
    show("metadata /rw/..", fs::metadata("/rw/..").map(|m| m.is_dir()));
    show("read_dir /rw/.", fs::read_dir("/rw/.").map(|r| r.count()));

    let mut ro = File::open("/rw/f.txt").unwrap();
    show("write on a read handle", ro.write(b"x"));
    show("set_len on a read handle", ro.set_len(1));
    let mut wo = OpenOptions::new().write(true).open("/rw/f.txt").unwrap();
    let mut buf = [0u8; 4];
    show("read on a write handle", wo.read(&mut buf));
    show("set_len grow", wo.set_len(16));
    drop(wo);
    show("after grow", fs::read("/rw/f.txt"));
    show("truncate on open", OpenOptions::new().write(true).truncate(true).open("/rw/f.txt").and_then(|f| f.metadata()).map(|m| m.len()));
    show("create+truncate read-only", OpenOptions::new().read(true).truncate(true).open("/rw/f.txt").map(|_| ()));
    show("append+truncate", OpenOptions::new().append(true).truncate(true).open("/rw/f.txt").map(|_| ()));
    show("NUL in a path", fs::read("/rw/f\0.txt"));
    show("empty path", fs::read(""));
}
