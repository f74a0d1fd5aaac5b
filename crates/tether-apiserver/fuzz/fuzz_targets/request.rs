//! libFuzzer harness for `checks/request.rs` (see there). With `--no-default-features` it is a
//! plain binary that replays the files named on its command line, which builds on stable.
#![cfg_attr(feature = "libfuzzer", no_main)]

#[path = "../checks/request.rs"]
mod target;

#[cfg(feature = "libfuzzer")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| target::check(data));

#[cfg(not(feature = "libfuzzer"))]
fn main() {
    let mut count = 0;
    for path in std::env::args_os().skip(1) {
        let path = std::path::PathBuf::from(path);
        let files: Vec<std::path::PathBuf> = if path.is_dir() {
            std::fs::read_dir(&path)
                .expect("readable dir")
                .map(|e| e.expect("entry").path())
                .collect()
        } else {
            vec![path]
        };
        for file in files {
            target::check(&std::fs::read(&file).expect("readable input"));
            count += 1;
        }
    }
    println!("replayed {count} inputs");
}
