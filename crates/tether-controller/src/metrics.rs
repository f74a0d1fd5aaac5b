//! Prometheus metrics with Flux's names, so dashboards built for Flux keep working:
//! `gotk_reconcile_duration_seconds{kind,name,namespace}` (histogram),
//! `gotk_reconcile_condition{kind,name,namespace,type,status}` (gauge, 1 for the current status),
//! `gotk_suspend_status{kind,name,namespace}` and controller-runtime's
//! `controller_runtime_reconcile_total{controller,result}`.
//! Served as OpenMetrics text on `/metrics`, next to `/healthz` and `/readyz`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::encoding::{EncodeLabelSet, text::encode};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ObjectLabels {
    kind: String,
    name: String,
    namespace: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConditionLabels {
    kind: String,
    name: String,
    namespace: String,
    r#type: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    controller: String,
    result: String,
}

/// How a reconcile ended, for `controller_runtime_reconcile_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconcileResult {
    Success,
    Error,
    Requeue,
}

impl ReconcileResult {
    fn as_str(self) -> &'static str {
        match self {
            ReconcileResult::Success => "success",
            ReconcileResult::Error => "error",
            ReconcileResult::Requeue => "requeue",
        }
    }
}

type DurationFamily = Family<ObjectLabels, Histogram, fn() -> Histogram>;

/// The controllers' metrics; cheap to clone (shared registry).
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    durations: DurationFamily,
    conditions: Family<ConditionLabels, Gauge>,
    suspended: Family<ObjectLabels, Gauge>,
    results: Family<ResultLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn duration_histogram() -> Histogram {
    // 10 ms .. ~3 min, like controller-runtime's default buckets stretched for slow applies.
    Histogram::new(exponential_buckets(0.01, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let durations: DurationFamily = Family::new_with_constructor(duration_histogram);
        let conditions = Family::<ConditionLabels, Gauge>::default();
        let suspended = Family::<ObjectLabels, Gauge>::default();
        let results = Family::<ResultLabels, Counter>::default();
        registry.register(
            "gotk_reconcile_duration_seconds",
            "The duration in seconds of a GitOps Toolkit resource reconciliation",
            durations.clone(),
        );
        registry.register(
            "gotk_reconcile_condition",
            "The current condition status of a GitOps Toolkit resource reconciliation",
            conditions.clone(),
        );
        registry.register(
            "gotk_suspend_status",
            "The current suspend status of a GitOps Toolkit resource",
            suspended.clone(),
        );
        // The counter's exported name gets `_total` appended by the encoder.
        registry.register(
            "controller_runtime_reconcile",
            "Total number of reconciliations per controller",
            results.clone(),
        );
        Metrics {
            registry: Arc::new(registry),
            durations,
            conditions,
            suspended,
            results,
        }
    }

    fn object(kind: &str, namespace: &str, name: &str) -> ObjectLabels {
        ObjectLabels {
            kind: kind.to_owned(),
            name: name.to_owned(),
            namespace: namespace.to_owned(),
        }
    }

    /// Records one finished reconcile of an object.
    pub fn record_reconcile(
        &self,
        controller: &str,
        (kind, namespace, name): (&str, &str, &str),
        took: Duration,
        result: ReconcileResult,
    ) {
        self.durations
            .get_or_create(&Self::object(kind, namespace, name))
            .observe(took.as_secs_f64());
        self.results
            .get_or_create(&ResultLabels {
                controller: controller.to_owned(),
                result: result.as_str().to_owned(),
            })
            .inc();
    }

    /// Sets the gauge of `condition_type` to 1 for `status` and 0 for the other statuses.
    pub fn record_condition(
        &self,
        (kind, namespace, name): (&str, &str, &str),
        condition_type: &str,
        status: &str,
    ) {
        for s in ["True", "False", "Unknown", "Deleted"] {
            self.conditions
                .get_or_create(&ConditionLabels {
                    kind: kind.to_owned(),
                    name: name.to_owned(),
                    namespace: namespace.to_owned(),
                    r#type: condition_type.to_owned(),
                    status: s.to_owned(),
                })
                .set(i64::from(s == status));
        }
    }

    pub fn record_suspend(&self, (kind, namespace, name): (&str, &str, &str), suspended: bool) {
        self.suspended
            .get_or_create(&Self::object(kind, namespace, name))
            .set(i64::from(suspended));
    }

    /// Drops the per-object series of a deleted object.
    pub fn forget(&self, (kind, namespace, name): (&str, &str, &str)) {
        let object = Self::object(kind, namespace, name);
        self.durations.remove(&object);
        self.suspended.remove(&object);
        for s in ["True", "False", "Unknown", "Deleted"] {
            for t in ["Ready", "Reconciling", "Stalled", "Healthy"] {
                self.conditions.remove(&ConditionLabels {
                    kind: kind.to_owned(),
                    name: name.to_owned(),
                    namespace: namespace.to_owned(),
                    r#type: t.to_owned(),
                    status: s.to_owned(),
                });
            }
        }
    }

    /// The OpenMetrics text of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    /// Serves `/metrics`, `/healthz` and `/readyz` on `listener` until `shutdown` resolves.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let metrics = self.clone();
        let app = Router::new()
            .route(
                "/metrics",
                get(move || {
                    let body = metrics.render();
                    async move {
                        (
                            [(
                                header::CONTENT_TYPE,
                                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                            )],
                            body,
                        )
                            .into_response()
                    }
                }),
            )
            .route("/healthz", get(|| async { (StatusCode::OK, "ok") }))
            .route("/readyz", get(|| async { (StatusCode::OK, "ok") }));
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// Binds the metrics address (`127.0.0.1:0` for an ephemeral port).
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_flux_metric_names_with_labels() {
        let m = Metrics::new();
        let obj = ("Kustomization", "flux-system", "apps");
        m.record_reconcile(
            "kustomization",
            obj,
            Duration::from_millis(120),
            ReconcileResult::Success,
        );
        m.record_condition(obj, "Ready", "True");
        m.record_suspend(obj, false);
        let text = m.render();
        assert!(text.contains(
            "gotk_reconcile_duration_seconds_count{kind=\"Kustomization\",name=\"apps\",namespace=\"flux-system\"} 1"
        ), "{text}");
        assert!(text.contains(
            "gotk_reconcile_condition{kind=\"Kustomization\",name=\"apps\",namespace=\"flux-system\",type=\"Ready\",status=\"True\"} 1"
        ), "{text}");
        assert!(text.contains(
            "gotk_reconcile_condition{kind=\"Kustomization\",name=\"apps\",namespace=\"flux-system\",type=\"Ready\",status=\"False\"} 0"
        ), "{text}");
        assert!(text.contains(
            "controller_runtime_reconcile_total{controller=\"kustomization\",result=\"success\"} 1"
        ), "{text}");
        m.forget(obj);
        assert!(!m.render().contains("name=\"apps\""));
    }
}
