//! Impersonation (upstream's `WithImpersonation` filter): the `Impersonate-*` headers switch the
//! request's user once the caller is authorized to `impersonate` each thing it asks for.

use std::collections::BTreeMap;

use http::HeaderMap;

use super::{
    ANONYMOUS, AUTHENTICATED, Attributes, UNAUTHENTICATED, UserInfo, authorize,
    service_account_groups, split_service_account,
};
use crate::core::Core;
use crate::status::ApiError;

const USER: &str = "impersonate-user";
const GROUP: &str = "impersonate-group";
const UID: &str = "impersonate-uid";
const EXTRA_PREFIX: &str = "impersonate-extra-";

/// One thing a request asks to impersonate, as the attributes it is authorized with.
fn request(requestor: &UserInfo, group: &str, resource: &str) -> Attributes {
    Attributes {
        user: requestor.clone(),
        verb: "impersonate".into(),
        resource_request: true,
        group: group.into(),
        version: "v1".into(),
        resource: resource.into(),
        ..Default::default()
    }
}

fn values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

/// Extra keys travel percent-encoded in header names (`Impersonate-Extra-Scopes`).
fn extra_key(encoded: &str) -> String {
    let lower = encoded.to_ascii_lowercase();
    percent_decode(&lower).unwrap_or(lower)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The user a request acts as: `requestor`, or whom its `Impersonate-*` headers name when it
/// may impersonate them (403 naming the first it may not).
pub fn impersonate(
    core: &Core,
    requestor: UserInfo,
    headers: &HeaderMap,
) -> Result<UserInfo, ApiError> {
    let user = values(headers, USER).first().copied().unwrap_or("");
    let groups = values(headers, GROUP);
    let uid = values(headers, UID).first().copied().unwrap_or("");
    let mut extras: Vec<(String, &str)> = vec![];
    for (name, value) in headers {
        if let Some(key) = name.as_str().strip_prefix(EXTRA_PREFIX)
            && let Ok(value) = value.to_str()
        {
            extras.push((extra_key(key), value));
        }
    }
    if user.is_empty() {
        if groups.is_empty() && extras.is_empty() && uid.is_empty() {
            return Ok(requestor);
        }
        return Err(ApiError::bad_request(
            "requested impersonation of groups, extra fields or a uid without impersonating a user",
        ));
    }

    let mut checks = vec![];
    let mut impersonated = UserInfo {
        name: user.to_owned(),
        uid: uid.to_owned(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        extra: BTreeMap::new(),
    };
    match split_service_account(user) {
        Some((namespace, name)) => {
            let mut a = request(&requestor, "", "serviceaccounts");
            a.namespace = namespace.into();
            a.name = name.into();
            checks.push(a);
            if groups.is_empty() {
                impersonated.groups = service_account_groups(namespace);
            }
        }
        None => {
            let mut a = request(&requestor, "", "users");
            a.name = user.into();
            checks.push(a);
        }
    }
    for group in &groups {
        let mut a = request(&requestor, "", "groups");
        a.name = (*group).into();
        checks.push(a);
    }
    for (key, value) in extras {
        let mut a = request(&requestor, "authentication.k8s.io", "userextras");
        a.subresource = key.clone();
        a.name = value.into();
        checks.push(a);
        impersonated
            .extra
            .entry(key)
            .or_default()
            .push(value.to_owned());
    }
    if !uid.is_empty() {
        let mut a = request(&requestor, "authentication.k8s.io", "uids");
        a.name = uid.into();
        checks.push(a);
    }
    for attrs in &checks {
        let decision = authorize(core, attrs);
        if !decision.allowed {
            return Err(attrs.forbidden(&decision.reason));
        }
    }

    // Everyone but the anonymous user is authenticated, unless the caller said otherwise.
    let has = |g: &str| impersonated.groups.iter().any(|x| x == g);
    if user == ANONYMOUS {
        if !has(UNAUTHENTICATED) {
            impersonated.groups.push(UNAUTHENTICATED.into());
        }
    } else if !has(AUTHENTICATED) && !has(UNAUTHENTICATED) {
        impersonated.groups.push(AUTHENTICATED.into());
    }
    Ok(impersonated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_keys_are_lowercased_and_percent_decoded() {
        assert_eq!(extra_key("Scopes"), "scopes");
        assert_eq!(extra_key("example.com%2Frole"), "example.com/role");
        assert_eq!(extra_key("bad%zz"), "bad%zz");
    }
}
