//! The artifact store over HTTP, as source-controller serves its storage: `GET /<path>` returns
//! the file, anything else is 404. No directory listings, no hidden or temporary files, no
//! `..`, no percent-encoded paths.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::Response;

use crate::{ArtifactError, ArtifactStore};

/// A running artifact server; stops when dropped.
#[derive(Debug)]
pub struct ArtifactServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl ArtifactServer {
    /// Serves the files under `root` on `addr` (port 0 picks one; see [`addr`](Self::addr)).
    /// Must be called within a Tokio runtime.
    pub async fn start(root: impl Into<PathBuf>, addr: SocketAddr) -> Result<Self, ArtifactError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ArtifactError::Serve {
                addr: addr.to_string(),
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ArtifactError::Serve {
                addr: addr.to_string(),
                source,
            })?;
        // The advertised host does not matter for serving; only the root does.
        let store = ArtifactStore::new(root, addr.to_string())?;
        let app = axum::Router::new().fallback(move |uri: Uri| serve_file(store.clone(), uri));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("artifact server on {addr}: {e}");
            }
        });
        Ok(ArtifactServer { addr, task })
    }

    /// The bound address: what to pass as the store's advertised host.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for ArtifactServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn status(code: StatusCode) -> Response {
    let mut response = Response::new(Body::from(
        code.canonical_reason().unwrap_or_default().to_owned() + "\n",
    ));
    *response.status_mut() = code;
    response
}

async fn serve_file(store: ArtifactStore, uri: Uri) -> Response {
    let raw = uri.path();
    let Some(rel) = raw.strip_prefix('/') else {
        return status(StatusCode::NOT_FOUND);
    };
    if rel.contains('%') {
        return status(StatusCode::NOT_FOUND);
    }
    let Ok(path) = store.local_path(rel) else {
        return status(StatusCode::NOT_FOUND);
    };
    // symlink_metadata: a link planted in the store is not followed out of it.
    match tokio::fs::symlink_metadata(&path).await {
        Ok(meta) if meta.is_file() => {}
        _ => return status(StatusCode::NOT_FOUND),
    }
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let mut response = Response::new(Body::from(bytes));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/gzip"),
            );
            response
        }
        Err(_) => status(StatusCode::NOT_FOUND),
    }
}
