//! Turning a request path and query into what is asked: group, version, namespace, resource,
//! name, subresource and verb (kube-apiserver's `RequestInfoFactory`).

use std::collections::HashMap;

use crate::status::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    DeleteCollection,
}

/// A request for a resource, parsed from `/api/v1/...` or `/apis/<group>/<version>/...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRequest {
    pub group: String,
    pub version: String,
    pub namespace: Option<String>,
    pub resource: String,
    pub name: Option<String>,
    pub subresource: Option<String>,
    pub verb: Verb,
}

/// What a path addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `/api`: the legacy group's versions.
    LegacyRoot,
    /// `/apis`: the group list.
    GroupsRoot,
    /// `/apis/<group>`: one group.
    Group(String),
    /// `/api/v1`, `/apis/<group>/<version>`: a group version's resources.
    GroupVersion {
        group: String,
        version: String,
    },
    Resource(ResourceRequest),
}

/// Parses `path` with `method` and the `watch` query flag.
pub fn parse(method: &http::Method, path: &str, watch_param: bool) -> Result<Target, ApiError> {
    let segments: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let (group, version, rest) = match segments.as_slice() {
        ["api"] => return Ok(Target::LegacyRoot),
        ["apis"] => return Ok(Target::GroupsRoot),
        ["apis", group] => return Ok(Target::Group((*group).to_owned())),
        ["api", version] => {
            return Ok(Target::GroupVersion {
                group: String::new(),
                version: (*version).to_owned(),
            });
        }
        ["apis", group, version] => {
            return Ok(Target::GroupVersion {
                group: (*group).to_owned(),
                version: (*version).to_owned(),
            });
        }
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Err(ApiError::no_such_resource()),
    };
    let (legacy_watch, rest) = match rest {
        ["watch", rest @ ..] => (true, rest),
        rest => (false, rest),
    };
    // `namespaces/<ns>/<resource>...` addresses namespaced content, but `namespaces/<name>` and
    // `namespaces/<name>/{status,finalize}` address the namespace itself.
    let (namespace, parts): (Option<&str>, &[&str]) = match rest {
        ["namespaces", ns, next, ..] if !matches!(*next, "status" | "finalize") => {
            (Some(*ns), &rest[2..])
        }
        _ => (None, rest),
    };
    let (resource, name, subresource) = match parts {
        [resource] => (*resource, None, None),
        [resource, name] => (*resource, Some(*name), None),
        [resource, name, sub] => (*resource, Some(*name), Some(*sub)),
        _ => return Err(ApiError::no_such_resource()),
    };
    let watch = legacy_watch || watch_param;
    let verb = match (method.as_str(), name.is_some(), watch) {
        ("GET" | "HEAD", _, true) => Verb::Watch,
        ("GET" | "HEAD", true, false) => Verb::Get,
        ("GET" | "HEAD", false, false) => Verb::List,
        ("POST", _, _) => Verb::Create,
        ("PUT", true, _) => Verb::Update,
        ("PATCH", true, _) => Verb::Patch,
        ("DELETE", true, _) => Verb::Delete,
        ("DELETE", false, _) => Verb::DeleteCollection,
        _ => return Err(ApiError::method_not_allowed()),
    };
    for segment in [Some(resource), name, subresource, namespace]
        .into_iter()
        .flatten()
    {
        if segment == "." || segment == ".." {
            return Err(ApiError::no_such_resource());
        }
    }
    Ok(Target::Resource(ResourceRequest {
        group: group.to_owned(),
        version: version.to_owned(),
        namespace: namespace.map(str::to_owned),
        resource: resource.to_owned(),
        name: name.map(str::to_owned),
        subresource: subresource.map(str::to_owned),
        verb,
    }))
}

/// Query parameters, decoded. Repeated keys keep the first value, as Go's `url.Values.Get`.
#[derive(Debug, Default, Clone)]
pub struct Query(HashMap<String, String>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        let mut map = HashMap::new();
        for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
        }
        Query(map)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A boolean parameter as kube-apiserver's query decoder reads it
    /// (`runtime.Convert_Slice_string_To_bool`): absent, `0` and `false` (any case) are false;
    /// anything else, even an empty value, is true.
    pub fn flag(&self, key: &str) -> Result<bool, ApiError> {
        Ok(self.optional_flag(key)?.unwrap_or(false))
    }

    pub fn optional_flag(&self, key: &str) -> Result<Option<bool>, ApiError> {
        Ok(self
            .0
            .get(key)
            .map(|v| !(v == "0" || v.eq_ignore_ascii_case("false"))))
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        self.get(key)
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    ApiError::bad_request(format!(
                        "invalid value for {key}: strconv.ParseInt: parsing \"{v}\": invalid syntax"
                    ))
                })
            })
            .transpose()
    }

    /// `dryRun=All` (the only value upstream accepts).
    pub fn dry_run(&self) -> Result<bool, ApiError> {
        match self.get("dryRun") {
            None => Ok(false),
            Some("All") => Ok(true),
            Some(other) => Err(ApiError::bad_request(format!(
                "invalid dry run option: {other:?}: supported values are \"All\""
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn resource(method: Method, path: &str, watch: bool) -> ResourceRequest {
        match parse(&method, path, watch).unwrap() {
            Target::Resource(r) => r,
            other => panic!("not a resource request: {other:?}"),
        }
    }

    #[test]
    fn namespaced_object() {
        let r = resource(
            Method::GET,
            "/apis/apps/v1/namespaces/demo/deployments/web",
            false,
        );
        assert_eq!(r.group, "apps");
        assert_eq!(r.namespace.as_deref(), Some("demo"));
        assert_eq!(r.resource, "deployments");
        assert_eq!(r.name.as_deref(), Some("web"));
        assert_eq!(r.verb, Verb::Get);
    }

    #[test]
    fn namespace_itself_and_its_subresources() {
        let r = resource(Method::GET, "/api/v1/namespaces/demo", false);
        assert_eq!(
            (r.namespace, r.resource.as_str(), r.name.as_deref()),
            (None, "namespaces", Some("demo"))
        );
        let r = resource(Method::PUT, "/api/v1/namespaces/demo/finalize", false);
        assert_eq!(r.subresource.as_deref(), Some("finalize"));
        assert_eq!(r.verb, Verb::Update);
        let r = resource(Method::GET, "/api/v1/namespaces", false);
        assert_eq!(r.verb, Verb::List);
    }

    #[test]
    fn verbs_from_method_and_shape() {
        assert_eq!(
            resource(Method::GET, "/api/v1/configmaps", true).verb,
            Verb::Watch
        );
        assert_eq!(
            resource(
                Method::GET,
                "/api/v1/watch/namespaces/a/configmaps/x",
                false
            )
            .verb,
            Verb::Watch
        );
        assert_eq!(
            resource(Method::DELETE, "/api/v1/namespaces/a/configmaps", false).verb,
            Verb::DeleteCollection
        );
        assert_eq!(
            resource(Method::POST, "/api/v1/namespaces/a/configmaps", false).verb,
            Verb::Create
        );
        let status = resource(
            Method::PATCH,
            "/apis/apps/v1/namespaces/a/deployments/web/status",
            false,
        );
        assert_eq!(
            (status.verb, status.subresource.as_deref()),
            (Verb::Patch, Some("status"))
        );
        assert!(parse(&Method::PUT, "/api/v1/namespaces/a/configmaps", false).is_err());
    }

    #[test]
    fn discovery_paths() {
        assert_eq!(
            parse(&Method::GET, "/apis", false).unwrap(),
            Target::GroupsRoot
        );
        assert_eq!(
            parse(&Method::GET, "/apis/apps/v1", false).unwrap(),
            Target::GroupVersion {
                group: "apps".into(),
                version: "v1".into()
            }
        );
        assert!(parse(&Method::GET, "/apis/apps/v1/a/b/c/d", false).is_err());
    }

    #[test]
    fn query_flags() {
        let q = Query::parse(Some("watch=1&limit=500&labelSelector=app%3Dweb&dryRun=All"));
        assert!(q.flag("watch").unwrap());
        assert_eq!(q.int("limit").unwrap(), Some(500));
        assert_eq!(q.get("labelSelector"), Some("app=web"));
        assert!(q.dry_run().unwrap());
        // Upstream: only absent, "0" and "false" are false.
        assert!(Query::parse(Some("watch=maybe")).flag("watch").unwrap());
        assert!(Query::parse(Some("watch=")).flag("watch").unwrap());
        assert!(!Query::parse(Some("watch=FALSE")).flag("watch").unwrap());
        assert!(!Query::parse(Some("watch=0")).flag("watch").unwrap());
    }
}
