#!/usr/bin/env python3
"""Fill a portfolio SQLite database up to N posts, for the benchmarks.

    python3 bench/seed_posts.py DB_PATH [--total 10000] [--template OUT.db]

Run it after the server has migrated and seeded the database (the users must
exist). It inserts the missing posts in one transaction, spreading them over
the existing users, published, with a few hundred characters of Markdown and
distinct, increasing timestamps (UTC, microseconds, all older than "now" so
the app's own posts stay on top of the newest-first listings).

It is safe to run while a server has the database open (WAL mode,
busy_timeout). With --template it then writes a consistent single-file copy
of the whole database (VACUUM INTO) that the benchmark copies for each run.

Prints one line of key=value facts the bench script reads:
    posts=10000 published=10000 id_min=1 id_max=10000 users=7 inserted=9989
"""

import argparse
import datetime as dt
import os
import random
import sqlite3
import sys

WORDS = (
    "lamp filament current voltage wire coil magnet motor engine compiler "
    "bug relay tube signal circuit battery dynamo telegraph cable spark "
    "measure test prototype patent workshop notebook design drawing gear"
).split()


def markdown(rng: random.Random, n: int) -> str:
    """A few hundred characters of Markdown: heading, emphasis, list, link, code."""

    def sentence(k: int) -> str:
        words = [rng.choice(WORDS) for _ in range(k)]
        return " ".join(words).capitalize() + "."

    return (
        f"## Notes, entry {n}\n\n"
        f"{sentence(12)} It was **{rng.choice(WORDS)}** and *{rng.choice(WORDS)}* "
        f"all day. {sentence(10)}\n\n"
        f"- {sentence(5)}\n- {sentence(6)}\n- {sentence(4)}\n\n"
        f"> {sentence(9)}\n\n"
        f"See [the log](https://example.com/log/{n}) and run `make test-{n % 97}`.\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("db", help="path of portfolio.db (already migrated and seeded)")
    parser.add_argument("--total", type=int, default=10000, help="posts wanted in all")
    parser.add_argument("--template", help="write a VACUUM INTO copy here afterwards")
    parser.add_argument("--seed", type=int, default=42, help="random seed (content only)")
    args = parser.parse_args()

    if not os.path.exists(args.db):
        print(f"seed_posts: no database at {args.db}", file=sys.stderr)
        return 1

    rng = random.Random(args.seed)
    conn = sqlite3.connect(args.db, timeout=30, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    user_ids = [row[0] for row in conn.execute("SELECT id FROM users ORDER BY id")]
    if not user_ids:
        print("seed_posts: no users yet; start the server once so it seeds", file=sys.stderr)
        return 1

    existing = conn.execute("SELECT count(*) FROM posts").fetchone()[0]
    missing = max(0, args.total - existing)
    if missing:
        # Oldest first, one second and a few microseconds apart, ending a day
        # before now: distinct and increasing with the id.
        start = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(
            days=1, seconds=missing
        )
        rows = []
        for i in range(missing):
            stamp = (start + dt.timedelta(seconds=i, microseconds=rng.randrange(1, 999_999)))
            text = stamp.strftime("%Y-%m-%d %H:%M:%S.%f")
            n = existing + i + 1
            rows.append(
                (
                    user_ids[i % len(user_ids)],
                    f"Benchmark post {n}: {rng.choice(WORDS)} and {rng.choice(WORDS)}",
                    markdown(rng, n),
                    text,
                    text,
                )
            )
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT INTO posts (user_id, title, content, image, published, views, "
                "created_at, updated_at) VALUES (?, ?, ?, NULL, 1, 0, ?, ?)",
                rows,
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    posts, published, id_min, id_max = conn.execute(
        "SELECT count(*), sum(published), min(id), max(id) FROM posts"
    ).fetchone()
    # The read scenarios pick ids uniformly in [id_min, id_max]: every id in
    # between must be a published post, or anonymous reads would get 404s.
    gaps = id_max - id_min + 1 - published
    if args.template:
        if os.path.exists(args.template):
            os.remove(args.template)
        conn.execute("VACUUM INTO ?", (args.template,))
    conn.close()
    print(
        f"posts={posts} published={published} id_min={id_min} id_max={id_max} "
        f"users={len(user_ids)} inserted={missing} id_gaps={gaps}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
