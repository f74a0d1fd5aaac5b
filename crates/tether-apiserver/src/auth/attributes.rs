//! What a request asks to do, in authorizer terms (upstream's `authorizer.Attributes`, built as
//! its `RequestInfoFactory` builds them), and the 403 message of a refusal.

use super::UserInfo;
use crate::http::request::{self, Query, Target, Verb};
use crate::selector::FieldSelector;
use crate::status::{ApiError, Qualified};

/// One request to authorize: a verb on a resource (group, namespace, resource, subresource,
/// name) or on a non-resource path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    pub user: UserInfo,
    pub verb: String,
    pub resource_request: bool,
    /// The URL path of a non-resource request.
    pub path: String,
    pub group: String,
    pub version: String,
    pub namespace: String,
    pub resource: String,
    pub subresource: String,
    pub name: String,
}

impl Attributes {
    /// The attributes of an HTTP request by `user`. Server-side apply is `patch`, also when it
    /// creates the object, as upstream authorizes it.
    pub fn from_request(
        user: UserInfo,
        method: &http::Method,
        path: &str,
        query: &Query,
    ) -> Attributes {
        let watch = query.flag("watch").unwrap_or(false);
        let Ok(Target::Resource(req)) = request::parse(method, path, watch) else {
            return Attributes {
                user,
                verb: method.as_str().to_ascii_lowercase(),
                path: path.to_owned(),
                ..Default::default()
            };
        };
        let mut name = req.name.clone().unwrap_or_default();
        // A list or watch of one object by field selector is a request for that name.
        if name.is_empty()
            && matches!(req.verb, Verb::List | Verb::Watch)
            && let Some(selector) = query.get("fieldSelector")
            && let Ok(fields) = FieldSelector::parse(selector, &[])
            && let Some(exact) = fields.exact_name()
            && crate::validation::path_segment_errors(exact).is_empty()
        {
            name = exact.to_owned();
        }
        // `/api/v1/namespaces/<name>` is in the namespace it names.
        let namespace = match (&req.namespace, req.group.as_str(), req.resource.as_str()) {
            (None, "", "namespaces") => req.name.clone().unwrap_or_default(),
            (ns, _, _) => ns.clone().unwrap_or_default(),
        };
        Attributes {
            user,
            verb: crate::http::verb_name(&req.verb).to_owned(),
            resource_request: true,
            path: path.to_owned(),
            group: req.group,
            version: req.version,
            namespace,
            resource: req.resource,
            subresource: req.subresource.unwrap_or_default(),
            name,
        }
    }

    /// Upstream's `forbiddenMessage`: who cannot do what, where.
    pub fn forbidden_message(&self) -> String {
        let user = &self.user.name;
        let verb = &self.verb;
        if !self.resource_request {
            return format!("User {user:?} cannot {verb} path {:?}", self.path);
        }
        let mut resource = self.resource.clone();
        if !self.subresource.is_empty() {
            resource = format!("{resource}/{}", self.subresource);
        }
        let group = &self.group;
        if self.namespace.is_empty() {
            format!(
                "User {user:?} cannot {verb} resource {resource:?} in API group {group:?} at the cluster scope"
            )
        } else {
            format!(
                "User {user:?} cannot {verb} resource {resource:?} in API group {group:?} in the namespace {:?}",
                self.namespace
            )
        }
    }

    /// The 403 of a refusal; a non-empty `reason` (RBAC errors) follows the message.
    pub fn forbidden(&self, reason: &str) -> ApiError {
        let mut why = self.forbidden_message();
        if !reason.is_empty() {
            why = format!("{why}: {reason}");
        }
        let qualified = Qualified {
            group: self.group.clone(),
            resource: self.resource.clone(),
        };
        let qualified = self.resource_request.then_some(&qualified);
        ApiError::forbidden_request(qualified, &self.name, &why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn sa() -> UserInfo {
        UserInfo {
            name: "system:serviceaccount:apps:deployer".into(),
            ..Default::default()
        }
    }

    fn attrs(method: Method, path: &str, query: &str) -> Attributes {
        Attributes::from_request(sa(), &method, path, &Query::parse(Some(query)))
    }

    #[test]
    fn resource_requests_name_verb_group_and_scope() {
        let a = attrs(
            Method::PATCH,
            "/apis/apps/v1/namespaces/apps/deployments/web",
            "fieldManager=x",
        );
        assert_eq!(
            (
                a.verb.as_str(),
                a.group.as_str(),
                a.namespace.as_str(),
                a.name.as_str()
            ),
            ("patch", "apps", "apps", "web")
        );
        assert_eq!(
            a.forbidden("").message,
            "deployments.apps \"web\" is forbidden: User \"system:serviceaccount:apps:deployer\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"apps\""
        );
        let list = attrs(Method::GET, "/api/v1/configmaps", "");
        assert_eq!(
            list.forbidden("").message,
            "configmaps is forbidden: User \"system:serviceaccount:apps:deployer\" cannot list resource \"configmaps\" in API group \"\" at the cluster scope"
        );
        let status = attrs(
            Method::PUT,
            "/apis/apps/v1/namespaces/apps/deployments/web/status",
            "",
        );
        assert!(
            status
                .forbidden("")
                .message
                .contains("cannot update resource \"deployments/status\"")
        );
    }

    #[test]
    fn watches_by_name_namespaces_and_paths() {
        let watch = attrs(
            Method::GET,
            "/api/v1/namespaces/apps/configmaps",
            "watch=true&fieldSelector=metadata.name%3Dsettings",
        );
        assert_eq!(
            (watch.verb.as_str(), watch.name.as_str()),
            ("watch", "settings")
        );
        let ns = attrs(Method::GET, "/api/v1/namespaces/apps", "");
        assert_eq!((ns.namespace.as_str(), ns.name.as_str()), ("apps", "apps"));
        let path = attrs(Method::GET, "/metrics", "");
        assert!(!path.resource_request);
        let err = path.forbidden("");
        assert_eq!(
            err.message,
            "forbidden: User \"system:serviceaccount:apps:deployer\" cannot get path \"/metrics\""
        );
        assert_eq!(err.code, 403);
        let discovery = attrs(Method::GET, "/apis/apps/v1", "");
        assert_eq!(
            (discovery.resource_request, discovery.path.as_str()),
            (false, "/apis/apps/v1")
        );
    }
}
