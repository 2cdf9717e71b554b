# Tessera in a container: built in a full Rust image, run from a slim Debian as a non-root user.
#
#   docker build -t tessera .
#   docker run -p 7791:7791 -v tessera-data:/var/lib/tessera \
#     -e TESSERA_PUBLIC_URL=http://localhost:7791 tessera
#
# With Postgres, see docker-compose.yml. Configuration is the same environment variables as
# outside a container (README, "Configuration").

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The registry and target caches make rebuilds incremental; the binary is copied out of them.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p server --bin tessera \
    && cp target/release/tessera /usr/local/bin/tessera

FROM debian:bookworm-slim
# ca-certificates for outgoing HTTPS (upstream providers, jwks_uri, metadata documents);
# curl for the health check. Versions follow the base image's security updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/tessera --create-home tessera
COPY --from=build /usr/local/bin/tessera /usr/local/bin/tessera
USER 10001:10001
WORKDIR /var/lib/tessera
# SQLite (and its generated master key file) on the volume unless TESSERA_DATABASE_URL says
# otherwise; JSON logs for log shippers; a few seconds for load balancers to notice a stop.
ENV TESSERA_BIND=0.0.0.0:7791 \
    TESSERA_DATABASE_URL=sqlite:///var/lib/tessera/tessera.db?mode=rwc \
    TESSERA_LOG_FORMAT=json \
    TESSERA_SHUTDOWN_DELAY=5
VOLUME ["/var/lib/tessera"]
EXPOSE 7791
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["curl", "--fail", "--silent", "--show-error", "--output", "/dev/null", "http://127.0.0.1:7791/readyz"]
ENTRYPOINT ["/usr/local/bin/tessera"]
CMD ["serve"]
