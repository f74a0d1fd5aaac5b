//! Decoding a protobuf Deployment body, against parsing the same object from JSON (plainly, and
//! through the request decoder that notes duplicate fields).
//!
//! `cargo bench -p tether-apiserver --bench protobuf`

use std::hint::black_box;

fn main() {
    divan::main();
}

/// A message under construction, written field by field.
#[derive(Default, Clone)]
struct M(Vec<u8>);

impl M {
    fn key(mut self, tag: u32, wire: u8) -> Self {
        varint(u64::from(tag) << 3 | u64::from(wire), &mut self.0);
        self
    }
    fn int(self, tag: u32, v: u64) -> Self {
        let mut m = self.key(tag, 0);
        varint(v, &mut m.0);
        m
    }
    fn bytes(self, tag: u32, b: &[u8]) -> Self {
        let mut m = self.key(tag, 2);
        varint(b.len() as u64, &mut m.0);
        m.0.extend_from_slice(b);
        m
    }
    fn str(self, tag: u32, s: &str) -> Self {
        self.bytes(tag, s.as_bytes())
    }
    fn msg(self, tag: u32, inner: M) -> Self {
        self.bytes(tag, &inner.0)
    }
    fn entry(self, tag: u32, key: &str, value: M) -> Self {
        self.msg(tag, M::default().str(1, key).msg(2, value))
    }
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A Deployment of the size a chart renders: labels, three containers with ports, env,
/// resources, probes and mounts, and a volume.
fn deployment() -> Vec<u8> {
    let labels = |m: M| {
        (0..6).fold(m, |m, i| {
            m.entry(
                11,
                &format!("app.kubernetes.io/label-{i}"),
                M::default().str(2, "value"),
            )
        })
    };
    let meta = labels(
        M::default()
            .str(1, "web")
            .str(3, "demo")
            .msg(8, M::default()),
    );
    let quantity = |q: &str| M::default().str(1, q);
    let container = |i: usize| {
        let mut c = M::default()
            .str(1, &format!("c{i}"))
            .str(2, "registry.example.com/app:1.2.3")
            .msg(6, M::default().str(1, "http").int(3, 8080).str(4, "TCP"));
        for e in 0..8 {
            c = c.msg(
                7,
                M::default()
                    .str(1, &format!("ENV_{e}"))
                    .str(2, "some value"),
            );
        }
        c.msg(
            8,
            M::default()
                .entry(1, "cpu", quantity("500m"))
                .entry(1, "memory", quantity("256Mi"))
                .entry(2, "cpu", quantity("100m")),
        )
        .msg(9, M::default().str(1, "config").str(3, "/etc/app"))
        .msg(
            11,
            M::default()
                .msg(
                    1,
                    M::default().msg(
                        2,
                        M::default()
                            .str(1, "/healthz")
                            .msg(2, M::default().int(1, 1).str(3, "http")),
                    ),
                )
                .int(3, 10),
        )
        .str(13, "/dev/termination-log")
        .str(14, "IfNotPresent")
    };
    let volume = M::default().str(1, "config").msg(
        2,
        M::default().msg(19, M::default().msg(1, M::default().str(1, "app-config"))),
    );
    let pod = (0..3)
        .fold(M::default().msg(1, volume), |p, i| p.msg(2, container(i)))
        .str(3, "Always")
        .int(4, 30);
    let spec = M::default()
        .int(1, 3)
        .msg(2, M::default().entry(1, "app", M::default().str(2, "web")))
        .msg(
            3,
            M::default()
                .msg(1, labels(M::default().msg(8, M::default())))
                .msg(2, pod),
        )
        .msg(4, M::default().str(1, "RollingUpdate"));
    let object = M::default().msg(1, meta).msg(2, spec);
    let unknown = M::default()
        .msg(1, M::default().str(1, "apps/v1").str(2, "Deployment"))
        .msg(2, object);
    let mut body = b"k8s\0".to_vec();
    body.extend_from_slice(&unknown.0);
    body
}

#[divan::bench]
fn decode_protobuf(bencher: divan::Bencher) {
    let body = deployment();
    bencher
        .counter(divan::counter::BytesCount::of_slice(&body))
        .bench(|| tether_apiserver::protobuf::decode(black_box(&body)));
}

/// The same object from its JSON form: what a JSON client costs the server.
#[divan::bench]
fn parse_json(bencher: divan::Bencher) {
    let value = tether_apiserver::protobuf::decode(&deployment()).expect("the body decodes");
    let json = serde_json::to_vec(&value).expect("serialise");
    bencher
        .counter(divan::counter::BytesCount::of_slice(&json))
        .bench(|| serde_json::from_slice::<serde_json::Value>(black_box(&json)));
}

/// The same JSON through the request decoder, which also notes fields given twice
/// (`fieldValidation`): what that bookkeeping costs over a plain parse.
#[divan::bench]
fn decode_json_request_body(bencher: divan::Bencher) {
    let value = tether_apiserver::protobuf::decode(&deployment()).expect("the body decodes");
    let json = serde_json::to_vec(&value).expect("serialise");
    bencher
        .counter(divan::counter::BytesCount::of_slice(&json))
        .bench(|| tether_apiserver::http::decode(black_box(&json), false));
}
