//! tether's controllers: the GitRepository and Kustomization reconcilers, leader election and
//! metrics. (Work in progress for issue 4: the reconcilers land on top of tether-source,
//! tether-build and tether-apply.)

pub mod leader;
pub mod metrics;
