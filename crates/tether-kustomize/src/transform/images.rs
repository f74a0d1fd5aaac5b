//! The image transformer (kustomize's `ImageTagTransformer`, `filters/imagetag`): one per entry
//! of a kustomization's `images:`, or an `ImageTagTransformer` entry of `transformers:`.
//!
//! Two passes per resource, both skipping CustomResourceDefinitions, both applying the same
//! update (so a field both reach is updated twice, which only shows with `tagSuffix`):
//! 1. the legacy walk: the `image` of every element of any `containers` or `initContainers` list
//!    anywhere in the object (inner lists first);
//! 2. the field specs (by default `spec/containers[]/image`, `spec/initContainers[]/image` and
//!    their `spec/template/spec/...` forms), never creating anything.
//!
//! An image matches when it is the entry's `name` (a regular expression, unescaped, as kustomize
//! builds it) optionally followed by `:tag` and `@sha256:digest`. The update replaces the name by
//! `newName`, and the tag and digest by `newTag` and/or `digest`, or appends `tagSuffix` to the
//! tag (dropping the digest).

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

use crate::config::TransformerConfig;
use crate::error::{Error, Result};
use crate::fieldspec::{
    CreateKind, FieldSpec, LenientFieldSpec, apply_field_spec, from_lenient, scalar_text,
    set_scalar_keeping_style, wrong_node_kind,
};
use crate::resmap::ResMap;
use crate::transform::Transformer;

/// One entry of `images:` (kustomize's `types.Image`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageSpec {
    /// The image name to match, without tag or digest.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub new_name: String,
    /// Ignored when `newTag` or `digest` is set.
    #[serde(default)]
    pub tag_suffix: String,
    #[serde(default)]
    pub new_tag: String,
    #[serde(default)]
    pub digest: String,
}

/// Reads a kustomization's `images:` (or `imageTags:`) entries as kustomize's strict decoder
/// does: string fields only, no unknown fields.
pub fn parse_images(entries: &[Value]) -> Result<Vec<ImageSpec>> {
    entries.iter().map(parse_image).collect()
}

fn parse_image(entry: &Value) -> Result<ImageSpec> {
    let invalid = |message: String| Error::Kustomization { message };
    let map = match entry {
        Value::Object(map) => map,
        Value::Null => return Ok(ImageSpec::default()),
        other => {
            return Err(invalid(format!(
                "json: cannot unmarshal {} into Go struct field Kustomization.images of type types.Image",
                json_type(other)
            )));
        }
    };
    let mut image = ImageSpec::default();
    for (key, value) in map {
        let slot = match key.as_str() {
            "name" => &mut image.name,
            "newName" => &mut image.new_name,
            "tagSuffix" => &mut image.tag_suffix,
            "newTag" => &mut image.new_tag,
            "digest" => &mut image.digest,
            other => return Err(invalid(format!("json: unknown field \"{other}\""))),
        };
        match value {
            Value::String(s) => *slot = s.clone(),
            Value::Null => {}
            other => {
                return Err(invalid(format!(
                    "json: cannot unmarshal {} into Go struct field Image.images.{key} of type string",
                    json_type(other)
                )));
            }
        }
    }
    Ok(image)
}

/// Go's name for a JSON value's type in unmarshal errors.
pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Rewrites matching image references.
#[derive(Debug, Clone)]
pub struct ImageTagTransformer {
    image: ImageSpec,
    /// The name pattern; kustomize does not escape the name, so a bad pattern only fails when
    /// an image is checked against it.
    pattern: std::result::Result<Regex, String>,
    field_specs: Vec<FieldSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PluginConfig {
    #[serde(default)]
    image_tag: ImageSpec,
    #[serde(default)]
    field_specs: Option<Vec<LenientFieldSpec>>,
}

impl ImageTagTransformer {
    /// One `images:` entry with the configuration's `images` specs.
    pub fn new(image: ImageSpec, tc: &TransformerConfig) -> Self {
        Self::with_specs(image, tc.images.clone())
    }

    /// An `ImageTagTransformer` of `transformers:` (`imageTag`, `fieldSpecs`).
    pub fn from_plugin_config(config: &Value, _tc: &TransformerConfig) -> Result<Self> {
        let c: PluginConfig = serde_json::from_value(config.clone())
            .map_err(|e| Error::msg(format!("unmarshalling ImageTagTransformer config: {e}")))?;
        Ok(Self::with_specs(
            c.image_tag,
            from_lenient(c.field_specs).unwrap_or_default(),
        ))
    }

    fn with_specs(image: ImageSpec, field_specs: Vec<FieldSpec>) -> Self {
        let pattern = Regex::new(&format!(
            "^{}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$",
            image.name
        ))
        .map_err(|e| format!("invalid image name {:?}: {e}", image.name));
        ImageTagTransformer {
            image,
            pattern,
            field_specs,
        }
    }

    fn matches(&self, value: &str) -> Result<bool> {
        match &self.pattern {
            Ok(re) => Ok(re.is_match(value)),
            Err(e) => Err(Error::msg(e.clone())),
        }
    }

    /// kustomize's `imageTagUpdater`.
    fn update(&self, v: &mut Value) -> Result<()> {
        let value = scalar_text(v).ok_or_else(|| wrong_node_kind("ScalarNode", v))?;
        if !self.matches(&value)? {
            return Ok(());
        }
        let (name, tag, digest) = split_image(&value);
        let img = &self.image;
        let name = if img.new_name.is_empty() {
            name
        } else {
            &img.new_name
        };
        let (tag, digest): (String, &str) = if !img.new_tag.is_empty() {
            (img.new_tag.clone(), &img.digest)
        } else if !img.digest.is_empty() {
            (String::new(), &img.digest)
        } else if !img.tag_suffix.is_empty() {
            (format!("{tag}{}", img.tag_suffix), "")
        } else {
            (tag.to_owned(), digest)
        };
        let mut out = name.to_owned();
        if !tag.is_empty() {
            out.push(':');
            out.push_str(&tag);
        }
        if !digest.is_empty() {
            out.push('@');
            out.push_str(digest);
        }
        set_scalar_keeping_style(v, out);
        Ok(())
    }

    /// The legacy pass: `image` of the elements of every `containers`/`initContainers` list.
    fn legacy_walk(&self, node: &mut Value) -> Result<()> {
        match node {
            Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    self.legacy_walk(value)?;
                    if key == "containers" || key == "initContainers" {
                        self.update_containers(value)?;
                    }
                }
                Ok(())
            }
            Value::Array(items) => items.iter_mut().try_for_each(|i| self.legacy_walk(i)),
            _ => Ok(()),
        }
    }

    fn update_containers(&self, list: &mut Value) -> Result<()> {
        let Value::Array(items) = list else {
            return Ok(());
        };
        for item in items {
            match item {
                Value::Object(container) => {
                    if let Some(image) = container.get_mut("image") {
                        self.update(image)?;
                    }
                }
                Value::Null => {}
                other => return Err(wrong_node_kind("MappingNode", other)),
            }
        }
        Ok(())
    }
}

/// Splits `[host[:port]/]path[:tag][@digest]` into name, tag and digest (kustomize's
/// `image.Split`): a `:` or `@` before the first `/` belongs to the host.
pub fn split_image(image: &str) -> (&str, &str, &str) {
    let offset = match image.find('/') {
        Some(i) if i > 0 => i,
        _ => 0,
    };
    let search = &image[offset..];
    let at = search.find('@').map(|i| i + offset);
    let colon = search.find(':').map(|i| i + offset);
    match (at, colon) {
        (None, None) => (image, "", ""),
        (Some(d), None) => (&image[..d], "", &image[d + 1..]),
        (Some(d), Some(c)) if d < c => (&image[..d], "", &image[d + 1..]),
        (Some(d), Some(c)) => (&image[..c], &image[c + 1..d], &image[d + 1..]),
        (None, Some(c)) => (&image[..c], &image[c + 1..], ""),
    }
}

fn is_crd(object: &Value) -> bool {
    object.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")
}

impl Transformer for ImageTagTransformer {
    fn transform(&self, resources: &mut ResMap) -> Result<()> {
        for r in resources.iter_mut() {
            if !is_crd(&r.object) {
                self.legacy_walk(&mut r.object)?;
            }
        }
        for r in resources.iter_mut() {
            if is_crd(&r.object) {
                continue;
            }
            let gvk = r.gvk();
            for spec in &self.field_specs {
                apply_field_spec(&mut r.object, &gvk, spec, CreateKind::None, &mut |v| {
                    self.update(v)
                })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Resource;
    use crate::transform::defaults::builtin_field_specs;
    use serde_json::json;

    #[test]
    fn splits_like_kustomize() {
        assert_eq!(split_image("nginx"), ("nginx", "", ""));
        assert_eq!(split_image("nginx:1.0"), ("nginx", "1.0", ""));
        assert_eq!(split_image("nginx@sha256:abc"), ("nginx", "", "sha256:abc"));
        assert_eq!(
            split_image("nginx:1.0@sha256:abc"),
            ("nginx", "1.0", "sha256:abc")
        );
        assert_eq!(split_image("host:5000/app"), ("host:5000/app", "", ""));
        assert_eq!(split_image("host:5000/app:v1"), ("host:5000/app", "v1", ""));
        assert_eq!(
            split_image("host:5000/a/b:v1@sha256:x"),
            ("host:5000/a/b", "v1", "sha256:x")
        );
        assert_eq!(split_image("localhost:5000"), ("localhost", "5000", ""));
    }

    fn image(name: &str) -> ImageSpec {
        ImageSpec {
            name: name.to_owned(),
            ..ImageSpec::default()
        }
    }

    fn run(t: &ImageTagTransformer, object: Value) -> Result<Value> {
        let mut m = ResMap {
            resources: vec![Resource::new(object)],
        };
        t.transform(&mut m)?;
        Ok(m.resources.remove(0).object)
    }

    fn pod(images: &[&str]) -> Value {
        let containers: Vec<Value> = images.iter().map(|i| json!({"image": i})).collect();
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
               "spec": {"containers": containers}})
    }

    #[test]
    fn new_tag_replaces_tag_and_digest() {
        let t = ImageTagTransformer::new(
            ImageSpec {
                new_tag: "2".into(),
                ..image("nginx")
            },
            &builtin_field_specs(),
        );
        let out = run(
            &t,
            pod(&["nginx", "nginx:1@sha256:x", "nginx-other:1", "my/nginx"]),
        )
        .unwrap();
        let got: Vec<&str> = (0..4)
            .map(|i| out["spec"]["containers"][i]["image"].as_str().unwrap())
            .collect();
        assert_eq!(got, ["nginx:2", "nginx:2", "nginx-other:1", "my/nginx"]);
    }

    #[test]
    fn tag_suffix_applies_once_per_pass() {
        let t = ImageTagTransformer::new(
            ImageSpec {
                tag_suffix: "-x".into(),
                ..image("nginx")
            },
            &builtin_field_specs(),
        );
        let out = run(
            &t,
            json!({"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": "d"},
                   "spec": {"template": {"spec": {"containers": [{"image": "nginx:1",
                       "sidecar": {"containers": [{"image": "nginx:2"}]}}]}}}}),
        )
        .unwrap();
        let c = &out["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["image"], "nginx:1-x-x");
        assert_eq!(c["sidecar"]["containers"][0]["image"], "nginx:2-x");
    }

    #[test]
    fn crds_are_left_alone() {
        let t = ImageTagTransformer::new(
            ImageSpec {
                new_name: "other".into(),
                ..image("nginx")
            },
            &builtin_field_specs(),
        );
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                         "metadata": {"name": "a.b"}, "spec": {"containers": [{"image": "nginx"}]}});
        assert_eq!(run(&t, crd.clone()).unwrap(), crd);
    }

    #[test]
    fn name_is_an_unescaped_pattern() {
        let t = ImageTagTransformer::new(
            ImageSpec {
                new_tag: "v2".into(),
                ..image("my.reg/app")
            },
            &builtin_field_specs(),
        );
        let out = run(&t, pod(&["myXreg/app:1"])).unwrap();
        assert_eq!(out["spec"]["containers"][0]["image"], "myXreg/app:v2");
    }

    #[test]
    fn non_scalar_image_is_an_error() {
        let t = ImageTagTransformer::new(image("nginx"), &builtin_field_specs());
        let err = run(
            &t,
            json!({"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"image": {"a": "b"}}]}}),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("wrong node kind: expected ScalarNode but got MappingNode"),
            "{err}"
        );
    }

    #[test]
    fn parses_entries_strictly() {
        let ok =
            parse_images(&[json!({"name": "a", "newTag": "1", "digest": "sha256:x"})]).unwrap();
        assert_eq!(ok[0].new_tag, "1");
        let err = parse_images(&[json!({"name": "a", "newTag": 1.1})]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid Kustomization: json: cannot unmarshal number into Go struct field Image.images.newTag of type string"
        );
        let err = parse_images(&[json!({"name": "a", "tag": "x"})]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid Kustomization: json: unknown field \"tag\""
        );
    }

    #[test]
    fn plugin_config_uses_only_its_specs() {
        let t = ImageTagTransformer::from_plugin_config(
            &json!({"kind": "ImageTagTransformer", "imageTag": {"name": "nginx", "newTag": "9"},
                    "fieldSpecs": [{"path": "spec/runtime/image"}]}),
            &builtin_field_specs(),
        )
        .unwrap();
        let out = run(
            &t,
            json!({"kind": "Foo", "metadata": {"name": "f"},
                   "spec": {"runtime": {"image": "nginx"}, "template": {"spec": {"containers": [{"image": "nginx"}]}}}}),
        )
        .unwrap();
        assert_eq!(out["spec"]["runtime"]["image"], "nginx:9");
        // The legacy walk still finds containers anywhere.
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:9"
        );
    }
}
