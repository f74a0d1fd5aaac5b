//! Leader election against the embedded control plane over HTTPS: one leader at a time, a
//! standby takes over after a graceful release at once and after a crash once the lease expires.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use tether_controller::leader::{LeaderConfig, Leadership};

fn config(identity: &str) -> LeaderConfig {
    LeaderConfig {
        namespace: "default".into(),
        lease_name: "tether-leader-test".into(),
        identity: identity.into(),
        lease_duration: Duration::from_secs(3),
        renew_before: Duration::from_secs(1),
    }
}

async fn holder(client: &kube::Client) -> Option<String> {
    let lease = Api::<Lease>::namespaced(client.clone(), "default")
        .get("tether-leader-test")
        .await
        .unwrap();
    lease.spec.and_then(|s| s.holder_identity)
}

#[tokio::test]
async fn one_leader_and_takeover_after_release_and_after_crash() {
    let server = tether_apiserver::start(tether_apiserver::ServerConfig::ephemeral())
        .await
        .unwrap();
    let client = server.client().await.unwrap();

    let first = Leadership::acquire(client.clone(), config("first"))
        .await
        .unwrap();
    assert_eq!(holder(&client).await.as_deref(), Some("first"));

    // A standby keeps waiting while the first renews (well past one lease duration).
    let standby = tokio::spawn(Leadership::acquire(client.clone(), config("second")));
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        !standby.is_finished(),
        "the standby must not lead while the leader renews"
    );
    assert_eq!(holder(&client).await.as_deref(), Some("first"));

    // Graceful release: the standby takes over without waiting for expiry.
    let released = Instant::now();
    first.release().await.unwrap();
    let second = tokio::time::timeout(Duration::from_secs(10), standby)
        .await
        .expect("standby took over")
        .unwrap()
        .unwrap();
    assert!(
        released.elapsed() < Duration::from_secs(3),
        "{:?}",
        released.elapsed()
    );
    assert_eq!(holder(&client).await.as_deref(), Some("second"));

    // A crash (renewals stop, nothing released): the next instance waits for expiry.
    let third = tokio::spawn(Leadership::acquire(client.clone(), config("third")));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!third.is_finished(), "the lease is held and renewed");
    let crashed = Instant::now();
    second.abandon();
    let third = tokio::time::timeout(Duration::from_secs(20), third)
        .await
        .expect("takeover after expiry")
        .unwrap()
        .unwrap();
    let waited = crashed.elapsed();
    assert!(
        waited < Duration::from_secs(10),
        "took over after {waited:?}"
    );
    assert_eq!(holder(&client).await.as_deref(), Some("third"));
    third.release().await.unwrap();
    server.shutdown().await.unwrap();
}
