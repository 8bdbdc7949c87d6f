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
# The app's user: uid and gid 1000, the usual first user on a Linux host, so
# files in ./volumes read as the host's user's (an ordinary user, not a
# --system one: a system uid must be below 1000).
RUN groupadd --gid 1000 portfolio \
    && useradd --uid 1000 --gid 1000 --no-create-home --home-dir /app \
       --shell /usr/sbin/nologin portfolio \
    && mkdir -p /volumes \
    && chown portfolio:portfolio /volumes
WORKDIR /app
COPY --from=build /src/target/release/portfolio /usr/local/bin/portfolio
COPY Rocket.toml ./Rocket.toml

ENV ROCKET_PROFILE=release \
    ROCKET_ADDRESS=0.0.0.0 \
    ROCKET_PORT=8086 \
    ROCKET_VOLUME_DIR=/volumes \
    ROCKET_DATABASES='{portfolio={url="/volumes/portfolio.db"}}' \
    PORTFOLIO_RUN_AS_VOLUME_OWNER=1
# ROCKET_SECRET_KEY comes from the environment (docker-compose: .env).

# No USER: the container starts as root only so that every command can
# first become the owner of /volumes (PORTFOLIO_RUN_AS_VOLUME_OWNER, see
# src/cli/run_as.rs). A folder owned by root (a checkout made as root, or
# one Docker made for the bind mount) is first given to PORTFOLIO_UID:
# PORTFOLIO_GID (1000:1000). Nothing runs as root after that first step.
VOLUME /volumes
EXPOSE 8086
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["portfolio", "healthcheck"]
# SIGTERM (docker stop) lets in-flight requests finish and checkpoints the WAL.
STOPSIGNAL SIGTERM
CMD ["portfolio", "serve"]
