/* std::process::exit with a code (the preview1 adapter keeps 0, and turns every other code
 * into wasi:cli/exit's `err`, status 1), returning from main, output written before exit is
 * kept, and a panic (the panic message on stderr, then wasm32-wasi's abort: a trap).
 * @args: 0
 * @args: 3
 * @args: return
 * @args: panic
 */
use std::io::Write;

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_default();
    println!("asked for {}", arg);
    eprintln!("stderr before the end");
    std::io::stdout().flush().unwrap();
    match arg.as_str() {
        "return" => {}
        "panic" => panic!("as asked"),
        code => std::process::exit(code.parse().unwrap()),
    }
    println!("returned from main");
}
