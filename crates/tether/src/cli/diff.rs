//! `tether diff kustomization NAME --path DIR`: what reconciling a local directory would change
//! on the cluster, as `flux diff kustomization` shows it. DIR is built as `tether build` builds
//! it (the controller's build), every object is server-side applied as a dry run with the
//! controller's field manager and owner labels, and, when the Kustomization prunes, the objects
//! of its `status.inventory` that the build no longer has are the deletions. Each created,
//! drifted or deleted object is printed as a header and a unified YAML diff, Secret values
//! masked; nothing is written to the cluster.

use std::fmt::Write as _;

use anyhow::Context as _;
use kube::api::Api;
use tether_api::Kustomization;
use tether_apply::{Action, Inventory, InventoryEntry, ObjectDiff, Owner, ResourceManager};

use super::ClusterArgs;
use super::build::{self, LocalFlags};
use super::colour::Palette;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 when nothing would change, 1 when something would be \
                        created, changed or deleted, 2 on errors (like `flux diff`, but with \
                        errors told apart from changes)."
)]
pub struct Args {
    #[command(subcommand)]
    what: What,
    #[command(flatten)]
    cluster: ClusterArgs,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// A Kustomization: build DIR for it and diff the result against the cluster.
    #[command(alias = "ks")]
    Kustomization(LocalFlags),
}

/// What a diff found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    NoChanges,
    Changes,
}

/// Prints the diff on stdout and a summary on stderr.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let What::Kustomization(flags) = &args.what;
    let runtime = super::runtime()?;
    let timeout = args.cluster.timeout;
    let (diffs, errors) = runtime.block_on(async {
        tokio::time::timeout(timeout, diff(&args.cluster, flags))
            .await
            .with_context(|| {
                format!(
                    "timed out after {} diffing Kustomization '{}'",
                    tether_api::Duration::from_std(timeout),
                    flags.name
                )
            })
    })??;
    print!("{}", render(&diffs, Palette::stdout()));
    if !errors.is_empty() {
        anyhow::bail!("{}", errors.join("\n"));
    }
    eprintln!("{}", summary(&diffs));
    Ok(if diffs.iter().any(ObjectDiff::changed) {
        Outcome::Changes
    } else {
        Outcome::NoChanges
    })
}

/// The diffs of the apply and the prune, and the errors of the objects that could not be diffed.
async fn diff(
    cluster: &ClusterArgs,
    flags: &LocalFlags,
) -> anyhow::Result<(Vec<ObjectDiff>, Vec<String>)> {
    let built = build::build(cluster, flags, false).await?;
    let ks = built.kustomization;
    let name = ks
        .metadata
        .name
        .clone()
        .unwrap_or_else(|| flags.name.clone());
    let namespace = ks
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| cluster.namespace.clone());
    if ks.spec.kube_config.is_some() {
        eprintln!(
            "warning: Kustomization '{name}' applies to a remote cluster (spec.kubeConfig); \
             diffing against the current kubeconfig context instead"
        );
    }
    let client = cluster.client().await?;
    let manager = ResourceManager::new(client.clone(), Owner::kustomize_controller());
    let mut options = manager.apply_options(&name, &namespace);
    options.force = ks.spec.force;
    // The controller's audit stamp changes with every write; it is no change to show.
    options.stamp = Some(tether_apply::Stamp {
        annotation: tether_api::keys::LAST_CHANGED_REVISION_ANNOTATION.to_owned(),
        value: None,
    });
    let mut errors = vec![];
    let mut diffs = match manager.diff(built.objects, &options).await {
        Ok(diffs) => diffs,
        Err(e) => {
            errors.push(e.to_string());
            e.diffs
        }
    };
    // An object that failed to diff is missing from the new inventory; pruning by it would
    // list that object as deleted, so (as Flux does) there is no prune diff after errors.
    if ks.spec.prune && errors.is_empty() {
        let status = match (&flags.kustomization_file, ks.status) {
            // The file has the spec; what the cluster applied is in the live object's status.
            (Some(_), _) => Api::<Kustomization>::namespaced(client, &namespace)
                .get_opt(&name)
                .await
                .with_context(|| format!("cannot get Kustomization '{name}'"))?
                .and_then(|live| live.status),
            (None, status) => status,
        };
        let previous = Inventory {
            entries: status
                .and_then(|s| s.inventory)
                .map(|i| {
                    i.entries
                        .into_iter()
                        .map(|e| InventoryEntry { id: e.id, v: e.v })
                        .collect()
                })
                .unwrap_or_default(),
        };
        let new = Inventory::from_objects(diffs.iter().map(|d| &d.object));
        let stale = previous.diff(&new).with_context(|| {
            format!("invalid inventory in the status of Kustomization '{name}'")
        })?;
        let mut delete = manager.delete_options(&name, &namespace);
        delete.stamp = options.stamp.clone();
        match manager.diff_prune(&stale, &delete).await {
            Ok(pruned) => diffs.extend(pruned),
            Err(e) => {
                errors.push(e.to_string());
                diffs.extend(e.diffs);
            }
        }
    }
    Ok((diffs, errors))
}

/// Flux's header (`► Kind/namespace/name created`, `drifted` or `deleted`) and a unified diff
/// of the YAML for each object that would change.
pub fn render(diffs: &[ObjectDiff], palette: Palette) -> String {
    let mut out = String::new();
    for d in diffs.iter().filter(|d| d.changed()) {
        let header = match d.action {
            Action::Created => palette.green(&format!("► {} created", d.object)),
            Action::Deleted => palette.red(&format!("► {} deleted", d.object)),
            _ if d.recreate => palette.yellow(&format!(
                "► {} drifted (immutable fields changed: it would be recreated)",
                d.object
            )),
            _ if d.takeover => palette.yellow(&format!(
                "► {} drifted (fields set with kubectl would be taken over, and removed where Git \
                 does not declare them)",
                d.object
            )),
            _ => palette.yellow(&format!("► {} drifted", d.object)),
        };
        let _ = writeln!(out, "{header}");
        let before = d
            .live
            .as_ref()
            .map(tether_yaml::to_yaml)
            .unwrap_or_default();
        let after = d
            .desired
            .as_ref()
            .map(tether_yaml::to_yaml)
            .unwrap_or_default();
        out.push_str(&unified(&before, &after, palette));
    }
    out
}

/// The hunks of a line diff with three lines of context (`@@ -a,b +c,d @@`, then ` `, `-` and
/// `+` lines).
fn unified(before: &str, after: &str, palette: Palette) -> String {
    let diff = similar::TextDiff::from_lines(before, after);
    let mut out = String::new();
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        let _ = writeln!(out, "{}", palette.cyan(&hunk.header().to_string()));
        for change in hunk.iter_changes() {
            let line = change.value().trim_end_matches('\n');
            let _ = match change.tag() {
                similar::ChangeTag::Equal => writeln!(out, " {line}"),
                similar::ChangeTag::Delete => writeln!(out, "{}", palette.red(&format!("-{line}"))),
                similar::ChangeTag::Insert => {
                    writeln!(out, "{}", palette.green(&format!("+{line}")))
                }
            };
        }
    }
    out
}

/// `► 1 created, 2 drifted, 1 deleted, 3 unchanged`, or `✔ no changes (3 unchanged)`.
pub fn summary(diffs: &[ObjectDiff]) -> String {
    let count = |action: Action| diffs.iter().filter(|d| d.action == action).count();
    let parts: Vec<String> = [
        (Action::Created, "created"),
        (Action::Configured, "drifted"),
        (Action::Deleted, "deleted"),
        (Action::Unchanged, "unchanged"),
        (Action::Skipped, "skipped"),
    ]
    .into_iter()
    .map(|(action, word)| (count(action), word))
    .filter(|(n, _)| *n > 0)
    .map(|(n, word)| format!("{n} {word}"))
    .collect();
    if diffs.iter().any(ObjectDiff::changed) {
        format!("► {}", parts.join(", "))
    } else if parts.is_empty() {
        "✔ no changes (no objects)".to_owned()
    } else {
        format!("✔ no changes ({})", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tether_apply::ObjectRef;

    fn object_diff(
        action: Action,
        live: Option<serde_json::Value>,
        desired: Option<serde_json::Value>,
    ) -> ObjectDiff {
        ObjectDiff {
            object: ObjectRef::new("v1", "ConfigMap", "apps", "c"),
            action,
            live,
            desired,
            recreate: false,
            takeover: false,
        }
    }

    fn cm(value: &str) -> serde_json::Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "c", "namespace": "apps"}, "data": {"k": value}})
    }

    #[test]
    fn drift_is_a_hunk_with_context() {
        let d = object_diff(Action::Configured, Some(cm("a")), Some(cm("b")));
        assert_eq!(
            render(&[d], Palette::new(false)),
            "► ConfigMap/apps/c drifted\n@@ -1,6 +1,6 @@\n apiVersion: v1\n data:\n-  k: a\n+  k: b\n kind: ConfigMap\n metadata:\n   name: c\n"
        );
    }

    #[test]
    fn creations_and_deletions_are_whole_objects_and_unchanged_is_silent() {
        let diffs = [
            object_diff(Action::Created, None, Some(cm("a"))),
            object_diff(Action::Unchanged, Some(cm("a")), Some(cm("a"))),
            object_diff(Action::Deleted, Some(cm("a")), None),
        ];
        let text = render(&diffs, Palette::new(false));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "► ConfigMap/apps/c created");
        assert_eq!(lines[1], "@@ -0,0 +1,7 @@");
        assert!(lines[2..9].iter().all(|l| l.starts_with('+')), "{text}");
        assert_eq!(lines[9], "► ConfigMap/apps/c deleted");
        assert_eq!(lines[10], "@@ -1,7 +0,0 @@");
        assert!(lines[11..].iter().all(|l| l.starts_with('-')), "{text}");
        assert_eq!(lines.len(), 18);
        assert_eq!(summary(&diffs), "► 1 created, 1 deleted, 1 unchanged");
        assert_eq!(summary(&diffs[1..2]), "✔ no changes (1 unchanged)");
    }

    #[test]
    fn colour_marks_added_and_removed_lines() {
        let d = object_diff(Action::Configured, Some(cm("a")), Some(cm("b")));
        let text = render(&[d], Palette::new(true));
        assert!(text.contains("\x1b[31m-  k: a\x1b[0m\n"), "{text:?}");
        assert!(text.contains("\x1b[32m+  k: b\x1b[0m\n"), "{text:?}");
        assert!(text.starts_with("\x1b[33m► ConfigMap/apps/c drifted\x1b[0m\n"));
    }
}
