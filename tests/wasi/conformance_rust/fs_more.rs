/* More of std::fs: a 96 KiB file written in 16 KiB writes and read back in 64 KiB reads
 * (both hosts return at most 64 KiB a read; the program keeps its heap small: once Rust
 * 1.63's std has grown memory by about 128 KiB, the next call into jco's preview1 adapter
 * fails its assertion at "adapter line 2857", on wasmtime too), a directory opened as a File (reading it fails), DirEntry::metadata,
 * remove_dir_all on a tree holding a symlink to a file outside it (the link goes, the
 * target stays), names with non-ASCII characters and spaces, a 255-byte name and a
 * 256-byte one, renaming onto the read-only preopen, set_permissions, File::try_clone, and
 * a file removed while open (still readable through its handle).
 * @file: keep/target.txt=kept
 * @file: tree/a/one.txt=1
 * @dir: tree/b/empty
 * @symlink: tree/a/link -> ../../keep/target.txt
 * @ro-file: frozen.txt=ice
 * @expect: read back 98304 true
 * @wit: rename onto ro Err(PermissionDenied 63) => rename onto ro Err(Uncategorized 69) | the WIT: without `mutate-directory`, a mutation "shall fail with error-code::read-only" (EROFS); wasmtime: not-permitted, as in conformance/readonly.c
 * @wit: rename from ro Err(PermissionDenied 63) => rename from ro Err(Uncategorized 69) | as above
 */
use std::fs::{self, File};
use std::io::{Read, Write};

fn main() {
    let byte = |i: usize| (i % 251) as u8;
    let mut big = File::create("/rw/big.bin").unwrap();
    let mut piece = vec![0u8; 16384];
    let mut wrote = Ok(());
    for k in 0..6 {
        for (j, b) in piece.iter_mut().enumerate() {
            *b = byte(k * 16384 + j);
        }
        wrote = wrote.and_then(|_| big.write_all(&piece));
    }
    show("write 96 KiB", wrote);
    drop(big);
    let mut f = File::open("/rw/big.bin").unwrap();
    let mut chunk = vec![0u8; 65536];
    let (mut reads, mut total, mut same) = (0, 0, true);
    loop {
        let n = f.read(&mut chunk).unwrap();
        if n == 0 {
            break;
        }
        reads += 1;
        same &= chunk[..n].iter().enumerate().all(|(j, b)| *b == byte(total + j));
        total += n;
    }
    println!("reads {}", reads);
    println!("read back {} {}", total, same);
    show("big len", fs::metadata("/rw/big.bin").map(|m| m.len()));
    show("remove big", fs::remove_file("/rw/big.bin"));

    let dir = File::open("/rw/tree");
    show("open a dir as File", dir.as_ref().map(|_| ()).map_err(|e| std::io::Error::from(e.kind())));
    if let Ok(mut d) = dir {
        let mut buf = Vec::new();
        show("read a dir", d.read_to_end(&mut buf));
        show("dir File metadata", d.metadata().map(|m| m.is_dir()));
    }

    let mut entries: Vec<String> = fs::read_dir("/rw/tree/a").unwrap()
        .map(|e| {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            format!("{} dir={} file={} symlink={}", e.file_name().to_string_lossy(), m.is_dir(), m.is_file(), m.file_type().is_symlink())
        })
        .collect();
    entries.sort();
    println!("entries {:?}", entries);
    show("path of an entry", fs::read_dir("/rw/tree/b").map(|r| r.map(|e| e.unwrap().path()).collect::<Vec<_>>()));

    show("remove_dir_all tree", fs::remove_dir_all("/rw/tree"));
    show("tree gone", fs::metadata("/rw/tree").map(|_| ()));
    show("link target kept", fs::read_to_string("/rw/keep/target.txt"));

    for name in ["naïve café.txt", "日本語", "with space", "semi;colon", "-dash"] {
        let p = format!("/rw/{}", name);
        show(&format!("write {}", name), fs::write(&p, name));
        show(&format!("read {}", name), fs::read_to_string(&p));
    }
    let mut names: Vec<String> = fs::read_dir("/rw").unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    println!("names {:?}", names);
    show("255-byte name", fs::write(format!("/rw/{}", "n".repeat(255)), "x"));
    show("256-byte name", fs::write(format!("/rw/{}", "n".repeat(256)), "x"));

    show("rename onto ro", fs::rename("/rw/with space", "/ro/moved"));
    show("rename from ro", fs::rename("/ro/frozen.txt", "/rw/thawed"));
    show("still there", fs::read_to_string("/rw/with space"));
    let perms = fs::metadata("/rw/-dash").unwrap().permissions();
    show("set_permissions", fs::set_permissions("/rw/-dash", perms));

    let mut f = File::create("/rw/clone.txt").unwrap();
    show("try_clone", f.try_clone().map(|_| ()));
    f.write_all(b"written").unwrap();
    drop(f);

    let mut open = File::open("/rw/clone.txt").unwrap();
    show("remove while open", fs::remove_file("/rw/clone.txt"));
    let mut s = String::new();
    show("read after remove", open.read_to_string(&mut s).map(|_| s.clone()));
    show("name gone", fs::metadata("/rw/clone.txt").map(|_| ()));
}
