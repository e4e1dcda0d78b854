# syntax=docker/dockerfile:1
# The cassink image: the worker (`cassink worker`, the default command) and the sample
# producers (`cassink produce ...`). Used by docker-compose.yml; builds on its own too:
#
#   docker build -t cassink:local .
#   docker run -p 8083:8083 -e CONNECT_BOOTSTRAP_SERVERS=kafka:9092 cassink:local

# ---- build ---------------------------------------------------------------------------------
FROM rust:1-bookworm AS builder
# librdkafka and zstd are built from source by their -sys crates (C and C++ compilers,
# make); pkg-config finds the system zlib and OpenSSL.
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config libssl-dev zlib1g-dev g++ make \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /build
# The whole workspace is needed (cargo loads every member's manifest); .dockerignore keeps
# the context to the sources.
COPY . .
# The commit GET / reports (.git is not in the context): --build-arg CASSINK_GIT_COMMIT=$(git rev-parse HEAD)
ARG CASSINK_GIT_COMMIT=unknown
# The cache mounts keep the registry and target dir across builds (BuildKit); the binary is
# copied out of the cached target dir in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/build/target \
    cargo build --release --locked -p cassink \
 && install -D -m 0755 target/release/cassink /out/cassink

# ---- runtime -------------------------------------------------------------------------------
FROM debian:bookworm-slim
# curl for the health check and the compose init scripts, jq for connectors-init.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 curl jq \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 cassink \
 && useradd --system --uid 10001 --gid cassink --home-dir /var/lib/cassink \
      --shell /usr/sbin/nologin cassink \
 && install -d -o cassink -g cassink -m 0750 /var/lib/cassink
COPY --from=builder /out/cassink /usr/local/bin/cassink
# Worker settings in the Confluent convention (CONNECT_<KEY> -> <key>); override at run time.
ENV CONNECT_REST_PORT=8083 \
    CONNECT_STATE_DIR=/var/lib/cassink \
    RUST_LOG=info
USER cassink
WORKDIR /var/lib/cassink
# Connector configs, target states and statuses (state.dir): keep them on a volume.
VOLUME ["/var/lib/cassink"]
EXPOSE 8083
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${CONNECT_REST_PORT:-8083}/health" || exit 1
CMD ["cassink", "worker"]
