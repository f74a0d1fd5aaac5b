//! Compares tether's build output with kubectl's: equal, or how many documents differ and
//! where the first difference is, so a mismatch is readable in the benchmark's report.

use std::collections::BTreeMap;

/// How two YAML streams differ.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Mismatch {
    /// Documents of the expected stream.
    pub documents: usize,
    /// Documents present in both (by kind, namespace and name) whose text differs.
    pub changed: usize,
    /// Documents only in the expected stream.
    pub missing: usize,
    /// Documents only in the actual stream.
    pub extra: usize,
    /// The first differing line: 1-based number, expected text, actual text (`None` past the end).
    pub first_line: Option<(usize, Option<String>, Option<String>)>,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} documents differ, {} missing, {} extra",
            self.changed, self.documents, self.missing, self.extra
        )?;
        if let Some((n, want, got)) = &self.first_line {
            let show = |l: &Option<String>| {
                l.as_deref()
                    .map_or("<end>".to_owned(), |l| format!("{l:?}"))
            };
            write!(
                f,
                "; first differing line {n}: kubectl {} / tether {}",
                show(want),
                show(got)
            )?;
        }
        Ok(())
    }
}

/// `None` when the streams are byte for byte equal.
pub fn compare(expected: &str, actual: &str) -> Option<Mismatch> {
    if expected == actual {
        return None;
    }
    let want = by_identity(expected);
    let got = by_identity(actual);
    let mut mismatch = Mismatch {
        documents: want.values().map(Vec::len).sum(),
        ..Mismatch::default()
    };
    for (id, docs) in &want {
        let others = got.get(id).map_or(&[][..], Vec::as_slice);
        for (i, doc) in docs.iter().enumerate() {
            match others.get(i) {
                Some(other) if other == doc => {}
                Some(_) => mismatch.changed += 1,
                None => mismatch.missing += 1,
            }
        }
    }
    for (id, docs) in &got {
        let mine = want.get(id).map_or(0, Vec::len);
        mismatch.extra += docs.len().saturating_sub(mine);
    }
    let mut want_lines = expected.lines();
    let mut got_lines = actual.lines();
    for n in 1.. {
        let (w, g) = (want_lines.next(), got_lines.next());
        if w.is_none() && g.is_none() {
            // Equal lines but different bytes: a trailing newline.
            mismatch.first_line = Some((n, None, None));
            break;
        }
        if w != g {
            mismatch.first_line = Some((n, w.map(str::to_owned), g.map(str::to_owned)));
            break;
        }
    }
    Some(mismatch)
}

/// The documents of a stream keyed by `kind namespace/name`, in stream order within a key.
fn by_identity(stream: &str) -> BTreeMap<String, Vec<&str>> {
    let mut map: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for doc in split_documents(stream) {
        map.entry(identity(doc)).or_default().push(doc);
    }
    map
}

fn split_documents(stream: &str) -> Vec<&str> {
    if stream.is_empty() {
        return Vec::new();
    }
    let mut docs = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in stream.split_inclusive('\n') {
        if line.trim_end() == "---" {
            docs.push(&stream[start..offset]);
            start = offset + line.len();
        }
        offset += line.len();
    }
    docs.push(&stream[start..]);
    docs
}

/// `kind namespace/name` from the document's top-level `kind` and `metadata`, read from the
/// block layout kustomize prints (top-level keys at column 0, metadata fields at two spaces).
fn identity(doc: &str) -> String {
    let (mut kind, mut name, mut namespace) = ("", "", "");
    let mut in_metadata = false;
    for line in doc.lines() {
        if !line.starts_with(' ') {
            in_metadata = line == "metadata:";
            if let Some(k) = line.strip_prefix("kind:") {
                kind = k.trim();
            }
        } else if in_metadata {
            if let Some(n) = line.strip_prefix("  name:") {
                name = n.trim();
            } else if let Some(n) = line.strip_prefix("  namespace:") {
                namespace = n.trim();
            }
        }
    }
    format!("{kind} {namespace}/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: x\ndata:\n  k: v\n";
    const B: &str =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  labels:\n    name: nope\n  name: b\n";

    #[test]
    fn equal_streams_have_no_mismatch() {
        let s = format!("{A}---\n{B}");
        assert_eq!(compare(&s, &s), None);
    }

    #[test]
    fn a_changed_document_is_counted_with_its_first_line() {
        let want = format!("{A}---\n{B}");
        let got = format!("{}---\n{B}", A.replace("k: v", "k: w"));
        let m = compare(&want, &got).unwrap();
        assert_eq!((m.documents, m.changed, m.missing, m.extra), (2, 1, 0, 0));
        assert_eq!(
            m.first_line,
            Some((7, Some("  k: v".to_owned()), Some("  k: w".to_owned())))
        );
    }

    #[test]
    fn missing_and_extra_documents_are_matched_by_identity() {
        let want = format!("{A}---\n{B}");
        let other = B.replace("  name: b", "  name: c");
        let got = format!("{A}---\n{other}");
        let m = compare(&want, &got).unwrap();
        assert_eq!((m.documents, m.changed, m.missing, m.extra), (2, 0, 1, 1));
        assert_eq!(identity(B), "Secret /b");
    }

    #[test]
    fn a_missing_trailing_newline_is_a_mismatch() {
        let m = compare(A, A.trim_end()).unwrap();
        assert_eq!(m.changed, 1);
        assert_eq!(m.first_line, Some((8, None, None)));
    }
}
