# syntax=docker/dockerfile:1
# bullring: one static-ish binary on a slim Debian. Templates and static files are compiled in,
# so the runtime stage holds only the binary, Debian's CA bundle (for rediss://) and a user.

# --- build -----------------------------------------------------------------------------------
FROM rust:1.95-bookworm AS build
WORKDIR /src
# The dependencies first, in a layer of their own (built against empty stand-in sources): it is
# rebuilt only when Cargo.toml or Cargo.lock change, not at every change to bullring's sources.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src tests/it \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs tests/it/main.rs \
    && cargo build --release --locked \
    && rm -rf src target/release/.fingerprint/bullring-* target/release/deps/*bullring*
# Then the sources, the askama templates and the embedded static files: .dockerignore lets
# nothing else into the build context.
COPY . .
RUN cargo build --release --locked \
    && install -D -s -m 0755 target/release/bullring /out/bullring

# --- runtime ---------------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
# Debian's CA bundle (for rediss://), as the build stage's ca-certificates package made it: the
# one file, without the openssl, libssl3 and apt indexes an apt-get install here would add.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN groupadd --system --gid 10001 bullring \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --no-log-init \
        --shell /usr/sbin/nologin bullring
COPY --from=build /out/bullring /usr/local/bin/bullring
USER 10001:10001
# Inside the container the dashboard must listen on every address; that still needs
# --auth basic|proxy or BULLRING_ALLOW_ANONYMOUS=true (see README, Docker).
ENV BULLRING_LISTEN=0.0.0.0:3000
EXPOSE 3000
# GET http://127.0.0.1:3000{base}/healthz with the container's own settings (no curl needed).
HEALTHCHECK --interval=30s --timeout=6s --start-period=10s --retries=3 CMD ["bullring", "healthcheck"]
ENTRYPOINT ["bullring"]
CMD ["serve"]
