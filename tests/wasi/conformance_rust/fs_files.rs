/* std::fs on files (Rust std over wasi-libc over the preview1 adapter, wasi-testsuite's
 * file_* and path_open_* tests in std's terms): read and write whole files, append,
 * create_new and truncation, seeking (past the end leaves a gap of zeros), set_len, metadata,
 * copy, rename (over a file, over a directory), remove_file on a directory, two handles on
 * one file, and what the read-only preopen refuses.
 * @file: hello.txt=hello\n
 * @dir: sub
 * @ro-file: frozen.txt=ice\n
 * @expect: read hello.txt Ok("hello\n")
 * @expect: read after gap Ok(106)
 * @wit: write ro Err(PermissionDenied 63) => write ro Err(Uncategorized 69) | the WIT: without `mutate-directory`, a mutation "shall fail with error-code::read-only" (EROFS, which Rust 1.63 files as Uncategorized); wasmtime: not-permitted (EPERM), as in conformance/readonly.c
 * @wit: create in ro Err(PermissionDenied 63) => create in ro Err(Uncategorized 69) | as above
 * @wit: remove in ro Err(PermissionDenied 63) => remove in ro Err(Uncategorized 69) | as above
 */
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};

fn main() {
    show("read hello.txt", fs::read_to_string("/rw/hello.txt"));
    show("write new.txt", fs::write("/rw/new.txt", "abc"));
    let append = OpenOptions::new().append(true).open("/rw/new.txt");
    show("append", append.and_then(|mut f| f.write_all(b"def")));
    show("read new.txt", fs::read_to_string("/rw/new.txt"));
    show("create_new existing", OpenOptions::new().write(true).create_new(true).open("/rw/new.txt").map(|_| ()));
    show("create_new fresh", OpenOptions::new().write(true).create_new(true).open("/rw/fresh.txt").map(|_| ()));
    show("open missing", File::open("/rw/missing.txt").map(|_| ()));
    show("open missing dir", File::open("/rw/nowhere/x.txt").map(|_| ()));
    show("open file as dir", File::open("/rw/hello.txt/x").map(|_| ()));
    show("write to a dir", fs::write("/rw/sub", "x"));

    // Seeking, a gap past the end, set_len.
    let mut f = OpenOptions::new().read(true).write(true).open("/rw/new.txt").unwrap();
    show("seek end -2", f.seek(SeekFrom::End(-2)));
    let mut two = [0u8; 2];
    show("read 2", f.read_exact(&mut two).map(|_| String::from_utf8_lossy(&two).into_owned()));
    show("seek before 0", f.seek(SeekFrom::Current(-100)));
    show("seek 100", f.seek(SeekFrom::Start(100)));
    show("write past end", f.write_all(b"xyzzy\n"));
    show("stream position", f.stream_position());
    let mut all = Vec::new();
    show("rewind", f.rewind());
    show("read after gap", f.read_to_end(&mut all));
    println!("zeros in gap {}", all[6..100].iter().filter(|b| **b == 0).count());
    show("set_len 4", f.set_len(4));
    show("len after set_len", f.metadata().map(|m| m.len()));
    show("sync_all", f.sync_all());
    drop(f);
    show("read truncated", fs::read_to_string("/rw/new.txt"));
    show("File::create truncates", File::create("/rw/new.txt").and_then(|f| f.metadata()).map(|m| m.len()));

    // Metadata.
    for p in ["/rw/hello.txt", "/rw/sub", "/rw", "/rw/missing"] {
        show(&format!("metadata {}", p), fs::metadata(p).map(|m| (m.is_file(), m.is_dir(), m.file_type().is_symlink(), if m.is_file() { m.len() } else { 0 })));
    }
    show("modified", fs::metadata("/rw/hello.txt").and_then(|m| m.modified()).map(|_| "some time"));
    show("readonly bit", fs::metadata("/rw/hello.txt").map(|m| m.permissions().readonly()));

    // Two handles on one file see each other's writes at once.
    let mut w = File::create("/rw/shared.txt").unwrap();
    let mut r = File::open("/rw/shared.txt").unwrap();
    w.write_all(b"one").unwrap();
    let mut s = String::new();
    show("other handle reads", r.read_to_string(&mut s).map(|_| s.clone()));

    // Copy, rename, remove.
    show("copy", fs::copy("/rw/hello.txt", "/rw/copy.txt"));
    show("read copy", fs::read_to_string("/rw/copy.txt"));
    show("rename file", fs::rename("/rw/copy.txt", "/rw/moved.txt"));
    show("old name gone", fs::metadata("/rw/copy.txt").map(|_| ()));
    show("rename over a file", fs::rename("/rw/moved.txt", "/rw/shared.txt"));
    show("read renamed", fs::read_to_string("/rw/shared.txt"));
    show("rename file over a dir", fs::rename("/rw/shared.txt", "/rw/sub"));
    show("rename into sub", fs::rename("/rw/shared.txt", "/rw/sub/shared.txt"));
    show("rename missing", fs::rename("/rw/nothing", "/rw/other"));
    show("remove_file a dir", fs::remove_file("/rw/sub"));
    show("remove_file", fs::remove_file("/rw/fresh.txt"));
    show("remove_file again", fs::remove_file("/rw/fresh.txt"));

    // The read-only preopen.
    show("read ro", fs::read_to_string("/ro/frozen.txt"));
    show("write ro", fs::write("/ro/frozen.txt", "melt"));
    show("create in ro", fs::write("/ro/new.txt", "x"));
    show("remove in ro", fs::remove_file("/ro/frozen.txt"));
    show("read ro after", fs::read_to_string("/ro/frozen.txt"));
}
