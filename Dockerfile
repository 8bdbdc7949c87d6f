# syntax=docker/dockerfile:1
#
# portfolio in a container: `docker compose up --build` (see README).
# The database lives on the /volumes volume; back up that whole folder
# (SQLite's WAL keeps -wal and -shm files beside the database).

# ---- Build: a release binary with SQLite compiled in. ----
FROM rust:1-bookworm AS build
WORKDIR /src

# Dependencies first, in a layer of their own: it is rebuilt only when
# Cargo.toml or Cargo.lock change, not on every source edit.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src

# templates/, static/ and migrations/ are compiled into the binary.
COPY build.rs ./
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY src ./src
# Newer timestamps than the stub's, so cargo rebuilds our crate.
RUN touch src/main.rs src/lib.rs && cargo build --release --locked

# ---- Runtime: a small Debian, the binary, a non-root user. ----
# Pages and styles are built into the binary; Rocket.toml only documents the
# settings. To restyle without rebuilding, mount a folder of templates/ and
# static/ overrides and set ROCKET_THEME_DIR to it (see README).
FROM debian:bookworm-slim AS runtime
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin portfolio \
    && mkdir -p /volumes \
    && chown portfolio:portfolio /volumes
WORKDIR /app
COPY --from=build /src/target/release/portfolio /usr/local/bin/portfolio
COPY Rocket.toml ./Rocket.toml

ENV ROCKET_PROFILE=release \
    ROCKET_ADDRESS=0.0.0.0 \
    ROCKET_PORT=8086 \
    ROCKET_VOLUME_DIR=/volumes \
    ROCKET_DATABASES='{portfolio={url="/volumes/portfolio.db"}}'
# ROCKET_SECRET_KEY comes from the environment (docker-compose: .env).

USER portfolio
VOLUME /volumes
EXPOSE 8086
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["portfolio", "healthcheck"]
# SIGTERM (docker stop) lets in-flight requests finish and checkpoints the WAL.
STOPSIGNAL SIGTERM
CMD ["portfolio", "serve"]
