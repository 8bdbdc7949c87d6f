#!/usr/bin/env python3
"""Cold start to first answer: start portfolio on an EMPTY database folder and
time how long until `GET /health` first answers 200.

    python3 bench/coldstart.py BINARY [--runs 3] [--poll-ms 2] [--timeout 60]

Each run gets a fresh `mktemp -d`-style folder and a free loopback port. The
clock starts just before the process is spawned and stops at the first 200,
so the time includes loading the binary, Rocket's ignite, the migrations, the
first-launch seed (7 users, each an argon2 hash, and 11 posts) and the pools
opening. Polls every --poll-ms over a new connection to 127.0.0.1 only.

Prints one line per run (`cold_start_ms=123.4`) and the server is always
stopped (SIGTERM, then SIGKILL) and its folder removed, even on Ctrl-C or
SIGTERM. Run from the repository root (for Rocket.toml).
"""

import argparse
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SECRET_KEY = "bALgVYaJ3kYV6EI1vccjroNCu0zIH5mnWkqO0OnaElY="


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(folder: str, port: int) -> dict:
    env = dict(os.environ)
    env.update(
        ROCKET_PORT=str(port),
        ROCKET_ADDRESS="127.0.0.1",
        ROCKET_DATABASES='{portfolio={url="%s/portfolio.db"}}' % folder,
        ROCKET_VOLUME_DIR=folder,
        ROCKET_SECRET_KEY=SECRET_KEY,
        PORTFOLIO_ADMIN_PASSWORD=os.environ.get("PORTFOLIO_ADMIN_PASSWORD", "bench-admin-password"),
        ROCKET_LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "critical"),
    )
    return env


def health_status(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/health")
        return conn.getresponse().status
    finally:
        conn.close()


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def one_run(binary: str, poll_s: float, timeout_s: float) -> float:
    folder = tempfile.mkdtemp(prefix="portfolio-cold-")
    port = free_port()
    log = open(os.path.join(folder, "server.log"), "wb")
    process = None
    try:
        start = time.perf_counter()
        process = subprocess.Popen(
            [binary], env=server_env(folder, port), stdout=log, stderr=subprocess.STDOUT
        )
        deadline = start + timeout_s
        while True:
            now = time.perf_counter()
            if process.poll() is not None:
                raise RuntimeError(
                    f"the server exited with {process.returncode} before answering; "
                    f"log: {open(os.path.join(folder, 'server.log')).read()[-2000:]}"
                )
            if now > deadline:
                raise RuntimeError(f"no 200 from /health within {timeout_s} s")
            try:
                if health_status(port) == 200:
                    return (time.perf_counter() - start) * 1000
            except OSError:
                pass
            time.sleep(poll_s)
    finally:
        if process is not None:
            stop(process)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("binary")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--poll-ms", type=float, default=2.0)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per run")
    args = parser.parse_args()

    # SIGTERM (from `timeout` or the bench script) unwinds through the
    # `finally` blocks, so no server is left behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for _ in range(args.runs):
        millis = one_run(os.path.abspath(args.binary), args.poll_ms / 1000, args.timeout)
        print(f"cold_start_ms={millis:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
