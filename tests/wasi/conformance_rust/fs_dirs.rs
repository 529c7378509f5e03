/* std::fs on directories (wasi-testsuite's fd_readdir, remove_nonempty_directory,
 * path_rename, interesting_paths in std's terms): create_dir and create_dir_all,
 * read_dir (names and file types, sorted: the order is the host's), a directory of 300
 * entries read whole, remove_dir on a non-empty directory, remove_dir_all, renaming
 * directories, paths with `.`, `..` and repeated slashes, and `..` past the preopen.
 * @file: top.txt=top
 * @file: d/one.txt=1
 * @file: d/two.txt=22
 * @dir: d/inner
 * @outside: secret.txt=do not read
 * @expect: read_dir d Ok(["inner dir", "one.txt file", "two.txt file"])
 * @expect: entries in many 300
 */
use std::fs;

fn listing(p: &str) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    for e in fs::read_dir(p)? {
        let e = e?;
        let t = e.file_type()?;
        let kind = if t.is_dir() { "dir" } else if t.is_symlink() { "symlink" } else { "file" };
        names.push(format!("{} {}", e.file_name().to_string_lossy(), kind));
    }
    names.sort();
    Ok(names)
}

fn main() {
    show("read_dir d", listing("/rw/d"));
    show("read_dir a file", listing("/rw/top.txt"));
    show("read_dir missing", listing("/rw/none"));
    show("create_dir", fs::create_dir("/rw/new"));
    show("create_dir again", fs::create_dir("/rw/new"));
    show("create_dir in missing", fs::create_dir("/rw/no/such"));
    show("create_dir_all", fs::create_dir_all("/rw/a/b/c"));
    show("create_dir_all again", fs::create_dir_all("/rw/a/b/c"));
    show("create_dir_all over a file", fs::create_dir_all("/rw/top.txt/x"));
    show("read_dir a", listing("/rw/a"));

    fs::create_dir("/rw/many").unwrap();
    for i in 0..300 {
        fs::write(format!("/rw/many/entry-{:03}", i), "").unwrap();
    }
    let n = fs::read_dir("/rw/many").unwrap().count();
    println!("entries in many {}", n);
    let names = listing("/rw/many").unwrap();
    println!("first {} last {}", names[0], names[names.len() - 1]);

    show("remove_dir non-empty", fs::remove_dir("/rw/d"));
    show("remove_dir a file", fs::remove_dir("/rw/top.txt"));
    show("remove_dir empty", fs::remove_dir("/rw/new"));
    show("remove_dir_all many", fs::remove_dir_all("/rw/many"));
    show("many gone", fs::metadata("/rw/many").map(|_| ()));

    show("rename dir", fs::rename("/rw/a", "/rw/z"));
    show("read_dir z/b", listing("/rw/z/b"));
    fs::create_dir("/rw/empty").unwrap();
    show("rename dir over empty dir", fs::rename("/rw/z", "/rw/empty"));
    show("rename dir over non-empty", fs::rename("/rw/d/inner", "/rw/empty"));
    show("rename dir over a file", fs::rename("/rw/empty", "/rw/top.txt"));
    show("rename dir into itself", fs::rename("/rw/empty", "/rw/empty/b/inside"));

    show("dots and slashes", fs::read_to_string("/rw/d/./inner/..//one.txt"));
    show("trailing slash on a file", fs::read_to_string("/rw/top.txt/"));
    show("trailing slash on a dir", listing("/rw/d/"));
    show("up and back in", fs::read_to_string("/rw/d/../top.txt"));
    show("up past the preopen", fs::read_to_string("/rw/../secret.txt"));
    show("up past the preopen twice", fs::read_to_string("/rw/d/../../secret.txt"));
    show("relative path", fs::read_to_string("rw/top.txt"));
    show("no preopen there", fs::read_to_string("/elsewhere/top.txt"));
    show("read_dir /", listing("/"));
}
