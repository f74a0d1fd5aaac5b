//! Deciding what to do with one webhook for one Receiver: pure functions of the Receiver's
//! type and events, its token, the request's headers and body.

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use tether_api::ReceiverType;

/// What a webhook asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Valid: reconcile the Receiver's resources.
    Reconcile,
    /// Valid, but nothing to do (GitHub's `ping` when a hook is added).
    Acknowledge,
    /// The signature is missing or wrong (401).
    Unauthorized(String),
    /// Signed correctly but not acceptable, e.g. an event the Receiver does not handle (400).
    Rejected(String),
}

/// `X-Signature` of `generic-hmac` Receivers.
pub const SIGNATURE_HEADER: &str = "x-signature";
/// GitHub's HMAC-SHA256 signature header.
pub const GITHUB_SIGNATURE_256_HEADER: &str = "x-hub-signature-256";
/// GitHub's legacy HMAC-SHA1 signature header.
pub const GITHUB_SIGNATURE_HEADER: &str = "x-hub-signature";
/// GitHub's event name header.
pub const GITHUB_EVENT_HEADER: &str = "x-github-event";

/// The verdict on a webhook for a Receiver of `type_` with `token`, handling `events` (all
/// when empty).
pub fn validate(
    type_: ReceiverType,
    token: &str,
    events: &[String],
    headers: &HeaderMap,
    body: &[u8],
) -> Verdict {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match type_ {
        ReceiverType::Generic => Verdict::Reconcile,
        ReceiverType::GenericHmac => {
            let Some(signature) = header(SIGNATURE_HEADER) else {
                return Verdict::Unauthorized("the X-Signature header is missing".into());
            };
            match verify_signature(signature, token.as_bytes(), body) {
                Ok(()) => Verdict::Reconcile,
                Err(e) => Verdict::Unauthorized(format!("X-Signature: {e}")),
            }
        }
        ReceiverType::GitHub => {
            let signature = header(GITHUB_SIGNATURE_256_HEADER)
                .filter(|s| s.starts_with("sha256="))
                .or_else(|| header(GITHUB_SIGNATURE_HEADER));
            let Some(signature) = signature else {
                return Verdict::Unauthorized(
                    "neither X-Hub-Signature-256 nor X-Hub-Signature is set".into(),
                );
            };
            if let Err(e) = verify_signature(signature, token.as_bytes(), body) {
                return Verdict::Unauthorized(format!("the GitHub signature is invalid: {e}"));
            }
            let event = header(GITHUB_EVENT_HEADER).unwrap_or_default();
            if event == "ping" {
                return Verdict::Acknowledge;
            }
            if !events.is_empty() && !events.iter().any(|e| e.eq_ignore_ascii_case(event)) {
                return Verdict::Rejected(format!(
                    "GitHub event '{event}' is not allowed for this receiver"
                ));
            }
            Verdict::Reconcile
        }
    }
}

/// Checks `<algorithm>=<hex HMAC of body with key>` in constant time (sha1, sha224, sha256,
/// sha384, sha512, as Flux accepts).
pub fn verify_signature(signature: &str, key: &[u8], body: &[u8]) -> Result<(), String> {
    let Some((algorithm, hex)) = signature.split_once('=') else {
        return Err("expected <algorithm>=<hex digest>".into());
    };
    let Some(expected) = decode_hex(hex.trim()) else {
        return Err("the digest is not hexadecimal".into());
    };
    fn check<M: Mac + hmac::digest::KeyInit>(
        key: &[u8],
        body: &[u8],
        expected: &[u8],
    ) -> Result<(), String> {
        let mut mac = <M as Mac>::new_from_slice(key).map_err(|e| e.to_string())?;
        mac.update(body);
        mac.verify_slice(expected)
            .map_err(|_| "the HMACs do not match".to_owned())
    }
    match algorithm {
        "sha1" => check::<Hmac<sha1::Sha1>>(key, body, &expected),
        "sha224" => check::<Hmac<sha2::Sha224>>(key, body, &expected),
        "sha256" => check::<Hmac<sha2::Sha256>>(key, body, &expected),
        "sha384" => check::<Hmac<sha2::Sha384>>(key, body, &expected),
        "sha512" => check::<Hmac<sha2::Sha512>>(key, body, &expected),
        other => Err(format!("unsupported algorithm '{other}'")),
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `<algorithm>=<hex HMAC-SHA256 of body with key>`, as GitHub and `generic-hmac` senders
/// compute it (used by tests and `tether bench webhook`).
pub fn sign_sha256(key: &[u8], body: &[u8]) -> String {
    let mut out = String::from("sha256=");
    if let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key) {
        mac.update(body);
        for byte in mac.finalize().into_bytes() {
            out.push_str(&format!("{byte:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn sha256_signature_matches_a_known_hmac() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let sig = sign_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            verify_signature(&sig, b"Jefe", b"what do ya want for nothing?"),
            Ok(())
        );
        assert!(verify_signature(&sig, b"Jefe", b"what do ya want for something?").is_err());
        // RFC 2202 test case 2 (HMAC-SHA1).
        assert_eq!(
            verify_signature(
                "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
                b"Jefe",
                b"what do ya want for nothing?"
            ),
            Ok(())
        );
        assert!(verify_signature("md5=00", b"k", b"").is_err());
        assert!(verify_signature("sha256=zz", b"k", b"").is_err());
        assert!(verify_signature("nonsense", b"k", b"").is_err());
    }

    #[test]
    fn generic_hmac_needs_x_signature() {
        let body = b"{}";
        let good = headers(&[(SIGNATURE_HEADER, &sign_sha256(b"t", body))]);
        let bad = headers(&[(SIGNATURE_HEADER, &sign_sha256(b"other", body))]);
        let t = ReceiverType::GenericHmac;
        assert_eq!(validate(t, "t", &[], &good, body), Verdict::Reconcile);
        assert!(matches!(
            validate(t, "t", &[], &bad, body),
            Verdict::Unauthorized(_)
        ));
        assert!(matches!(
            validate(t, "t", &[], &HeaderMap::new(), body),
            Verdict::Unauthorized(_)
        ));
        assert_eq!(
            validate(ReceiverType::Generic, "t", &[], &HeaderMap::new(), body),
            Verdict::Reconcile
        );
    }

    #[test]
    fn github_checks_the_signature_then_the_event() {
        let body = br#"{"ref":"refs/heads/main"}"#;
        let sig = sign_sha256(b"t", body);
        let events = vec!["push".to_owned()];
        let gh = ReceiverType::GitHub;
        let push = headers(&[
            (GITHUB_SIGNATURE_256_HEADER, &sig),
            (GITHUB_EVENT_HEADER, "push"),
        ]);
        assert_eq!(validate(gh, "t", &events, &push, body), Verdict::Reconcile);
        let ping = headers(&[
            (GITHUB_SIGNATURE_256_HEADER, &sig),
            (GITHUB_EVENT_HEADER, "ping"),
        ]);
        assert_eq!(
            validate(gh, "t", &events, &ping, body),
            Verdict::Acknowledge
        );
        let issue = headers(&[
            (GITHUB_SIGNATURE_256_HEADER, &sig),
            (GITHUB_EVENT_HEADER, "issues"),
        ]);
        assert!(matches!(
            validate(gh, "t", &events, &issue, body),
            Verdict::Rejected(m) if m.contains("'issues'")
        ));
        assert_eq!(validate(gh, "t", &[], &issue, body), Verdict::Reconcile);
        let forged = headers(&[
            (GITHUB_SIGNATURE_256_HEADER, &sign_sha256(b"x", body)),
            (GITHUB_EVENT_HEADER, "ping"),
        ]);
        assert!(matches!(
            validate(gh, "t", &events, &forged, body),
            Verdict::Unauthorized(_)
        ));
        let legacy = headers(&[
            (
                GITHUB_SIGNATURE_HEADER,
                "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
            ),
            (GITHUB_EVENT_HEADER, "push"),
        ]);
        assert_eq!(
            validate(gh, "Jefe", &[], &legacy, b"what do ya want for nothing?"),
            Verdict::Reconcile
        );
    }
}
