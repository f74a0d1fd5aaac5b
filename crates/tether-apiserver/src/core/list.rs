//! List: selectors, paging with consistent continue tokens, and resourceVersion semantics
//! (`""` most recent, `"0"` any, `N` not older than N, or exactly N with `resourceVersionMatch`).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tether_store::{ListRequest, Object};

use super::Core;
use crate::registry::Resource;
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RvMatch {
    NotOlderThan,
    Exact,
}

#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
    pub resource_version: Option<String>,
    pub rv_match: Option<RvMatch>,
}

#[derive(Debug, Clone)]
pub struct ListResult {
    pub items: Vec<Arc<Object>>,
    pub revision: u64,
    pub continue_token: Option<String>,
    pub remaining: Option<u64>,
}

/// How long a list for a resourceVersion newer than the store's waits before answering 504.
const WAIT_FOR_REVISION: Duration = Duration::from_secs(3);

pub fn parse_revision(rv: &str) -> Result<u64, ApiError> {
    rv.parse::<u64>().map_err(|_| {
        ApiError::invalid(
            "meta.k8s.io",
            "ListOptions",
            "",
            vec![crate::status::Cause::new(
                "FieldValueInvalid",
                "resourceVersion",
                format!("Invalid value: {rv:?}: must be an unsigned integer"),
            )],
        )
    })
}

fn encode_continue(revision: u64, prefix: &str, last_key: &str) -> String {
    let start = format!("{}\u{0}", last_key.strip_prefix(prefix).unwrap_or(last_key));
    let token = json!({"v": "meta.k8s.io/v1", "rv": revision, "start": start});
    URL_SAFE_NO_PAD.encode(token.to_string())
}

/// The revision and the key to continue after.
fn decode_continue(token: &str, prefix: &str) -> Result<(u64, String), ApiError> {
    let bad = |why: &str| {
        ApiError::bad_request(format!(
            "invalid continue token: continue key is not valid: {why}"
        ))
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| bad("not base64"))?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| bad("not JSON"))?;
    if value.get("v").and_then(Value::as_str) != Some("meta.k8s.io/v1") {
        return Err(bad(
            "incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        ));
    }
    let revision = value
        .get("rv")
        .and_then(Value::as_u64)
        .filter(|rv| *rv > 0)
        .ok_or_else(|| bad("no revision"))?;
    let start = value
        .get("start")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no start key"))?;
    let relative = start.strip_suffix('\u{0}').unwrap_or(start);
    if relative.split('/').any(|s| s == "..") {
        return Err(bad("key contains '..'"));
    }
    Ok((revision, format!("{prefix}{relative}")))
}

/// kube-apiserver's `ValidateListOptions` for `resourceVersionMatch`: every violation is a cause
/// of one 422.
fn validate_match(opts: &ListOptions) -> Result<(), ApiError> {
    let Some(m) = opts.rv_match else {
        return Ok(());
    };
    let rv = opts.resource_version.as_deref().unwrap_or("");
    let mut causes = vec![];
    let mut forbid = |detail: &str| {
        causes.push(crate::status::Cause::new(
            "FieldValueForbidden",
            "resourceVersionMatch",
            format!("Forbidden: {detail}"),
        ))
    };
    if rv.is_empty() {
        forbid("resourceVersionMatch is forbidden unless resourceVersion is provided");
    }
    if opts.continue_token.is_some() {
        forbid("resourceVersionMatch is forbidden when continue is provided");
    }
    if m == RvMatch::Exact && rv == "0" {
        forbid("resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"");
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid("meta.k8s.io", "ListOptions", "", causes))
    }
}

impl Core {
    pub async fn list(
        &self,
        r: &Resource,
        namespace: Option<&str>,
        opts: &ListOptions,
    ) -> Result<ListResult, ApiError> {
        validate_match(opts)?;
        let prefix = r.prefix(namespace);
        let (at_revision, start_after) = if let Some(token) = &opts.continue_token {
            // "0" (any) is allowed with a continue token, as upstream allows it.
            if opts
                .resource_version
                .as_deref()
                .is_some_and(|rv| !rv.is_empty() && rv != "0")
            {
                return Err(ApiError::bad_request(
                    "specifying resource version is not allowed when using continue",
                ));
            }
            let (rv, start) = decode_continue(token, &prefix)?;
            (Some(rv), Some(start))
        } else {
            (self.list_revision(opts).await?, None)
        };
        let labels = &opts.labels;
        let fields = &opts.fields;
        let filter = |o: &Object| labels.matches(&o.value) && fields.matches(&o.value);
        let filtered = !labels.is_empty() || !fields.is_empty();
        let request = ListRequest {
            prefix: &prefix,
            at_revision,
            start_after: start_after.as_deref(),
            limit: opts.limit.filter(|l| *l > 0),
            filter: if filtered { Some(&filter) } else { None },
        };
        let page = self.store.list(request).map_err(|err| match err {
            tether_store::Error::Expired { requested, oldest } if opts.continue_token.is_some() => {
                ApiError::expired(format!(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter. (revision {requested} is older than {oldest})"
                ))
            }
            // etcd3's interpretListError: an Exact read at a compacted revision.
            tether_store::Error::Expired { .. } => {
                ApiError::expired("The resourceVersion for the provided list is too old.")
            }
            tether_store::Error::FutureRevision { requested, current } => {
                ApiError::too_large_resource_version(requested, current)
            }
            other => ApiError::internal(other.to_string()),
        })?;
        Ok(ListResult {
            continue_token: page
                .next_key
                .as_deref()
                .map(|k| encode_continue(page.revision, &prefix, k)),
            remaining: page.remaining,
            revision: page.revision,
            items: page.items,
        })
    }

    /// The revision a list without a continue token reads at (`None`: current).
    async fn list_revision(&self, opts: &ListOptions) -> Result<Option<u64>, ApiError> {
        // The match rules (none without a version, no Exact at "0") were enforced by
        // `validate_match` before this.
        let rv = opts.resource_version.as_deref().filter(|rv| !rv.is_empty());
        match (rv, opts.rv_match) {
            (None | Some("0"), _) => Ok(None),
            (Some(rv), Some(RvMatch::Exact)) => Ok(Some(parse_revision(rv)?)),
            (Some(rv), _) => {
                let wanted = parse_revision(rv)?;
                self.wait_for_revision(wanted).await?;
                Ok(None)
            }
        }
    }

    /// Waits briefly until the store has reached `wanted`; 504 if it does not.
    pub async fn wait_for_revision(&self, wanted: u64) -> Result<(), ApiError> {
        let deadline = tokio::time::Instant::now() + WAIT_FOR_REVISION;
        while self.store.revision() < wanted {
            if tokio::time::Instant::now() >= deadline {
                return Err(ApiError::too_large_resource_version(
                    wanted,
                    self.store.revision(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_version_match_is_validated_as_upstream() {
        let opts = |rv: Option<&str>, m: RvMatch, token: Option<&str>| ListOptions {
            resource_version: rv.map(str::to_owned),
            rv_match: Some(m),
            continue_token: token.map(str::to_owned),
            ..Default::default()
        };
        let err = validate_match(&opts(None, RvMatch::Exact, None)).unwrap_err();
        assert_eq!((err.code, err.reason), (422, "Invalid"));
        assert_eq!(
            err.message,
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
        );
        let err = validate_match(&opts(Some("0"), RvMatch::Exact, Some("t"))).unwrap_err();
        assert_eq!(err.details.unwrap().causes.len(), 2);
        assert!(validate_match(&opts(Some("0"), RvMatch::NotOlderThan, None)).is_ok());
        assert!(validate_match(&ListOptions::default()).is_ok());
    }

    #[test]
    fn continue_tokens_round_trip() {
        let token = encode_continue(42, "/configmaps/", "/configmaps/demo/b");
        let (rv, start) = decode_continue(&token, "/configmaps/").unwrap();
        assert_eq!((rv, start.as_str()), (42, "/configmaps/demo/b"));
        let err = decode_continue("%%%", "/x/").unwrap_err();
        assert_eq!(err.code, 400);
        assert!(
            err.message
                .starts_with("invalid continue token: continue key is not valid: "),
            "{}",
            err.message
        );
        let evil = URL_SAFE_NO_PAD.encode(r#"{"v":"meta.k8s.io/v1","rv":1,"start":"../x\u0000"}"#);
        assert!(decode_continue(&evil, "/x/").is_err());
    }
}
