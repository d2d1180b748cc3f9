# syntax=docker/dockerfile:1
# bullring: one static-ish binary on a slim Debian. Templates and static files are compiled in,
# so the runtime stage holds only the binary, CA certificates (for rediss://) and a user.

# --- build -----------------------------------------------------------------------------------
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked \
    && install -D -m 0755 target/release/bullring /out/bullring

# --- runtime ---------------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
# Unpinned on purpose: CA certificates should follow Debian's updates, not a frozen version.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin bullring
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
