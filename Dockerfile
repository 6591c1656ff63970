# syntax=docker/dockerfile:1
# The skubridge image: the release binary on distroless (glibc, CA certificates, no
# shell), running as the unprivileged user 65532. One container runs one command, then
# exits; run it every 5 minutes (a Kubernetes CronJob: deploy/kubernetes/).
#
#   docker build -t skubridge .
#   docker run --rm --env-file mystore.env \
#     -v /etc/skubridge/mystore.toml:/etc/skubridge/skubridge.toml:ro \
#     -v skubridge-mystore:/var/lib/skubridge skubridge

ARG RUST_VERSION=1

FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src
COPY . .
# The caches speed up rebuilds; the binary is copied out of the cached target directory.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin skubridge \
 && install -D -m 755 target/release/skubridge /out/skubridge \
 && mkdir -p /out/state

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/skubridge /usr/local/bin/skubridge
# The state directory (database and lock file), owned by the user that writes it.
COPY --from=build --chown=65532:65532 /out/state /var/lib/skubridge
ENV SKUBRIDGE_CONFIG=/etc/skubridge/skubridge.toml
USER 65532:65532
WORKDIR /var/lib/skubridge
VOLUME ["/var/lib/skubridge"]
ENTRYPOINT ["/usr/local/bin/skubridge"]
# --db keeps the database on the volume whatever `database` says in the config (a
# relative path there is relative to the config, under the read-only /etc/skubridge).
CMD ["--db", "/var/lib/skubridge/skubridge.db", "sync"]
