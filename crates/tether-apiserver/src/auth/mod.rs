//! Who a request is and what it may do, decided as kube-apiserver's filter chain decides it.
//!
//! 1. Authentication: the admin bearer token is the user [`ADMIN_USER`] in the groups
//!    `system:masters` and `system:authenticated`; further [`StaticToken`]s from the server's
//!    configuration are their users. Without a token only the public health and version paths
//!    answer.
//! 2. Impersonation ([`impersonate`]): `Impersonate-User`, `Impersonate-Group`,
//!    `Impersonate-Uid` and `Impersonate-Extra-*` switch the user when the caller may
//!    `impersonate` each of them; a service account user gets its groups.
//! 3. Authorization ([`authorize`]): `system:masters` may do anything; everyone else is
//!    authorized by RBAC ([`rbac`]) from the Roles, ClusterRoles and their bindings in the
//!    store, with upstream's 403 messages. [`bootstrap`] creates upstream's default roles and
//!    bindings (`cluster-admin`, `admin`, `edit`, `view`, discovery) at start.
//!
//! [`review`] answers `authorization.k8s.io` access reviews with the same authorizer, so
//! `kubectl auth can-i` works.

mod attributes;
pub mod bootstrap;
mod impersonate;
pub mod rbac;
pub mod review;

use std::collections::BTreeMap;

pub use attributes::Attributes;
pub use impersonate::impersonate;

use crate::core::Core;
use crate::status::ApiError;

/// The user the admin token authenticates as.
pub const ADMIN_USER: &str = "tether-admin";
/// The group authorization lets do anything.
pub const MASTERS: &str = "system:masters";
pub const AUTHENTICATED: &str = "system:authenticated";
pub const UNAUTHENTICATED: &str = "system:unauthenticated";
pub const ANONYMOUS: &str = "system:anonymous";
const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";

/// An authenticated (or impersonated) user, as upstream's `user.Info`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
    pub extra: BTreeMap<String, Vec<String>>,
}

impl UserInfo {
    /// The holder of the admin token.
    pub fn admin() -> UserInfo {
        UserInfo {
            name: ADMIN_USER.into(),
            groups: vec![MASTERS.into(), AUTHENTICATED.into()],
            ..Default::default()
        }
    }

    /// The user as authentication hands it on: in `system:authenticated`, as upstream adds it
    /// to every authenticated user.
    pub fn authenticated(&self) -> UserInfo {
        let mut user = self.clone();
        if !user.groups.iter().any(|g| g == AUTHENTICATED) {
            user.groups.push(AUTHENTICATED.into());
        }
        user
    }

    /// Authorization does not apply to `system:masters`.
    pub fn is_master(&self) -> bool {
        self.groups.iter().any(|g| g == MASTERS)
    }
}

/// A further bearer token and the user it authenticates (upstream's `--token-auth-file`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticToken {
    pub token: String,
    pub user: UserInfo,
}

/// `system:serviceaccount:<namespace>:<name>` split, when both parts are valid names (else the
/// user is an ordinary user, as upstream's `serviceaccount.SplitUsername` decides).
pub fn split_service_account(user: &str) -> Option<(&str, &str)> {
    let rest = user.strip_prefix(SERVICE_ACCOUNT_PREFIX)?;
    let (namespace, name) = rest.split_once(':')?;
    let valid = !name.contains(':')
        && crate::validation::dns1123_label_errors(namespace).is_empty()
        && crate::validation::dns1123_subdomain_errors(name).is_empty();
    valid.then_some((namespace, name))
}

/// The groups every service account of `namespace` is in.
pub fn service_account_groups(namespace: &str) -> Vec<String> {
    vec![
        "system:serviceaccounts".into(),
        format!("system:serviceaccounts:{namespace}"),
    ]
}

/// An authorizer's answer; `reason` explains an allow or carries errors met on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub reason: String,
}

/// Whether `attrs.user` may do what `attrs` describe.
pub fn authorize(core: &Core, attrs: &Attributes) -> Decision {
    if attrs.user.is_master() {
        return Decision {
            allowed: true,
            reason: String::new(),
        };
    }
    rbac::authorize(&rbac::StorePolicy::new(core), attrs)
}

/// [`authorize`], as the 403 upstream answers a refusal with.
pub fn check(core: &Core, attrs: &Attributes) -> Result<(), ApiError> {
    let decision = authorize(core, attrs);
    if decision.allowed {
        Ok(())
    } else {
        Err(attrs.forbidden(&decision.reason))
    }
}
