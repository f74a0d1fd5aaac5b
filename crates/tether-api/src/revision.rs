//! Source revision strings as Flux writes them: `<reference>@<algorithm>:<hex>`
//! (`main@sha1:<40 hex>`, `v1.0.0@sha1:…`, `refs/pull/1/head@sha1:…`), or `<algorithm>:<hex>`
//! for a bare commit. The legacy forms (`main/<hex>`, `<hex>`) still parse, as Flux's
//! `TransformLegacyRevision` reads them.

use std::fmt;
use std::str::FromStr;

/// The hash algorithm of a revision's digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Sha1,
    Sha256,
}

impl Algorithm {
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
        }
    }

    /// Length of the hex digest.
    pub const fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha1 => 40,
            Algorithm::Sha256 => 64,
        }
    }
}

/// A parsed revision.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Revision {
    /// The reference it was resolved from: a branch or tag short name (`main`, `v1.0.0`) or a
    /// full reference name (`refs/pull/1/head`); `None` for a bare commit.
    pub reference: Option<String>,
    pub algorithm: Algorithm,
    /// Lower-case hex digest.
    pub hex: String,
}

/// Why a revision string was refused; the message quotes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid revision {text:?}: {reason}")]
pub struct RevisionError {
    pub text: String,
    pub reason: String,
}

impl Revision {
    /// A branch, tag or reference name resolved to a SHA-1 commit.
    pub fn new(reference: impl Into<String>, commit: &str) -> Result<Revision, RevisionError> {
        let reference = reference.into();
        let text = format!("{reference}@sha1:{commit}");
        check_hex(&text, commit, Algorithm::Sha1)?;
        Ok(Revision {
            reference: (!reference.is_empty()).then_some(reference),
            algorithm: Algorithm::Sha1,
            hex: commit.to_owned(),
        })
    }

    /// A SHA-1 commit without a reference (`sha1:<hex>`).
    pub fn commit(commit: &str) -> Result<Revision, RevisionError> {
        check_hex(&format!("sha1:{commit}"), commit, Algorithm::Sha1)?;
        Ok(Revision {
            reference: None,
            algorithm: Algorithm::Sha1,
            hex: commit.to_owned(),
        })
    }

    /// Parses the current and the legacy forms.
    pub fn parse(text: &str) -> Result<Revision, RevisionError> {
        let err = |reason: &str| RevisionError {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let (reference, digest) = match text.rfind('@') {
            Some(i) => (Some(&text[..i]), &text[i + 1..]),
            None => (None, text),
        };
        if let Some((algorithm, hex)) = digest.split_once(':') {
            let algorithm = match algorithm {
                "sha1" => Algorithm::Sha1,
                "sha256" => Algorithm::Sha256,
                other => return Err(err(&format!("unknown digest algorithm {other:?}"))),
            };
            check_hex(text, hex, algorithm)?;
            if reference == Some("") {
                return Err(err("empty reference before '@'"));
            }
            return Ok(Revision {
                reference: reference.map(str::to_owned),
                algorithm,
                hex: hex.to_owned(),
            });
        }
        if reference.is_some() {
            return Err(err("expected <algorithm>:<hex> after '@'"));
        }
        // Legacy: `<reference>/<hex>` or a bare hex digest; the algorithm follows the length.
        let (reference, hex) = match text.rfind('/') {
            Some(i) => (Some(&text[..i]), &text[i + 1..]),
            None => (None, text),
        };
        let algorithm = match hex.len() {
            40 => Algorithm::Sha1,
            64 => Algorithm::Sha256,
            _ => return Err(err("expected <reference>@<algorithm>:<hex>")),
        };
        check_hex(text, hex, algorithm)?;
        Ok(Revision {
            // Flux drops the `HEAD` of a legacy `HEAD/<sha>`.
            reference: reference
                .filter(|r| !r.is_empty() && *r != "HEAD")
                .map(str::to_owned),
            algorithm,
            hex: hex.to_owned(),
        })
    }

    /// `<algorithm>:<hex>`.
    pub fn digest(&self) -> String {
        format!("{}:{}", self.algorithm.as_str(), self.hex)
    }
}

fn check_hex(text: &str, hex: &str, algorithm: Algorithm) -> Result<(), RevisionError> {
    let ok = hex.len() == algorithm.hex_len()
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(RevisionError {
            text: text.to_owned(),
            reason: format!(
                "{} digest must be {} lower-case hex digits",
                algorithm.as_str(),
                algorithm.hex_len()
            ),
        })
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(r) = &self.reference {
            write!(f, "{r}@")?;
        }
        write!(f, "{}:{}", self.algorithm.as_str(), self.hex)
    }
}

impl FromStr for Revision {
    type Err = RevisionError;
    fn from_str(s: &str) -> Result<Revision, RevisionError> {
        Revision::parse(s)
    }
}

/// Whether two revision strings name the same revision, legacy forms included (Flux's
/// `Artifact.HasRevision`); strings that do not parse compare as text.
pub fn same_revision(a: &str, b: &str) -> bool {
    match (Revision::parse(a), Revision::parse(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SHA: &str = "5394cb7f48332b2de7c17dd8b8384bbc84b7e738";
    const SHA256: &str = "d52bde83c5b2bd0fa7910264e0afc3ac9cfe9b6636ca29c05c09742f01d5a4bd";

    #[test]
    fn parses_and_prints_flux_forms() {
        for text in [
            format!("main@sha1:{SHA}"),
            format!("v1.0.0@sha1:{SHA}"),
            format!("sha1:{SHA}"),
            format!("refs/pull/1/head@sha1:{SHA}"),
            format!("feature/x@sha1:{SHA}"),
            format!("latest@sha256:{SHA256}"),
            format!("a@b@sha1:{SHA}"),
        ] {
            let r = Revision::parse(&text).unwrap();
            assert_eq!(r.to_string(), text);
        }
        let r = Revision::parse(&format!("refs/pull/1/head@sha1:{SHA}")).unwrap();
        assert_eq!(r.reference.as_deref(), Some("refs/pull/1/head"));
        assert_eq!(r.digest(), format!("sha1:{SHA}"));
        assert_eq!(
            Revision::commit(SHA).unwrap().to_string(),
            format!("sha1:{SHA}")
        );
        assert_eq!(
            Revision::new("main", SHA).unwrap().to_string(),
            format!("main@sha1:{SHA}")
        );
    }

    #[test]
    fn legacy_forms_transform_like_flux() {
        let show = |s: &str| Revision::parse(s).unwrap().to_string();
        assert_eq!(show(&format!("main/{SHA}")), format!("main@sha1:{SHA}"));
        assert_eq!(
            show(&format!("feature/branch/{SHA}")),
            format!("feature/branch@sha1:{SHA}")
        );
        assert_eq!(show(&format!("HEAD/{SHA}")), format!("sha1:{SHA}"));
        assert_eq!(
            show(&format!("tag/{SHA256}")),
            format!("tag@sha256:{SHA256}")
        );
        assert_eq!(show(SHA256), format!("sha256:{SHA256}"));
        assert!(same_revision(
            &format!("main/{SHA}"),
            &format!("main@sha1:{SHA}")
        ));
        assert!(!same_revision(
            &format!("dev/{SHA}"),
            &format!("main@sha1:{SHA}")
        ));
    }

    #[test]
    fn errors_quote_the_revision() {
        let err = |s: &str| Revision::parse(s).unwrap_err().to_string();
        assert_eq!(
            err("main@sha1:abc"),
            r#"invalid revision "main@sha1:abc": sha1 digest must be 40 lower-case hex digits"#
        );
        assert_eq!(
            err(&format!("main@md5:{SHA}")),
            format!(r#"invalid revision "main@md5:{SHA}": unknown digest algorithm "md5""#)
        );
        assert_eq!(
            err("main@abc"),
            r#"invalid revision "main@abc": expected <algorithm>:<hex> after '@'"#
        );
        assert_eq!(
            err(&format!("@sha1:{SHA}")),
            format!(r#"invalid revision "@sha1:{SHA}": empty reference before '@'"#)
        );
        assert!(err(&format!("main@sha1:{}", SHA.to_uppercase())).contains("lower-case"));
        assert!(Revision::new("main", "xyz").is_err());
    }
}
