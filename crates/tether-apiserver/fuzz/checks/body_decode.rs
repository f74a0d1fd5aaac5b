//! The request body decoder (`tether_apiserver::http::decode`, which also notes duplicate fields
//! for `fieldValidation`) on arbitrary bytes. The first byte chooses YAML (odd) or JSON (even).
//! It must never panic, and as JSON it must agree with `serde_json` exactly: the same value (a
//! repeated key keeps its last value and first position, as serde_json's ordered map does) or an
//! error when serde_json errs, and every noted duplicate must name a path.
//!
//! `fuzz_targets/body_decode.rs` runs it under libFuzzer; `tests/fuzz_seeds.rs` replays the seeds.

pub fn check(data: &[u8]) {
    let Some((mode, body)) = data.split_first() else {
        return;
    };
    let yaml = mode % 2 == 1;
    let decoded = tether_apiserver::http::decode(body, yaml);
    if let Ok(d) = &decoded {
        assert!(
            d.duplicate_fields.iter().all(|p| !p.is_empty()),
            "{:?}",
            d.duplicate_fields
        );
        let _ = d.value.to_string();
    }
    if !yaml {
        let plain = serde_json::from_slice::<serde_json::Value>(body);
        match (&decoded, &plain) {
            (Ok(d), Ok(p)) => assert_eq!(&d.value, p),
            (Err(e), Err(_)) => assert_eq!(e.code, 400, "{}", e.message),
            (Ok(d), Err(e)) => panic!("decoded {} where serde_json fails: {e}", d.value),
            (Err(e), Ok(p)) => panic!("refused ({}) what serde_json reads as {p}", e.message),
        }
    }
}
