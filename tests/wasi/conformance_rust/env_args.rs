/* std::env: the arguments (argv[0] first), the environment (sorted: the order is the
 * host's), one variable and a missing one, and the current directory wasi-libc reports
 * (`env::temp_dir` is left out: std panics on wasm32-wasi).
 * @args: one two
 * @args: with=equals --flag
 * @env: GREETING=hello
 * @env: EMPTY=
 * @env: WITH_EQUALS=a=b
 * @expect: var GREETING Ok("hello")
 */
use std::env;

fn main() {
    let args: Vec<String> = env::args().collect();
    println!("args {:?}", args);
    println!("arg count {}", env::args_os().len());
    let mut vars: Vec<(String, String)> = env::vars().collect();
    vars.sort();
    println!("vars {:?}", vars);
    for k in ["GREETING", "EMPTY", "WITH_EQUALS", "MISSING"] {
        show(&format!("var {}", k), env::var(k).map_err(|e| std::io::Error::new(std::io::ErrorKind::NotFound, e)));
    }
    show("current_dir", env::current_dir());
}
