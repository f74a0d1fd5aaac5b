//! `tether bench kustomize`: tether's native kustomize engine against kubectl 1.33's
//! (kustomize v5.6.0), in one run, on a generated large tree and on the conformance corpus.
//!
//! Steps:
//! 1. Generate the tree (`tree.rs`, 42 resources per base over three overlay levels) into a
//!    temporary directory, or `--keep DIR`.
//! 2. Check that `tether kustomize build` prints what `kubectl kustomize` prints, byte for byte,
//!    for the tree and for every corpus case; a mismatch is reported and the benchmark goes on.
//! 3. Whole processes: the median wall time of N interleaved runs of each tool on the tree, and
//!    of N passes over the corpus (one process per case, summed); then one run each under GNU
//!    time for peak RSS and CPU time.
//! 4. In-process: the library build of the tree (from disk and from memory, YAML output
//!    included) against kubectl's whole process.
//!
//! Ratios are kubectl's figure divided by tether's: above 1 means tether is faster or smaller.

#[path = "bench_kustomize/compare.rs"]
mod compare;
#[path = "bench_kustomize/measure.rs"]
mod measure;
#[path = "bench_kustomize/tree.rs"]
mod tree;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tether_kustomize::{BuildOptions, DiskFs, FileSystem, MemFs, build};

use measure::{Tool, Usage, median};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Timed runs of each tool on the tree, and timed passes over the corpus (medians reported).
    #[arg(long, default_value_t = 5)]
    iterations: usize,
    /// Generate the tree into this (new or empty) directory and keep it.
    #[arg(long)]
    keep: Option<PathBuf>,
    /// Bases in the generated tree (42 resources each).
    #[arg(long, default_value_t = 50)]
    bases: usize,
    /// The conformance cases (default: `shared/conformance/kustomize/cases` beside the checkout).
    #[arg(long)]
    cases: Option<PathBuf>,
    /// The reference (default: `kubectl.1.33` on the PATH or beside the real `kubectl`).
    #[arg(long)]
    kubectl: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let iterations = args.iterations.max(1);
    let kubectl = Tool::Kubectl(find_kubectl(args.kubectl)?);
    let tether = Tool::Tether(std::env::current_exe().context("cannot find the tether binary")?);
    let cases_dir = args.cases.unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/kustomize/cases")
    });
    let cases = load_cases(&cases_dir)?;
    let scratch = tempfile::tempdir()?;
    let (root, _temp) = match args.keep {
        Some(dir) => {
            if dir.exists() && dir.read_dir()?.next().is_some() {
                bail!("--keep {}: the directory is not empty", dir.display());
            }
            std::fs::create_dir_all(&dir)?;
            (dir.canonicalize()?, None)
        }
        None => {
            let temp = tempfile::tempdir()?;
            (temp.path().canonicalize()?, Some(temp))
        }
    };
    let tree = tree::generate(args.bases);
    tree.write_to(&root)
        .with_context(|| format!("writing the tree to {}", root.display()))?;
    let entry = root.join(tree.entry);

    let command: Vec<String> = std::env::args().collect();
    println!("command: {}", command.join(" "));
    println!(
        "machine: {} CPUs, load average at start {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    println!("tree: {} ({} files)", entry.display(), tree.files.len());
    println!("corpus: {} ({} cases)", cases_dir.display(), cases.len());

    // 1. Same output?
    let (want, ok) = kubectl.output(&entry, &[])?;
    if !ok {
        bail!(
            "kubectl kustomize failed on the generated tree {}",
            entry.display()
        );
    }
    let documents = want.matches("\n---\n").count() + 1;
    println!(
        "tree: kubectl prints {documents} resources ({} by construction)",
        tree::Tree::resources(args.bases.max(1))
    );
    let (got, ok) = tether.output(&entry, &[])?;
    report_equality("tree, tether process", &want, &got, ok);
    let memfs = memfs(&tree);
    let mem_entry = Path::new(MEM_ROOT).join(tree.entry);
    for (label, fs, dir) in [
        (
            "tree, in-process DiskFs",
            Arc::new(DiskFs) as Arc<dyn FileSystem>,
            entry.as_path(),
        ),
        ("tree, in-process MemFs", memfs.clone(), mem_entry.as_path()),
    ] {
        match build(fs, dir, &BuildOptions::default()) {
            Ok(out) => report_equality(label, &want, &out.to_yaml(), true),
            Err(e) => println!("{label}: build failed: {e}"),
        }
    }
    let mut disagree = Vec::new();
    for case in &cases {
        let k = kubectl.output(&case.dir, &case.flags)?;
        let t = tether.output(&case.dir, &case.flags)?;
        if k != t {
            disagree.push(case.name.as_str());
        }
    }
    println!(
        "corpus: tether's stdout and success equal kubectl's in {}/{} cases{}",
        cases.len() - disagree.len(),
        cases.len(),
        if disagree.is_empty() {
            String::new()
        } else {
            format!("; differing: {}", disagree.join(", "))
        }
    );

    // 2. Whole processes on the tree.
    let mut tree_times = (Vec::new(), Vec::new());
    for i in 0..iterations {
        eprintln!("tree: timed run {}/{iterations}", i + 1);
        let (t, k) = interleaved(i, || tether.time(&entry, &[]), || kubectl.time(&entry, &[]))?;
        tree_times.0.push(t);
        tree_times.1.push(k);
    }
    let tree_usage = (
        tether.usage(&entry, &[], scratch.path())?,
        kubectl.usage(&entry, &[], scratch.path())?,
    );

    // 3. Whole processes on the corpus, one per case.
    let mut corpus_times = (Vec::new(), Vec::new());
    for i in 0..iterations {
        eprintln!("corpus: timed pass {}/{iterations}", i + 1);
        let (mut t_sum, mut k_sum) = (Duration::ZERO, Duration::ZERO);
        for case in &cases {
            let (t, k) = interleaved(
                i,
                || tether.time(&case.dir, &case.flags),
                || kubectl.time(&case.dir, &case.flags),
            )?;
            t_sum += t;
            k_sum += k;
        }
        corpus_times.0.push(t_sum);
        corpus_times.1.push(k_sum);
    }
    let corpus_usage = (
        corpus_usage(&tether, &cases, scratch.path())?,
        corpus_usage(&kubectl, &cases, scratch.path())?,
    );

    // 4. In-process builds of the tree.
    let disk = in_process(iterations, Arc::new(DiskFs), &entry)?;
    let mem = in_process(iterations, memfs, &mem_entry)?;

    let k_tree = median(&tree_times.1);
    let mut table = Table::default();
    table.time(
        &format!("tree ({documents} resources): process wall, median of {iterations}"),
        median(&tree_times.0),
        k_tree,
    );
    table.usage("tree: process", tree_usage.0, tree_usage.1);
    table.time(
        &format!(
            "corpus ({} cases, a process each): summed wall, median of {iterations} passes",
            cases.len()
        ),
        median(&corpus_times.0),
        median(&corpus_times.1),
    );
    if let (Some(t), Some(k)) = corpus_usage {
        table.memory(
            "corpus: peak RSS, largest case",
            t.max_rss_kib,
            k.max_rss_kib,
        );
        table.memory(
            "corpus: peak RSS, mean per case",
            t.mean_rss_kib,
            k.mean_rss_kib,
        );
    }
    table.time(
        &format!("tree: in-process build (DiskFs) vs kubectl process, median of {iterations}"),
        disk,
        k_tree,
    );
    table.time(
        &format!("tree: in-process build (MemFs) vs kubectl process, median of {iterations}"),
        mem,
        k_tree,
    );
    println!("load average at end {}", load_average());
    println!();
    print!("{}", table.render());
    Ok(())
}

/// One run of each, the order alternating between iterations so neither always goes first.
fn interleaved(
    i: usize,
    mut tether: impl FnMut() -> anyhow::Result<Duration>,
    mut kubectl: impl FnMut() -> anyhow::Result<Duration>,
) -> anyhow::Result<(Duration, Duration)> {
    if i.is_multiple_of(2) {
        let t = tether()?;
        Ok((t, kubectl()?))
    } else {
        let k = kubectl()?;
        Ok((tether()?, k))
    }
}

fn report_equality(label: &str, want: &str, got: &str, ok: bool) {
    if !ok {
        println!("{label}: MISMATCH, the build failed");
    } else if let Some(m) = compare::compare(want, got) {
        println!("{label}: MISMATCH with kubectl: {m}");
    } else {
        println!("{label}: equal to kubectl byte for byte");
    }
}

/// Where the in-memory copy of the tree lives.
const MEM_ROOT: &str = "/tree";

fn memfs(tree: &tree::Tree) -> Arc<dyn FileSystem> {
    let mut fs = MemFs::new();
    for (path, text) in &tree.files {
        fs.add_file(Path::new(MEM_ROOT).join(path), text.as_bytes());
    }
    Arc::new(fs)
}

/// Median time of a library build plus its YAML output, after one warm-up build.
fn in_process(iterations: usize, fs: Arc<dyn FileSystem>, dir: &Path) -> anyhow::Result<Duration> {
    let options = BuildOptions::default();
    let mut times = Vec::new();
    for i in 0..=iterations {
        let start = Instant::now();
        let yaml = build(fs.clone(), dir, &options)
            .with_context(|| format!("in-process build of {}", dir.display()))?
            .to_yaml();
        let elapsed = start.elapsed();
        std::hint::black_box(yaml);
        if i > 0 {
            times.push(elapsed);
        }
    }
    Ok(median(&times))
}

/// One conformance case: the directory to build and the flags of `case.json`.
struct Case {
    name: String,
    dir: PathBuf,
    flags: Vec<String>,
}

fn load_cases(dir: &Path) -> anyhow::Result<Vec<Case>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the conformance cases in {}", dir.display()))?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    names.sort();
    let mut cases = Vec::new();
    for name in names {
        let case = dir.join(&name);
        let entry = std::fs::read_to_string(case.join("entry"))
            .with_context(|| format!("reading {}", case.join("entry").display()))?;
        let json = std::fs::read_to_string(case.join("case.json"))
            .with_context(|| format!("reading {}", case.join("case.json").display()))?;
        let json: serde_json::Value = serde_json::from_str(&json)
            .with_context(|| format!("parsing {}", case.join("case.json").display()))?;
        let flags = json["flags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_str().map(str::to_owned))
            .collect();
        cases.push(Case {
            dir: case.canonicalize()?.join(entry.trim()),
            name,
            flags,
        });
    }
    Ok(cases)
}

/// Largest and mean peak RSS over one pass of the corpus under GNU time. (No CPU sum: GNU
/// time prints CPU seconds with two decimals, too coarse for builds of a few milliseconds.)
struct CorpusUsage {
    max_rss_kib: u64,
    mean_rss_kib: u64,
}

fn corpus_usage(
    tool: &Tool,
    cases: &[Case],
    scratch: &Path,
) -> anyhow::Result<Option<CorpusUsage>> {
    let mut all = Vec::new();
    for case in cases {
        match tool.usage(&case.dir, &case.flags, scratch)? {
            Some(u) => all.push(u),
            None => return Ok(None),
        }
    }
    let count = all.len().max(1) as u64;
    Ok(Some(CorpusUsage {
        max_rss_kib: all.iter().map(|u| u.max_rss_kib).max().unwrap_or(0),
        mean_rss_kib: all.iter().map(|u| u.max_rss_kib).sum::<u64>() / count,
    }))
}

/// `kubectl.1.33` on the PATH, else beside the file the `kubectl` on the PATH links to.
fn find_kubectl(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path);
    }
    let paths: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(found) = paths
        .iter()
        .map(|p| p.join("kubectl.1.33"))
        .find(|p| p.is_file())
    {
        return Ok(found);
    }
    for kubectl in paths
        .iter()
        .map(|p| p.join("kubectl"))
        .filter(|p| p.is_file())
    {
        if let Some(dir) = kubectl.canonicalize()?.parent() {
            let candidate = dir.join("kubectl.1.33");
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    bail!("cannot find kubectl.1.33 (kustomize v5.6.0); pass --kubectl PATH")
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// The result table, in Markdown for BENCHMARKS.md.
#[derive(Default)]
struct Table {
    rows: Vec<[String; 4]>,
}

impl Table {
    fn time(&mut self, what: &str, tether: Duration, kubectl: Duration) {
        self.rows.push([
            what.to_owned(),
            format_duration(tether),
            format_duration(kubectl),
            ratio(kubectl.as_secs_f64(), tether.as_secs_f64()),
        ]);
    }

    fn memory(&mut self, what: &str, tether_kib: u64, kubectl_kib: u64) {
        let mib = |k: u64| format!("{:.1} MiB", k as f64 / 1024.0);
        self.rows.push([
            what.to_owned(),
            mib(tether_kib),
            mib(kubectl_kib),
            ratio(kubectl_kib as f64, tether_kib as f64),
        ]);
    }

    fn usage(&mut self, what: &str, tether: Option<Usage>, kubectl: Option<Usage>) {
        if let (Some(t), Some(k)) = (tether, kubectl) {
            self.time(&format!("{what} CPU (user+sys)"), t.cpu, k.cpu);
            self.memory(&format!("{what} peak RSS"), t.max_rss_kib, k.max_rss_kib);
        } else {
            self.rows.push([
                format!("{what} peak RSS"),
                format!("unavailable (no {})", measure::GNU_TIME),
                String::new(),
                String::new(),
            ]);
        }
    }

    fn render(&self) -> String {
        let header = [
            "measure",
            "tether",
            "kubectl 1.33 kustomize",
            "kubectl / tether",
        ];
        let mut widths = header.map(str::len);
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.len());
            }
        }
        let line = |cells: [&str; 4]| {
            let mut s = String::from("|");
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                if i == 0 {
                    s.push_str(&format!(" {cell:<w$} |"));
                } else {
                    s.push_str(&format!(" {cell:>w$} |"));
                }
            }
            s.push('\n');
            s
        };
        let mut out = line(header);
        let rule = widths.map(|w| "-".repeat(w));
        out.push_str(&line([
            rule[0].as_str(),
            &format!("{}:", &rule[1][1..]),
            &format!("{}:", &rule[2][1..]),
            &format!("{}:", &rule[3][1..]),
        ]));
        for row in &self.rows {
            out.push_str(&line([&row[0], &row[1], &row[2], &row[3]]));
        }
        out
    }
}

fn format_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms >= 10_000.0 {
        format!("{:.2} s", ms / 1e3)
    } else if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

fn ratio(kubectl: f64, tether: f64) -> String {
    if tether > 0.0 {
        format!("{:.1}×", kubectl / tether)
    } else {
        "–".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_tree_is_deterministic_and_sized() {
        let a = tree::generate(50);
        assert_eq!(a.files.len(), 50 * 7 + 10 * 2 + 2 + 1);
        assert_eq!(a.files, tree::generate(50).files);
        assert_eq!(tree::Tree::resources(50), 2100);
        let top = &a.files.last().unwrap().1;
        assert!(top.contains("- ../l2/r0\n- ../l2/r1\n"), "{top}");
    }

    #[test]
    fn the_table_is_markdown_with_ratios() {
        let mut t = Table::default();
        t.time("x", Duration::from_millis(10), Duration::from_millis(250));
        t.memory("m", 10 * 1024, 95 * 1024);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(
            lines[1].starts_with("| ---") && lines[1].ends_with(": |"),
            "{text}"
        );
        assert!(
            lines[2].contains("10.0 ms") && lines[2].contains("25.0×"),
            "{text}"
        );
        assert!(
            lines[3].contains("95.0 MiB") && lines[3].contains("9.5×"),
            "{text}"
        );
    }
}
