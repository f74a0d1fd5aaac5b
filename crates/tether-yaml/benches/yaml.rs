//! Parse and print of a few-KiB Deployment, and of a 100-resource stream.
//!
//!   CARGO_TARGET_DIR=... cargo bench -p tether-yaml --bench yaml

use divan::{Bencher, black_box};

const DEPLOYMENT: &str = include_str!("deployment.yaml");

fn main() {
    divan::main();
}

#[divan::bench]
fn parse_deployment(b: Bencher) {
    b.counter(divan::counter::BytesCount::of_str(DEPLOYMENT))
        .bench(|| tether_yaml::parse_documents(black_box(DEPLOYMENT)));
}

#[divan::bench]
fn print_deployment(b: Bencher) {
    let value = tether_yaml::parse_document(DEPLOYMENT).unwrap_or_default();
    b.bench(|| tether_yaml::to_yaml(black_box(&value)));
}

#[divan::bench]
fn parse_and_print_100_resources(b: Bencher) {
    let stream = vec![DEPLOYMENT; 100].join("---\n");
    b.counter(divan::counter::BytesCount::of_str(&stream))
        .bench(|| {
            let docs = tether_yaml::parse_documents(black_box(&stream)).unwrap_or_default();
            docs.iter()
                .map(|d| tether_yaml::to_yaml(&d.value).len())
                .sum::<usize>()
        });
}
