/* std::time and std::thread::sleep: the wall clock is after 2020 and moves forward, Instant
 * is monotonic, a sleep of 20 ms lasts at least that on both clocks; a file's times are
 * after 2020 and set by writes (only comparisons are printed: the values are the host's).
 * @expect: slept long enough true
 */
use std::fs;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let now = SystemTime::now();
    let since = now.duration_since(UNIX_EPOCH).unwrap();
    println!("after 2020 {}", since > Duration::from_secs(1_577_836_800));
    let start = Instant::now();
    let wall = SystemTime::now();
    std::thread::sleep(Duration::from_millis(20));
    let elapsed = start.elapsed();
    println!("slept long enough {}", elapsed >= Duration::from_millis(20));
    println!("wall clock moved {}", SystemTime::now().duration_since(wall).map(|d| d >= Duration::from_millis(20)).unwrap_or(false));
    let a = Instant::now();
    let b = Instant::now();
    println!("instant monotonic {}", b >= a);
    std::thread::sleep(Duration::from_millis(0));
    println!("zero sleep ok true");

    fs::write("/rw/stamp.txt", "x").unwrap();
    let m = fs::metadata("/rw/stamp.txt").unwrap();
    let modified = m.modified().unwrap();
    println!("mtime after 2020 {}", modified.duration_since(UNIX_EPOCH).unwrap() > Duration::from_secs(1_577_836_800));
    println!("mtime not in the future {}", modified <= SystemTime::now() + Duration::from_secs(5));
    show("accessed", m.accessed().map(|t| t.duration_since(UNIX_EPOCH).is_ok()));
    show("created", m.created().map(|t| t.duration_since(UNIX_EPOCH).is_ok()));
}
