//! `docs/reference.md` is the `--help` of every tether command, read from the real binary: this
//! test walks the command tree (the `Commands:` section of each help) and fails when the file
//! differs, so the reference never drifts from the code. `TETHER_BLESS=1` rewrites it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

use std::path::PathBuf;
use std::process::Command;

fn help(path: &[String]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(path)
        .arg("--help")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "tether {} --help: {}",
        path.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The subcommands a help text lists (clap's `Commands:` section), without `help`.
fn subcommands(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line == "Commands:" {
            inside = true;
            continue;
        }
        if inside {
            if line.is_empty() || !line.starts_with(' ') {
                break;
            }
            // A command's line is indented by two; its wrapped description by more.
            if let Some(rest) = line.strip_prefix("  ")
                && !rest.starts_with(' ')
            {
                let name = rest.split_whitespace().next().unwrap().to_owned();
                if name != "help" {
                    names.push(name);
                }
            }
        }
    }
    names
}

fn walk(path: Vec<String>, out: &mut String) {
    let text = help(&path);
    let title = if path.is_empty() {
        "tether".to_owned()
    } else {
        format!("tether {}", path.join(" "))
    };
    let depth = (path.len() + 2).min(6);
    out.push_str(&format!(
        "{} `{title}`\n\n```text\n{}\n```\n\n",
        "#".repeat(depth),
        text.trim_end()
    ));
    for name in subcommands(&text) {
        let mut child = path.clone();
        child.push(name);
        walk(child, out);
    }
}

#[test]
fn docs_reference_is_every_commands_help() {
    let mut generated = String::from(
        "# Command reference\n\n\
         The `--help` of every tether command, generated from the binary by\n\
         `crates/tether/tests/cli_reference.rs` (run it with `TETHER_BLESS=1` to rewrite this \
         file).\n\
         [commands.md](commands.md) explains them with examples.\n\n",
    );
    walk(Vec::new(), &mut generated);
    assert!(
        generated.contains("`tether create source git`"),
        "the walk should reach nested commands"
    );
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/reference.md");
    if std::env::var_os("TETHER_BLESS").is_some() {
        std::fs::write(&file, &generated).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); run this test with TETHER_BLESS=1 to write it",
            file.display()
        )
    });
    assert!(
        checked_in == generated,
        "docs/reference.md is out of date with the commands' --help; rerun with TETHER_BLESS=1"
    );
}
