//! libFuzzer harness for `checks/body_decode.rs` (see there). With `--no-default-features` it is a
//! plain binary that replays the files named on its command line, which builds on stable.
#![cfg_attr(feature = "libfuzzer", no_main)]

#[path = "../checks/body_decode.rs"]
mod target;

#[cfg(feature = "libfuzzer")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| target::check(data));

#[cfg(not(feature = "libfuzzer"))]
fn main() {
    for path in std::env::args_os().skip(1) {
        match std::fs::read(&path) {
            Ok(data) => target::check(&data),
            Err(e) => eprintln!("cannot read {}: {e}", path.to_string_lossy()),
        }
    }
}
