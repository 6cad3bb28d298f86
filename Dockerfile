# firegate: a small, non-root runtime image. Keys are mounted at run time, never baked in.
# Key files are mode 0600, so run as their owner (or chown them to 65532, the image's user):
#   docker run -p 8080:8080 --user "$(id -u):$(id -g)" -v "$PWD/keys:/keys:ro" firegate
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# webauthn-rs (passkeys) links OpenSSL: headers and pkg-config to build; the runtime image
# below carries libssl3.
RUN apt-get update && apt-get install -y --no-install-recommends libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock ./
COPY .cargo ./.cargo
COPY src ./src
COPY templates ./templates
COPY messages ./messages
COPY benches ./benches
RUN cargo build --release --locked --bin firegate

# glibc, libgcc and OpenSSL's libssl3 (distroless's base); runs as uid 65532 ("nonroot").
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/firegate /usr/local/bin/firegate
# GLIBC_TUNABLES: glibc's malloc asks for transparent huge pages (madvise) on its large
# blocks, so argon2's 19 MiB of working memory faults in as ten 2 MiB pages instead of ~4,900
# small ones: a faster first sign-in, the same resident memory (the book's "Benchmarks"; a no-op
# where the kernel's transparent_hugepage setting is "never"). scripts/bench.sh runs firegate
# under this environment too.
ENV FIREGATE_KEYS_DIR=/keys \
    FIREGATE_LOG_FORMAT=json \
    GLIBC_TUNABLES=glibc.malloc.hugetlb=1
USER nonroot:nonroot
EXPOSE 8080
# Cloud Run sets PORT; firegate listens on 0.0.0.0:$PORT (8080 when unset).
ENTRYPOINT ["/usr/local/bin/firegate", "serve"]
