//! Any bytes: `parse_documents` returns documents or an error, never panics, and every
//! document prints; the printout reads back without panicking either.

pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(docs) = tether_yaml::parse_documents(text) else {
        return;
    };
    for doc in docs {
        let printed = tether_yaml::to_yaml(&doc.value);
        let _ = tether_yaml::parse_documents(&printed);
    }
}
