/* std::fs and symlinks made on the host (std cannot make them on wasm32-wasi without the
 * unstable `wasi_ext`), and hard links (wasi-testsuite's readlink, symlink_filestat,
 * nofollow_errors, symlink_loop, dangling_symlink, path_link in std's terms): read_link,
 * symlink_metadata against metadata, reading and listing through links, a dangling link, a
 * loop, a link that leaves the preopen, removing a link (not its target), hard links.
 * @file: target.txt=through the link
 * @dir: d
 * @file: d/deep.txt=deep
 * @symlink: link.txt -> target.txt
 * @symlink: dirlink -> d
 * @symlink: dangling -> nothing-here
 * @symlink: loop -> loop
 * @symlink: escape -> ../secret.txt
 * @symlink: absolute -> /rw/target.txt
 * @outside: secret.txt=do not read
 * @expect: read link.txt Ok("through the link")
 */
use std::fs;

fn kind(m: &fs::Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_symlink() { "symlink" } else if t.is_dir() { "dir" } else { "file" }
}

fn main() {
    for name in ["link.txt", "dirlink", "dangling", "loop", "escape", "absolute", "target.txt"] {
        let p = format!("/rw/{}", name);
        show(&format!("read_link {}", name), fs::read_link(&p));
        show(&format!("symlink_metadata {}", name), fs::symlink_metadata(&p).map(|m| kind(&m)));
        show(&format!("metadata {}", name), fs::metadata(&p).map(|m| kind(&m)));
    }
    show("read link.txt", fs::read_to_string("/rw/link.txt"));
    show("read through dirlink", fs::read_to_string("/rw/dirlink/deep.txt"));
    show("read_dir dirlink", fs::read_dir("/rw/dirlink").map(|r| r.count()));
    show("read dangling", fs::read_to_string("/rw/dangling"));
    show("read loop", fs::read_to_string("/rw/loop"));
    show("read escape", fs::read_to_string("/rw/escape"));
    show("read absolute", fs::read_to_string("/rw/absolute"));
    show("write through link", fs::write("/rw/link.txt", "rewritten"));
    show("target after", fs::read_to_string("/rw/target.txt"));
    show("write dangling creates", fs::write("/rw/dangling", "now here"));
    show("dangling target", fs::read_to_string("/rw/nothing-here"));
    show("canonicalize", fs::canonicalize("/rw/link.txt"));

    let mut names: Vec<String> = fs::read_dir("/rw").unwrap()
        .map(|e| {
            let e = e.unwrap();
            format!("{} {}", e.file_name().to_string_lossy(), if e.file_type().unwrap().is_symlink() { "symlink" } else { "other" })
        })
        .collect();
    names.sort();
    println!("listing {:?}", names);

    show("remove_file link", fs::remove_file("/rw/link.txt"));
    show("target kept", fs::read_to_string("/rw/target.txt"));
    show("remove_dir dirlink", fs::remove_dir("/rw/dirlink"));
    show("remove_file dirlink", fs::remove_file("/rw/dirlink"));
    show("d kept", fs::metadata("/rw/d").map(|m| kind(&m)));

    show("hard_link", fs::hard_link("/rw/target.txt", "/rw/hard.txt"));
    show("read hard", fs::read_to_string("/rw/hard.txt"));
    show("hard_link existing", fs::hard_link("/rw/target.txt", "/rw/hard.txt"));
    show("hard_link a dir", fs::hard_link("/rw/d", "/rw/dhard"));
    show("hard_link missing", fs::hard_link("/rw/none", "/rw/nohard"));
    show("hard_link out", fs::hard_link("/rw/target.txt", "/rw/../out.txt"));
    fs::write("/rw/hard.txt", "shared inode").unwrap();
    show("target sees it", fs::read_to_string("/rw/target.txt"));
}
