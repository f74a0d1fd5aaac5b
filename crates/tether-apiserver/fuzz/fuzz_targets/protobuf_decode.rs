//! The protobuf body decoder on arbitrary bytes: it must return an error or a value, never
//! panic, overflow its stack or hang.
//!
//! Built by `cargo fuzz` with libFuzzer (the default feature); with `--no-default-features` it
//! is a plain binary that decodes each file named on its command line once, which builds on
//! stable and replays a corpus or a crash.
#![cfg_attr(feature = "libfuzzer", no_main)]

fn check(data: &[u8]) {
    decode(data);
    // Most inputs would stop at a missing `k8s\0` prefix; add it so the fuzzer explores the
    // envelope and the objects too.
    if !data.starts_with(b"k8s\0") {
        let mut body = b"k8s\0".to_vec();
        body.extend_from_slice(data);
        decode(&body);
    }
}

fn decode(body: &[u8]) {
    if let Ok(value) = tether_apiserver::protobuf::decode(body) {
        // Whatever decodes must serialise: the server writes it back out as JSON.
        let _ = value.to_string();
    }
}

#[cfg(feature = "libfuzzer")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| check(data));

#[cfg(not(feature = "libfuzzer"))]
fn main() {
    for path in std::env::args_os().skip(1) {
        match std::fs::read(&path) {
            Ok(data) => check(&data),
            Err(e) => eprintln!("cannot read {}: {e}", path.to_string_lossy()),
        }
    }
}
