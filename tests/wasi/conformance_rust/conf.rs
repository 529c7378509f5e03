// Prepended to every conformance_rust/*.rs program (its own header comment, the first
// `/* ... */` of the file, is what the test reads). Each check prints one line, a label and
// the result, so two hosts can be compared line by line:
//   show(label, result)  an io::Result: `Ok(value)` or `Err(kind errno)`;
// The scratch preopen is /rw (read-write); the program's header says what is in it.
#![allow(dead_code)]
fn err(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => format!("Err({:?} {})", e.kind(), code),
        None => format!("Err({:?})", e.kind()),
    }
}

fn show<T: std::fmt::Debug>(label: &str, r: std::io::Result<T>) {
    match r {
        Ok(v) => println!("{:<36} Ok({:?})", label, v),
        Err(e) => println!("{:<36} {}", label, err(&e)),
    }
}
