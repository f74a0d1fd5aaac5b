//! Kubernetes-flavoured YAML: multi-document streams and emission identical to kustomize.
//!
//! Keeps key order, scalar style and tags, so output can be byte-identical to kustomize v5.6.0.
//!
//! Not built yet: issue 3 brings it. The crate exists so the workspace has the shape of
//! `ARCHITECTURE.md` from the start.
