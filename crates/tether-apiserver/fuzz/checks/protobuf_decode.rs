//! The protobuf body decoder on arbitrary bytes: it must return an error or a value, never
//! panic, overflow its stack or hang.
//!
//! `fuzz_targets/protobuf_decode.rs` runs it under libFuzzer; `tests/fuzz_seeds.rs` replays the
//! seeds.

pub fn check(data: &[u8]) {
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
