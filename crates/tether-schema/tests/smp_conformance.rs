//! Runs every strategic-merge-patch conformance case of `shared/conformance/smp/` (extracted
//! from apimachinery's `pkg/util/strategicpatch/patch_test.go`; its README defines the
//! format) under every schema the case lists: Go struct tags, OpenAPI v2 and OpenAPI v3.
//! `TETHER_SMP_CASES` overrides the directory; `TETHER_SMP_CASE=<substring>` runs only matching
//! cases (the count check is then skipped, and the run says so).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tether_schema::{
    GoStructSchemas, LookupPatchMeta, OpenApiV2Schemas, OpenApiV3Schemas, SmpError,
    create_three_way_merge_patch, create_two_way_merge_patch, sort_merge_lists,
    strategic_merge_patch, strategic_merge_patch_json,
};

fn cases_dir() -> PathBuf {
    std::env::var_os("TETHER_SMP_CASES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/smp")
        })
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn yaml(text: &str, what: &str) -> Result<Value, String> {
    serde_saphyr::from_str::<Value>(text).map_err(|e| format!("{what}: invalid YAML: {e}"))
}

/// The schemas of the suite, loaded once per file.
#[derive(Default)]
struct Schemas {
    structs: HashMap<String, GoStructSchemas>,
    v2: HashMap<String, OpenApiV2Schemas>,
    v3: HashMap<String, OpenApiV3Schemas>,
}

impl Schemas {
    fn file(dir: &Path, rel: &str) -> Result<Value, String> {
        // Upstream reads these with a YAML parser, which accepts the trailing comma that
        // swagger-merge-item.json has.
        yaml(&read(&dir.join(rel))?, rel)
    }

    fn go_struct(&mut self, dir: &Path, rel: &str) -> Result<&GoStructSchemas, String> {
        if !self.structs.contains_key(rel) {
            let doc = GoStructSchemas::from_value(&Self::file(dir, rel)?)
                .map_err(|e| format!("{rel}: {e}"))?;
            self.structs.insert(rel.to_owned(), doc);
        }
        Ok(&self.structs[rel])
    }

    fn openapi_v2(&mut self, dir: &Path, rel: &str) -> Result<&OpenApiV2Schemas, String> {
        if !self.v2.contains_key(rel) {
            let doc = OpenApiV2Schemas::from_document(Self::file(dir, rel)?)
                .map_err(|e| format!("{rel}: {e}"))?;
            self.v2.insert(rel.to_owned(), doc);
        }
        Ok(&self.v2[rel])
    }

    fn openapi_v3(&mut self, dir: &Path, rel: &str) -> Result<&OpenApiV3Schemas, String> {
        if !self.v3.contains_key(rel) {
            let doc = OpenApiV3Schemas::from_document(Self::file(dir, rel)?)
                .map_err(|e| format!("{rel}: {e}"))?;
            self.v3.insert(rel.to_owned(), doc);
        }
        Ok(&self.v3[rel])
    }
}

struct Case {
    file: String,
    spec: Value,
}

impl Case {
    fn str(&self, key: &str) -> Option<&str> {
        self.spec.get(key).and_then(Value::as_str)
    }

    /// A document: a YAML value, or JSON text when `documents: jsonText`.
    fn doc(&self, key: &str) -> Result<Option<Value>, String> {
        let Some(v) = self.spec.get(key) else {
            return Ok(None);
        };
        if self.str("documents") == Some("jsonText") {
            let text = v
                .as_str()
                .ok_or_else(|| format!("{key} is not JSON text"))?;
            serde_json::from_str(text)
                .map(Some)
                .map_err(|e| format!("{key}: invalid JSON: {e}"))
        } else {
            Ok(Some(v.clone()))
        }
    }

    fn checks(&self) -> Vec<&str> {
        self.spec
            .get("checks")
            .and_then(Value::as_array)
            .map(|c| c.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
}

fn load_cases(dir: &Path) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    let mut groups: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n != "schemas"))
        .collect();
    groups.sort();
    for group in groups {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&group)
            .map_err(|e| format!("cannot read {}: {e}", group.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        for path in files {
            let file = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            let spec = yaml(&read(&path)?, &file)?;
            cases.push(Case { file, spec });
        }
    }
    Ok(cases)
}

/// The number of cases `summary.json` says were extracted.
fn expected_count(dir: &Path) -> Result<u64, String> {
    let summary: Value = serde_json::from_str(&read(&dir.join("summary.json"))?)
        .map_err(|e| format!("summary.json: {e}"))?;
    let groups = summary["groups"]
        .as_object()
        .ok_or("summary.json has no groups")?;
    Ok(groups
        .values()
        .map(|g| g["extracted"].as_u64().unwrap_or(0))
        .sum())
}

fn show(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// How one run of a case went.
#[derive(Default)]
struct Outcome {
    checks: usize,
    /// Apply checks that upstream does not reach either: the creation before them failed as
    /// the case expects, or conflicted without a result to compare.
    not_reached: usize,
    failures: Vec<String>,
}

/// Runs a case's checks under one schema.
struct Runner<'a, M: LookupPatchMeta> {
    case: &'a Case,
    meta: &'a M,
    out: Outcome,
}

impl<M: LookupPatchMeta> Runner<'_, M> {
    fn fail(&mut self, check: &str, what: String) {
        self.out.failures.push(format!("{check}: {what}"));
    }

    fn normalized(&self, key: &str) -> Result<Option<Value>, String> {
        let Some(doc) = self.case.doc(key)? else {
            return Ok(None);
        };
        if self.case.str("normalize") == Some("sortMergeLists") {
            return sort_merge_lists(&doc, self.meta)
                .map(Some)
                .map_err(|e| format!("sorting {key}: {e}"));
        }
        Ok(Some(doc))
    }

    fn input(&self, key: &str) -> Result<Value, String> {
        Ok(self
            .normalized(key)?
            .unwrap_or_else(|| Value::Object(Default::default())))
    }

    /// Compares an outcome with the expected document or error (`either` allows both).
    fn expect(
        &mut self,
        check: &str,
        got: &Result<Value, SmpError>,
        want: Option<&Value>,
        want_error: Option<&str>,
    ) -> bool {
        let exact = self.case.str("expectedErrorMatch") == Some("exact");
        match (got, want, want_error) {
            (Err(e), _, Some(text)) => {
                let msg = e.to_string();
                let ok = if exact {
                    msg == text
                } else {
                    msg.contains(text)
                };
                if !ok {
                    self.fail(
                        check,
                        format!("expected an error with {text:?}, got {msg:?}"),
                    );
                }
                ok
            }
            (Err(e), _, None) => {
                self.fail(check, format!("unexpected error: {e}"));
                false
            }
            (Ok(v), Some(want), _) => {
                if v != want {
                    self.fail(
                        check,
                        format!("expected\n    {}\n  got\n    {}", show(want), show(v)),
                    );
                }
                v == want
            }
            (Ok(v), None, Some(text)) => {
                self.fail(
                    check,
                    format!("expected an error with {text:?}, got {}", show(v)),
                );
                false
            }
            (Ok(_), None, None) => {
                self.fail(check, "the case has no expected document".to_owned());
                false
            }
        }
    }

    fn run(mut self) -> Result<Outcome, String> {
        let original = self.input("original")?;
        let modified = self.input("modified")?;
        let current = self.input("current")?;
        let expected_error = self.case.str("expectedError");
        let mut two_way: Option<Value> = None;
        let mut two_way_failed_as_expected = false;
        let mut three_way: Option<Value> = None;
        let mut three_way_done = false;
        let checks = self.case.checks();
        if checks.is_empty() {
            return Err("the case lists no checks".to_owned());
        }
        for check in checks {
            self.out.checks += 1;
            match check {
                "sort" => {
                    let got = sort_merge_lists(&original, self.meta);
                    let want = self.case.doc("sorted")?;
                    self.expect(check, &got, want.as_ref(), None);
                }
                "twoWayCreate" => {
                    let got = create_two_way_merge_patch(&original, &modified, self.meta);
                    let want = self.normalized("twoWay")?;
                    let want_error = self.case.str("twoWayError");
                    if self.expect(check, &got, want.as_ref(), want_error) {
                        match got {
                            Ok(p) => two_way = Some(p),
                            Err(_) => two_way_failed_as_expected = true,
                        }
                    }
                }
                "twoWayApply" => {
                    if two_way_failed_as_expected {
                        // Upstream stops at the expected creation error too.
                        self.out.not_reached += 1;
                        continue;
                    }
                    let patch = match two_way.take() {
                        Some(p) => p,
                        None if self.case.checks().contains(&"twoWayCreate") => {
                            self.fail(check, "no two-way patch was created".to_owned());
                            continue;
                        }
                        None => self
                            .normalized("twoWay")?
                            .ok_or("twoWayApply without a twoWay patch")?,
                    };
                    let want = match self.normalized("twoWayResult")? {
                        Some(r) => r,
                        None => modified.clone(),
                    };
                    let got = strategic_merge_patch(original.clone(), patch, self.meta);
                    let want = (expected_error.is_none()).then_some(want);
                    self.expect(check, &got, want.as_ref(), expected_error);
                }
                "threeWayCreate" => {
                    three_way_done = true;
                    let want = self.normalized("threeWay")?;
                    let conflict =
                        self.case.spec.get("threeWayConflict") == Some(&Value::Bool(true));
                    let got = create_three_way_merge_patch(
                        &original, &modified, &current, self.meta, false,
                    );
                    if conflict {
                        match &got {
                            Err(e) if e.is_conflict() => {}
                            other => {
                                let what = match other {
                                    Ok(p) => format!("got the patch {}", show(p)),
                                    Err(e) => format!("got {e}"),
                                };
                                self.fail(check, format!("expected a conflict, {what}"));
                            }
                        }
                        if self.case.spec.get("result").is_some() {
                            let got = create_three_way_merge_patch(
                                &original, &modified, &current, self.meta, true,
                            );
                            if self.expect("threeWayCreate(overwrite)", &got, want.as_ref(), None) {
                                three_way = got.ok();
                            }
                        }
                    } else {
                        let want_error = self.case.str("threeWayError");
                        if self.expect(check, &got, want.as_ref(), want_error) {
                            three_way = got.ok();
                        }
                    }
                }
                "threeWayApply" => {
                    let patch = match three_way.take() {
                        Some(p) => p,
                        // A conflict without a result, or an expected creation error.
                        None if three_way_done => {
                            self.out.not_reached += 1;
                            continue;
                        }
                        None => self
                            .normalized("threeWay")?
                            .ok_or("threeWayApply without a threeWay patch")?,
                    };
                    let want = self.normalized("result")?;
                    let got = strategic_merge_patch(current.clone(), patch, self.meta);
                    self.expect(check, &got, want.as_ref(), expected_error);
                }
                "apply" => {
                    let original = self.case.str("originalText").ok_or("no originalText")?;
                    let patch = self.case.str("patchText").ok_or("no patchText")?;
                    let got = strategic_merge_patch_json(
                        original.as_bytes(),
                        patch.as_bytes(),
                        self.meta,
                    )
                    .map(|bytes| serde_json::from_slice(&bytes).unwrap_or(Value::Null));
                    self.expect(check, &got, None, expected_error);
                }
                other => return Err(format!("unknown check {other:?}")),
            }
        }
        Ok(self.out)
    }
}

fn run_case(
    case: &Case,
    dir: &Path,
    schemas: &mut Schemas,
) -> Result<Vec<(String, Outcome)>, String> {
    let spec = case.spec.get("schemas").ok_or("no schemas")?;
    let root = spec
        .get("root")
        .and_then(Value::as_str)
        .ok_or("no schemas.root")?;
    let mut out = Vec::new();
    let names = ["struct", "openapiV2", "openapiV3"];
    for name in names {
        let Some(rel) = spec.get(name).and_then(Value::as_str) else {
            return Err(format!("schema {name} missing"));
        };
        let outcome = match name {
            "struct" => {
                let (file, ty) = rel.split_once('#').ok_or("struct schema without #Type")?;
                let doc = schemas.go_struct(dir, file)?;
                let meta = doc
                    .root(ty)
                    .ok_or_else(|| format!("{rel}: no struct {ty}"))?;
                Runner {
                    case,
                    meta: &meta,
                    out: Outcome::default(),
                }
                .run()?
            }
            "openapiV2" => {
                let doc = schemas.openapi_v2(dir, rel)?;
                let meta = doc
                    .definition(root)
                    .ok_or_else(|| format!("{rel}: no definition {root}"))?;
                Runner {
                    case,
                    meta: &meta,
                    out: Outcome::default(),
                }
                .run()?
            }
            _ => {
                let doc = schemas.openapi_v3(dir, rel)?;
                let meta = doc
                    .schema(root)
                    .ok_or_else(|| format!("{rel}: no schema {root}"))?;
                Runner {
                    case,
                    meta: &meta,
                    out: Outcome::default(),
                }
                .run()?
            }
        };
        out.push((name.to_owned(), outcome));
    }
    Ok(out)
}

#[test]
fn every_smp_case_passes_under_every_schema() {
    let dir = cases_dir();
    let cases = load_cases(&dir).unwrap_or_else(|e| panic!("{e}"));
    let filter = std::env::var("TETHER_SMP_CASE").ok();
    if filter.is_none() {
        let want = expected_count(&dir).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            cases.len() as u64,
            want,
            "{} has {} case files, summary.json says {want} were extracted",
            dir.display(),
            cases.len()
        );
    }
    let mut schemas = Schemas::default();
    let mut report = String::new();
    let (mut ran, mut runs, mut checks, mut not_reached, mut failed) = (0, 0, 0, 0, 0);
    for case in &cases {
        if filter.as_deref().is_some_and(|f| !case.file.contains(f)) {
            continue;
        }
        ran += 1;
        match run_case(case, &dir, &mut schemas) {
            Err(e) => {
                failed += 1;
                let _ = writeln!(report, "{}: {e}", case.file);
            }
            Ok(outcomes) => {
                for (schema, outcome) in outcomes {
                    runs += 1;
                    checks += outcome.checks;
                    not_reached += outcome.not_reached;
                    for f in &outcome.failures {
                        failed += 1;
                        let _ = writeln!(report, "{} [{schema}] {f}", case.file);
                    }
                }
            }
        }
    }
    eprintln!(
        "smp conformance: {ran} cases, {runs} case×schema runs, {checks} checks \
         ({not_reached} apply checks not reached after an expected creation error or conflict, \
         as upstream)\n{} passed, {failed} failed{}",
        checks.saturating_sub(failed + not_reached),
        if filter.is_some() {
            " (filtered by TETHER_SMP_CASE; count check skipped)"
        } else {
            ""
        }
    );
    assert!(ran > 0, "no case matched");
    assert!(failed == 0, "{failed} failures:\n{report}");
}
