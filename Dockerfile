# The controller image that `tether install` and `tether bootstrap` deploy (ghcr.io/tether-gitops/tether).
# Its Deployment passes `controller --storage-path=/data ...` as arguments, runs it as a non-root
# user with a read-only root filesystem, and mounts writable volumes at /data and /tmp.
#
#   docker build -t ghcr.io/tether-gitops/tether:v0.1.0 .
#   tether install --image ghcr.io/tether-gitops/tether:v0.1.0

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p tether \
    && install -D target/release/tether /out/tether

FROM debian:bookworm-slim
# ca-certificates for HTTPS remotes; openssh-client because Git over SSH runs `ssh`; git for
# `tether bootstrap` and `tether dev` when they run in the image.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates openssh-client git \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/tether /usr/local/bin/tether
# The root filesystem is read-only in the Deployment: SSH's known_hosts and Git's config go to /tmp.
ENV HOME=/tmp
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/tether"]
CMD ["controller"]
