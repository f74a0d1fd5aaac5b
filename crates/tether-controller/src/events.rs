//! Publishing Kubernetes Events for reconcile outcomes. An event is a courtesy (the status
//! already says what happened), so a failure to publish is logged, never returned.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder};

/// Kubernetes caps an event note at 1 kB.
const MAX_NOTE: usize = 1024;

pub(crate) async fn publish(
    recorder: &Recorder,
    regarding: &ObjectReference,
    type_: EventType,
    reason: &str,
    action: &str,
    note: String,
) {
    let event = Event {
        type_,
        reason: reason.to_owned(),
        note: Some(truncate(note)),
        action: action.to_owned(),
        secondary: None,
    };
    if let Err(e) = recorder.publish(&event, regarding).await {
        tracing::warn!(
            object = %format!("{}/{}", regarding.namespace.as_deref().unwrap_or(""), regarding.name.as_deref().unwrap_or("")),
            error = %e,
            "cannot publish event"
        );
    }
}

fn truncate(mut note: String) -> String {
    if note.len() > MAX_NOTE {
        let mut end = MAX_NOTE - 3;
        while !note.is_char_boundary(end) {
            end -= 1;
        }
        note.truncate(end);
        note.push_str("...");
    }
    note
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_notes_are_cut_on_a_character_boundary() {
        let note = "é".repeat(MAX_NOTE);
        let cut = truncate(note);
        assert!(cut.len() <= MAX_NOTE && cut.ends_with("..."));
        assert_eq!(truncate("short".into()), "short");
    }
}
