//! Git sources: fetch, ref resolution, ignore rules, artifacts and the artifact server.
//!
//! Produces tar.gz artifacts with a sha256 digest and revisions like `main@sha1:<40 hex>`.
//!
//! Not built yet: issue 4 brings it. The crate exists so the workspace has the shape of
//! `ARCHITECTURE.md` from the start.
