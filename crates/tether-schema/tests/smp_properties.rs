//! Properties of strategic merge patch on generated Deployments: a two-way patch turns the
//! original into the modified object, a three-way patch against an unchanged live object
//! does too, and no input makes the merge panic. The generator is a fixed-seed xorshift so
//! runs are reproducible; a failure prints the seed and the documents.

use serde_json::{Map, Value, json};
use tether_schema::{
    JsonMergePatchMeta, SchemaPatchMeta, create_three_way_merge_patch, create_two_way_merge_patch,
    strategic_merge_patch,
};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A random subset of `pool`, in random order.
    fn pick<'a>(&mut self, pool: &[&'a str]) -> Vec<&'a str> {
        let mut items: Vec<&str> = pool.iter().copied().filter(|_| self.chance(50)).collect();
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
        items
    }
}

fn container(rng: &mut Rng, name: &str) -> Value {
    let mut c = Map::new();
    c.insert("name".into(), json!(name));
    c.insert("image".into(), json!(format!("{name}:{}", rng.below(3))));
    if rng.chance(60) {
        let env: Vec<Value> = rng
            .pick(&["A", "B", "C", "D"])
            .into_iter()
            .map(|n| json!({"name": n, "value": format!("{}", rng.below(2))}))
            .collect();
        c.insert("env".into(), Value::Array(env));
    }
    if rng.chance(50) {
        let ports: Vec<Value> = rng
            .pick(&["80", "443", "8080"])
            .into_iter()
            .map(|p| json!({"containerPort": p.parse::<u32>().unwrap_or(1), "protocol": "TCP"}))
            .collect();
        c.insert("ports".into(), Value::Array(ports));
    }
    if rng.chance(40) {
        let args: Vec<Value> = rng
            .pick(&["-v", "-q", "--x"])
            .into_iter()
            .map(|a| json!(a))
            .collect();
        c.insert("args".into(), Value::Array(args));
    }
    Value::Object(c)
}

fn deployment(rng: &mut Rng) -> Value {
    let containers: Vec<Value> = {
        let mut names = rng.pick(&["web", "proxy", "log", "init"]);
        if names.is_empty() {
            names.push("web");
        }
        names.into_iter().map(|n| container(rng, n)).collect()
    };
    let mut labels = Map::new();
    for k in rng.pick(&["app", "tier", "team"]) {
        labels.insert(k.into(), json!(format!("v{}", rng.below(2))));
    }
    let finalizers: Vec<Value> = rng
        .pick(&["f1", "f2", "f3"])
        .into_iter()
        .map(|f| json!(f))
        .collect();
    let mut spec = json!({"template": {"spec": {"containers": containers}}});
    if rng.chance(70) {
        spec["replicas"] = json!(rng.below(5));
    }
    if rng.chance(50) {
        let volumes: Vec<Value> = rng
            .pick(&["config", "cache", "data"])
            .into_iter()
            .map(|v| {
                if rng.chance(50) {
                    json!({"name": v, "emptyDir": {}})
                } else {
                    json!({"name": v, "configMap": {"name": v}})
                }
            })
            .collect();
        spec["template"]["spec"]["volumes"] = Value::Array(volumes);
    }
    json!({
        "metadata": {"name": "d", "labels": labels, "finalizers": finalizers},
        "spec": spec
    })
}

/// Upstream compares a primitive merging list with the original sorted in place, so a
/// reordering into sorted order is not sent: `applied` may then keep the original order.
fn same_but_for_sorted_reordering(applied: &Value, modified: &Value) -> bool {
    let finalizers = |d: &Value| d["metadata"]["finalizers"].clone();
    let (a, m) = (finalizers(applied), finalizers(modified));
    let texts = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|l| l.iter().map(|x| x.to_string()).collect())
            .unwrap_or_default()
    };
    let (mut at, mt) = (texts(&a), texts(&m));
    let m_sorted = mt.windows(2).all(|w| w[0] <= w[1]);
    at.sort();
    let mut applied = applied.clone();
    applied["metadata"]["finalizers"] = m;
    m_sorted && at == mt && applied == *modified
}

#[test]
fn two_and_three_way_patches_reproduce_the_modified_deployment() {
    let meta = SchemaPatchMeta::for_gvk("apps", "v1", "Deployment").expect("built-in kind");
    for seed in 1..=400u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let original = deployment(&mut rng);
        let modified = deployment(&mut rng);
        let patch = create_two_way_merge_patch(&original, &modified, &meta)
            .unwrap_or_else(|e| panic!("seed {seed}: two-way: {e}"));
        let applied = strategic_merge_patch(original.clone(), patch.clone(), &meta)
            .unwrap_or_else(|e| panic!("seed {seed}: apply: {e}\npatch {patch}"));
        assert!(
            applied == modified || same_but_for_sorted_reordering(&applied, &modified),
            "seed {seed}: two-way\noriginal {original}\npatch {patch}\napplied {applied}\nmodified {modified}"
        );
        let patch = create_three_way_merge_patch(&original, &modified, &original, &meta, false)
            .unwrap_or_else(|e| panic!("seed {seed}: three-way: {e}"));
        let applied = strategic_merge_patch(original.clone(), patch.clone(), &meta)
            .unwrap_or_else(|e| panic!("seed {seed}: apply: {e}\npatch {patch}"));
        assert!(
            applied == modified || same_but_for_sorted_reordering(&applied, &modified),
            "seed {seed}: three-way\noriginal {original}\npatch {patch}\napplied {applied}\nmodified {modified}"
        );
    }
}

/// A random JSON value sprinkled with directives, for the no-panic property.
fn wild(rng: &mut Rng, depth: u32) -> Value {
    const KEYS: &[&str] = &[
        "name",
        "containers",
        "$patch",
        "$retainKeys",
        "$setElementOrder/containers",
        "$deleteFromPrimitiveList/finalizers",
        "finalizers",
        "env",
        "spec",
        "metadata",
        "x",
    ];
    match rng.below(if depth == 0 { 5 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.below(3)),
        2 => json!(["delete", "replace", "merge", "a", "web"][rng.below(5) as usize]),
        3 => json!(rng.chance(50)),
        4 => json!(0.5),
        5 | 6 => {
            let mut m = Map::new();
            for _ in 0..rng.below(4) {
                let k = KEYS[rng.below(KEYS.len() as u64) as usize];
                m.insert(k.into(), wild(rng, depth - 1));
            }
            Value::Object(m)
        }
        _ => Value::Array((0..rng.below(4)).map(|_| wild(rng, depth - 1)).collect()),
    }
}

#[test]
fn arbitrary_documents_never_panic() {
    let meta = SchemaPatchMeta::for_gvk("apps", "v1", "Deployment").expect("built-in kind");
    let pod = SchemaPatchMeta::for_gvk("", "v1", "Pod");
    for seed in 1..=3000u64 {
        let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let a = wild(&mut rng, 4);
        let b = wild(&mut rng, 4);
        let c = wild(&mut rng, 4);
        // Results may be errors; they must not be panics.
        let _ = strategic_merge_patch(a.clone(), b.clone(), &meta);
        let _ = strategic_merge_patch(a.clone(), b.clone(), &JsonMergePatchMeta);
        let _ = create_two_way_merge_patch(&a, &b, &meta);
        let _ = create_three_way_merge_patch(&a, &b, &c, &meta, false);
        let _ = create_three_way_merge_patch(&a, &b, &c, &JsonMergePatchMeta, true);
        if let Some(pod) = &pod {
            let _ = strategic_merge_patch(a, b, pod);
        }
    }
}
