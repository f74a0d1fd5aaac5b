//! A remote with branches, tags and a pull-request ref, shared by the fetch and artifact tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use tether_testkit::{WorkRepo, init_bare};

pub struct Fixture {
    /// Holds `app.git`.
    pub root: tempfile::TempDir,
    pub bare: PathBuf,
    pub work: WorkRepo,
    /// main's first commit (tagged v1.0.0, annotated).
    pub c1: String,
    /// main's second commit (tagged v1.1.0, lightweight); main's head.
    pub c2: String,
    /// dev's head (tagged v2.0.0-rc.1).
    pub dev: String,
    /// refs/pull/1/head.
    pub pr: String,
}

pub fn fixture() -> Fixture {
    let root = tempfile::tempdir().unwrap();
    let bare = init_bare(&root.path().join("app.git")).unwrap();
    let mut work = WorkRepo::new().unwrap();
    work.write("deploy/app.yaml", "kind: ConfigMap\nversion: 1\n")
        .unwrap();
    work.write("README.md", "# app\n").unwrap();
    let c1 = work.commit("one").unwrap();
    work.annotated_tag("v1.0.0", "first release").unwrap();
    work.write("deploy/app.yaml", "kind: ConfigMap\nversion: 2\n")
        .unwrap();
    let c2 = work.commit("two").unwrap();
    work.tag("v1.1.0").unwrap();
    work.checkout_new_branch("dev").unwrap();
    work.write("deploy/dev.yaml", "kind: ConfigMap\n").unwrap();
    let dev = work.commit("dev").unwrap();
    work.tag("v2.0.0-rc.1").unwrap();
    work.checkout_new_branch("pr").unwrap();
    work.write("deploy/pr.yaml", "kind: ConfigMap\n").unwrap();
    let pr = work.commit("pr").unwrap();
    work.checkout("main").unwrap();
    work.update_ref("refs/pull/1/head", &pr).unwrap();
    let url = bare.to_str().unwrap().to_owned();
    work.push(&url, &["main", "dev", "--tags"]).unwrap();
    work.push(&url, &["refs/pull/1/head:refs/pull/1/head"])
        .unwrap();
    Fixture {
        root,
        bare,
        work,
        c1,
        c2,
        dev,
        pr,
    }
}

impl Fixture {
    /// Commits a change on main and pushes it; returns the new head.
    pub fn advance_main(&mut self, file: &str, contents: &str) -> String {
        self.work.checkout("main").unwrap();
        self.work.write(file, contents).unwrap();
        let sha = self.work.commit("change").unwrap();
        self.work
            .push(self.bare.to_str().unwrap(), &["main"])
            .unwrap();
        sha
    }
}
