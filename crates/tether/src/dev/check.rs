//! `tether dev --check`: each cluster path of a fleet repository on its own fresh in-memory
//! control plane, synced and required to converge; a table of results, and an error naming
//! the path, object and reason of each failure.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use super::plane::{Plane, PlaneConfig};
use super::status::{self, Board};
use super::{Args, fleet};

/// One cluster path's result.
struct Checked {
    path: String,
    took: Duration,
    objects: usize,
    /// `None` when it converged.
    error: Option<String>,
}

pub async fn run(args: &Args) -> anyhow::Result<()> {
    let scratch = tempfile::Builder::new()
        .prefix("tether-check-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let (url, branch) = match &args.repo {
        Some(repo) => (super::fetch_url(repo)?, args.branch.clone()),
        None => {
            let bare = scratch.path().join("fleet.git");
            fleet::local_remote(&bare)?;
            (fleet::file_url(&bare), "main".to_owned())
        }
    };
    let clone = tokio::task::block_in_place(|| fleet::Clone::fetch(&url, &branch))?;
    let paths = if args.path.is_empty() {
        clone.cluster_paths()?
    } else {
        args.path
            .iter()
            .map(|p| p.trim_start_matches("./").trim_end_matches('/').to_owned())
            .collect()
    };
    eprintln!(
        "► checking {} cluster path(s) of {url} (branch {branch}): {}",
        paths.len(),
        paths.join(", ")
    );
    let mut results = Vec::new();
    for path in &paths {
        let started = Instant::now();
        let outcome = if clone.has_dir(path) {
            check_path(args, &clone, &url, &branch, path, scratch.path()).await
        } else {
            Err(anyhow::anyhow!("no such directory on branch '{branch}'"))
        };
        let checked = match outcome {
            Ok(objects) => Checked {
                path: path.clone(),
                took: started.elapsed(),
                objects,
                error: None,
            },
            Err(e) => Checked {
                path: path.clone(),
                took: started.elapsed(),
                objects: 0,
                error: Some(format!("{e:#}")),
            },
        };
        eprintln!(
            "{} {path} ({:.1}s)",
            if checked.error.is_none() {
                "✔"
            } else {
                "✗"
            },
            checked.took.as_secs_f64()
        );
        results.push(checked);
    }
    print!("{}", table(&results));
    let failures: Vec<String> = results
        .iter()
        .filter_map(|r| r.error.as_ref().map(|e| format!("{}: {e}", r.path)))
        .collect();
    if !failures.is_empty() {
        bail!(
            "{} of {} cluster path(s) did not converge: {}",
            failures.len(),
            results.len(),
            failures.join("; ")
        );
    }
    Ok(())
}

/// Syncs `path` on a fresh control plane; how many objects became Ready.
async fn check_path(
    args: &Args,
    clone: &fleet::Clone,
    url: &str,
    branch: &str,
    path: &str,
    scratch: &std::path::Path,
) -> anyhow::Result<usize> {
    let storage = scratch.join(format!("artifacts-{}", path.replace('/', "-")));
    let mut controller = args.flags.config(storage);
    // Several checks (and other processes) must not compete for fixed ports.
    controller.metrics_addr = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    controller.storage_addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let plane = Plane::start(PlaneConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: None,
        kubeconfig_out: None,
        controller,
        announce: false,
        artifacts_addr_file: None,
    })
    .await?;
    let result = async {
        let names = clone.sync_names(path);
        super::apply_sync(&plane.client, &names, url, branch, path).await?;
        let mut board = Board::new(true);
        let rows = status::wait_converged(&plane.client, &mut board, args.timeout)
            .await?
            .into_result(args.timeout)?;
        Ok::<usize, anyhow::Error>(rows.len())
    }
    .await;
    let closed = plane.shutdown().await;
    let objects = result?;
    closed?;
    Ok(objects)
}

/// PATH, RESULT, OBJECTS, TIME and the reason of a failure, kubectl-style.
fn table(results: &[Checked]) -> String {
    let mut rows = vec![[
        "PATH".to_owned(),
        "RESULT".to_owned(),
        "READY".to_owned(),
        "TIME".to_owned(),
        "MESSAGE".to_owned(),
    ]];
    for r in results {
        rows.push([
            r.path.clone(),
            if r.error.is_none() { "Ready" } else { "Failed" }.to_owned(),
            r.objects.to_string(),
            format!("{:.1}s", r.took.as_secs_f64()),
            r.error.clone().unwrap_or_default(),
        ]);
    }
    let widths: Vec<usize> = (0..4)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        for (i, width) in widths.iter().enumerate() {
            out.push_str(&format!("{:<w$}   ", row[i], w = *width));
        }
        out.push_str(row[4].trim_end());
        out.push('\n');
    }
    out.lines().map(|l| format!("{}\n", l.trim_end())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_each_path_and_why_it_failed() {
        let text = table(&[
            Checked {
                path: "clusters/local".into(),
                took: Duration::from_millis(4200),
                objects: 5,
                error: None,
            },
            Checked {
                path: "clusters/staging".into(),
                took: Duration::from_secs(1),
                objects: 0,
                error: Some("Kustomization/tether-system/apps failed: boom".into()),
            },
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("PATH"), "{text}");
        assert!(
            lines[1].starts_with("clusters/local     Ready    5       4.2s"),
            "{text}"
        );
        assert!(
            lines[2].contains("Failed") && lines[2].ends_with("apps failed: boom"),
            "{text}"
        );
    }
}
