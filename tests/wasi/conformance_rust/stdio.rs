/* std's stdin, stdout and stderr: lines read from stdin until its end (and a read after the
 * end), stdout and stderr written in turns (each is compared whole), a large output (many
 * lines: one write of more than 4096 bytes trips an assertion in jco's preview1 adapter's
 * `fd_write`, on wasmtime too), stdout flushed explicitly and `print!` without a newline.
 * @stdin: first line\nsecond line\n\nlast without newline
 * @expect: line 4 "last without newline"
 */
use std::io::{self, BufRead, Read, Write};

fn main() {
    let stdin = io::stdin();
    let mut n = 0;
    for line in stdin.lock().lines() {
        n += 1;
        println!("line {} {:?}", n, line.unwrap());
    }
    let mut rest = Vec::new();
    show("read after end", io::stdin().read_to_end(&mut rest));
    for i in 0..3 {
        println!("stdout {}", i);
        eprintln!("stderr {}", i);
    }
    let line = "0123456789abcdef".repeat(4);
    for i in 0..2000 {
        println!("{:04} {}", i, line);
    }
    show("write 4096", io::stdout().write_all(&[b'.'; 4096]).map(|_| 4096));
    println!();
    print!("no newline, then flush");
    show("flush", io::stdout().flush());
    println!();
    show("stderr write", io::stderr().write(b"raw stderr bytes\n"));
}
