#!/usr/bin/env python3
"""Build a portfolio SQLite database of SIZE posts, for the scaling benchmark.

    python3 bench/make_db.py SIZE OUT.db [--bin target/release/portfolio] [--seed 42]

Standard library only. Steps:

1. `portfolio db migrate` and `portfolio db seed` on an empty volume folder
   (so the schema, its triggers and the 7 demo users / 11 demo posts, with
   the demo image in `uploads/`, are exactly what the app makes itself).
2. Insert SIZE/100 writers (`writer00001`, ...; role 'user'; the demo user
   hop's argon2id hash, so every writer's password is `portfolio-demo`).
3. Insert posts up to SIZE in all, in big transactions, through the schema's
   own triggers (they keep users.published_posts/draft_posts, user_totals,
   post_totals and the FTS5 index posts_search current; nothing here writes
   those).
   - Skewed over the writers: writer00001 gets 5 % of the inserted posts,
     the others a share proportional to rank^-0.5 (a long tail).
   - Every 20th inserted post is a draft (published = 0): 5 %.
   - Titles and a few hundred characters of Markdown from a small
     vocabulary: "lamp" is in most posts (a common search word),
     "zeppelin" in 1 of every 10,000 inserted posts (a rare one; always
     published).
   - created_at = updated_at, distinct and increasing with the id, spread
     over two years and ending a day before now ('YYYY-MM-DD HH:MM:SS.ffffff',
     UTC), so the demo posts stay the newest.
4. post_daily_views for the last 7 days (UTC, today included): 20 % of the
   posts get 1-3 daily rows of 1..50 views (never before the post's day);
   posts.views is set at insert time to those plus some older views.
   Then tags: "lamp" on every 5th post (a huge tag), "topic-N" on every
   3rd, "zeppelin" on every 10,000th (the triggers count them); and
   comments: one on every 50th published post, 20,000 on the "busy post".
5. Checkpoint the WAL (TRUNCATE), switch the file to journal_mode=DELETE
   (self-contained: one file, no -wal/-shm), move it to OUT.db. The demo
   image goes to OUT's stem + ".uploads/" (e.g. posts-10000.uploads/), to be
   copied as the volume's uploads/ folder. A key=value summary goes to
   OUT.db + ".facts" and to stdout.

Trending counts days relative to "today": a database built on another day
shows fewer (or no) trending posts. bench/scaling.sh rebuilds cached
databases that were not built today (UTC).
"""

import argparse
import datetime as dt
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

WORDS = (
    "lamp filament current voltage wire coil magnet motor engine compiler "
    "bug relay tube signal circuit battery dynamo telegraph cable spark "
    "measure test prototype patent workshop notebook design drawing gear"
).split()
RARE_WORD = "zeppelin"
COMMON_WORD = "lamp"
FIRST_NAMES = (
    "Ada Alan Anna Boris Clara Dora Emil Erik Greta Hanna Ida Ivan Jonas Karl "
    "Lena Lise Max Mira Nora Otto Paul Rosa Sven Tess Ugo Vera Walt Yara Zoe"
).split()
LAST_NAMES = (
    "Ampere Babbage Carnot Dalton Faraday Gauss Hertz Joule Kelvin Lorentz "
    "Maxwell Noether Ohm Pascal Planck Volta Watt Weber Young Zuse"
).split()

DRAFT_EVERY = 20          # inserted post i is a draft when i % 20 == 19
RARE_EVERY = 10_000       # one "zeppelin" post in every 10,000 inserted
HEAVY_SHARE = 0.05        # writer00001's share of the inserted posts
TAIL_EXPONENT = 0.5       # the others: share ~ rank ** -0.5
SPAN = dt.timedelta(days=730)
TREND_DAYS = 7
TREND_SHARE = 0.20
POSTS_PER_TXN = 100_000
FMT = "%Y-%m-%d %H:%M:%S.%f"
EPOCH = dt.datetime(1970, 1, 1)


def log(msg: str) -> None:
    print(f"make_db: {msg}", file=sys.stderr, flush=True)


def stamp(micros: int) -> str:
    return (EPOCH + dt.timedelta(microseconds=micros)).strftime(FMT)


def markdown(rng: random.Random, n: int, rare: bool) -> str:
    """A few hundred characters of Markdown: heading, emphasis, list, quote, link, code."""
    choices = rng.choices

    def sentence(k: int) -> str:
        return " ".join(choices(WORDS, k=k)).capitalize() + "."

    a, b = choices(WORDS, k=2)
    rare_line = f"Also seen: a {RARE_WORD} over the workshop.\n\n" if rare else ""
    return (
        f"## Notes, entry {n}\n\n"
        f"{sentence(12)} It was **{a}** and *{b}* all day. {sentence(10)}\n\n"
        f"- {sentence(5)}\n- {sentence(6)}\n- {sentence(4)}\n\n"
        f"{rare_line}"
        f"> {sentence(9)}\n\n"
        f"See [the log](https://example.com/log/{n}) and run `make test-{n % 97}`.\n"
    )


def writer_counts(posts: int, writers: int) -> list:
    """Posts per writer (index 0 = writer00001): 5 % for the first, the rest
    by rank ** -0.5, largest remainders rounded up; every writer gets >= 1
    when there are enough posts."""
    if writers == 1:
        return [posts]
    heavy = round(posts * HEAVY_SHARE)
    rest = posts - heavy
    weights = [(k + 2) ** -TAIL_EXPONENT for k in range(writers - 1)]
    total = sum(weights)
    exact = [rest * w / total for w in weights]
    counts = [int(x) for x in exact]
    short = rest - sum(counts)
    order = sorted(range(len(exact)), key=lambda k: exact[k] - counts[k], reverse=True)
    for k in order[:short]:
        counts[k] += 1
    return [heavy] + counts


def run_cli(binary: str, volume: str, db: str, *args: str) -> None:
    env = dict(os.environ)
    env.update(
        ROCKET_DATABASES='{portfolio={url="%s"}}' % db,
        ROCKET_VOLUME_DIR=volume,
        ROCKET_LOG_LEVEL="critical",
        PORTFOLIO_ADMIN_PASSWORD=env.get("PORTFOLIO_ADMIN_PASSWORD", "bench-admin-password"),
    )
    done = subprocess.run([binary, *args], env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"make_db: `portfolio {' '.join(args)}` failed (exit {done.returncode})")
    for line in (done.stdout + done.stderr).strip().splitlines():
        log(f"  portfolio {' '.join(args)}: {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("size", type=int, help="posts in all (demo posts included)")
    parser.add_argument("out", help="the database file to write (replaced if it exists)")
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument(
        "--bin",
        default=os.environ.get("PORTFOLIO_BIN", os.path.join(here, "..", "target", "release", "portfolio")),
        help="the portfolio binary (default: target/release/portfolio)",
    )
    parser.add_argument("--users", type=int, help="writers to add (default: size/100, at least 1)")
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    args = parser.parse_args()

    t0 = time.monotonic()
    out = os.path.abspath(args.out)
    stem = out[:-3] if out.endswith(".db") else out
    uploads_out = stem + ".uploads"
    writers = args.users if args.users else max(1, args.size // 100)
    rng = random.Random(args.seed)
    binary = os.path.abspath(args.bin)
    if not os.access(binary, os.X_OK):
        log(f"no binary at {binary} (cargo build --release --locked)")
        return 1
    os.makedirs(os.path.dirname(out), exist_ok=True)

    work = tempfile.mkdtemp(prefix=os.path.basename(stem) + ".build.", dir=os.path.dirname(out))
    try:
        db = os.path.join(work, "portfolio.db")
        # 1. The app's own schema and demo data.
        run_cli(binary, work, db, "db", "migrate")
        run_cli(binary, work, db, "db", "seed")
        t_seed = time.monotonic()

        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA cache_size = -524288")  # 512 MiB
        conn.execute("PRAGMA temp_store = MEMORY")
        existing = conn.execute("SELECT count(*) FROM posts").fetchone()[0]
        n = max(0, args.size - existing)
        hash_row = conn.execute(
            "SELECT password_hash FROM users WHERE uid = 'hop' OR role = 'user' ORDER BY uid != 'hop', id LIMIT 1"
        ).fetchone()
        if hash_row is None:
            log("the seeded database has no user to copy a password hash from")
            return 1
        password_hash = hash_row[0]

        now_us = int((dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - EPOCH) / dt.timedelta(microseconds=1))
        end_us = now_us - 86_400_000_000          # a day before now
        span_us = int(SPAN / dt.timedelta(microseconds=1))
        start_us = end_us - span_us
        today = dt.datetime.now(dt.timezone.utc).date()
        first_trend_day = today - dt.timedelta(days=TREND_DAYS - 1)

        # 2. Writers, a minute apart, older than every post.
        conn.execute("BEGIN")
        user_rows = []
        for k in range(1, writers + 1):
            created = stamp(start_us - (writers - k + 1) * 60_000_000)
            name = f"{FIRST_NAMES[k % len(FIRST_NAMES)]} {LAST_NAMES[(k // len(FIRST_NAMES)) % len(LAST_NAMES)]} {k}"
            user_rows.append((f"writer{k:05d}", name, password_hash, created, created))
        conn.executemany(
            "INSERT INTO users (uid, name, email, password_hash, dob, role, created_at, updated_at) "
            "VALUES (?, ?, NULL, ?, NULL, 'user', ?, ?)",
            user_rows,
        )
        conn.execute("COMMIT")
        writer_ids = [row[0] for row in conn.execute(
            "SELECT id FROM users WHERE uid GLOB 'writer[0-9]*' ORDER BY uid")]
        assert len(writer_ids) == writers, (len(writer_ids), writers)
        t_users = time.monotonic()
        log(f"{writers} writers inserted in {t_users - t_seed:.1f} s")

        # 3. Posts, oldest first.
        owners = []
        for uid, count in zip(writer_ids, writer_counts(n, writers)):
            owners.extend([uid] * count)
        rng.shuffle(owners)
        rare_at = min(4321, max(0, n - 1))
        if rare_at % DRAFT_EVERY == DRAFT_EVERY - 1:
            rare_at -= 1
        step = max(2, span_us // max(1, n))
        trend_rows = []
        (id_before,) = conn.execute("SELECT coalesce(max(id), 0) FROM posts").fetchone()
        t_posts = time.monotonic()
        done = 0
        while done < n:
            batch = []
            for i in range(done, min(n, done + POSTS_PER_TXN)):
                created_us = start_us + i * step + rng.randrange(step)
                created = stamp(created_us)
                published = 0 if i % DRAFT_EVERY == DRAFT_EVERY - 1 else 1
                rare = i % RARE_EVERY == rare_at
                number = existing + i + 1
                a, b = rng.choices(WORDS, k=2)
                title = f"Post {number}: {a} and {b}"
                views = rng.randrange(0, 200)
                if rng.random() < TREND_SHARE:
                    created_day = (EPOCH + dt.timedelta(microseconds=created_us)).date()
                    first = max(first_trend_day, created_day)
                    days = [first + dt.timedelta(days=d) for d in range((today - first).days + 1)]
                    if days:
                        for day in rng.sample(days, min(len(days), rng.randint(1, 3))):
                            v = rng.randint(1, 50)
                            views += v
                            trend_rows.append((i, day.isoformat(), v))
                batch.append((owners[i], title, markdown(rng, number, rare), published, views, created, created))
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO posts (user_id, title, content, image, published, views, created_at, updated_at) "
                "VALUES (?, ?, ?, NULL, ?, ?, ?, ?)",
                batch,
            )
            conn.execute("COMMIT")
            done += len(batch)
            elapsed = time.monotonic() - t_posts
            log(f"posts {done}/{n} ({done / max(elapsed, 1e-9):.0f}/s, {elapsed:.1f} s)")
        t_posts_done = time.monotonic()

        # The inserted posts got ids id_first, id_first + 1, ... (rowids
        # follow the largest one; nothing else writes meanwhile).
        id_first = id_before + 1
        (check,) = conn.execute("SELECT count(*) FROM posts WHERE id >= ?", (id_first,)).fetchone()
        assert check == n, (check, n)

        # 4. Daily views of the last week.
        if trend_rows:
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO post_daily_views (post_id, day, views) VALUES (?, ?, ?)",
                ((id_first + i, day, v) for i, day, v in trend_rows),
            )
            conn.execute("COMMIT")
        t_views = time.monotonic()
        log(f"{len(trend_rows)} daily view rows in {t_views - t_posts_done:.1f} s")

        # 4b. Tags, through the schema's triggers (tags.posts; post_tags
        # copies each post's published and updated_at): "lamp" on every
        # 5th inserted post (a huge tag, 20 %), "topic-0".."topic-99" on
        # every 3rd (about 0.33 % each), "zeppelin" on every 10,000th.
        conn.execute("BEGIN")
        conn.execute("INSERT OR IGNORE INTO tags (name) VALUES ('lamp'), ('zeppelin')")
        conn.executemany("INSERT OR IGNORE INTO tags (name) VALUES (?)",
                         ((f"topic-{k}",) for k in range(100)))
        conn.execute(
            "INSERT INTO post_tags (post_id, tag_id, published, updated_at) "
            "SELECT p.id, t.id, p.published, p.updated_at FROM posts p JOIN tags t ON t.name = 'lamp' "
            "WHERE p.id >= ? AND p.id % 5 = 0", (id_first,))
        conn.execute(
            "INSERT INTO post_tags (post_id, tag_id, published, updated_at) "
            "SELECT p.id, t.id, p.published, p.updated_at FROM posts p JOIN tags t ON t.name = 'topic-' || (p.id % 100) "
            "WHERE p.id >= ? AND p.id % 3 = 0", (id_first,))
        conn.execute(
            "INSERT INTO post_tags (post_id, tag_id, published, updated_at) "
            "SELECT p.id, t.id, p.published, p.updated_at FROM posts p JOIN tags t ON t.name = 'zeppelin' "
            "WHERE p.id >= ? AND p.published AND p.id % 10000 = 7", (id_first,))
        conn.execute("COMMIT")
        t_tags = time.monotonic()
        log(f"tags in {t_tags - t_views:.1f} s")

        # 4c. Comments (the triggers keep posts.comments): one on every 50th
        # published post, and 20,000 on the newest inserted published post
        # (a post whose comments run to 400 pages), by writers in turn.
        (busy_post,) = conn.execute(
            "SELECT max(id) FROM posts WHERE published AND id >= ?", (id_first,)).fetchone()
        stamp_now = stamp(end_us)
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO comments (post_id, user_id, body, created_at, updated_at) "
            "SELECT id, user_id, 'A comment on post ' || id || ': *lamp* and wire.', updated_at, updated_at "
            "FROM posts WHERE id >= ? AND published AND id % 50 = 0", (id_first,))
        writer_ids = [row[0] for row in conn.execute("SELECT id FROM users WHERE uid LIKE 'writer%' ORDER BY id LIMIT 1000")]
        conn.executemany(
            "INSERT INTO comments (post_id, user_id, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            ((busy_post, writer_ids[k % len(writer_ids)], f"Comment {k} on the busy post.", stamp_now, stamp_now)
             for k in range(20_000)))
        conn.execute("COMMIT")
        t_comments = time.monotonic()
        log(f"comments in {t_comments - t_tags:.1f} s")

        # Facts, and a check that the triggers did their work.
        posts, published, id_min, id_max = conn.execute(
            "SELECT count(*), sum(published), min(id), max(id) FROM posts").fetchone()
        (totals,) = conn.execute("SELECT published FROM post_totals WHERE id = 1").fetchone()
        (users_total,) = conn.execute("SELECT users FROM user_totals WHERE id = 1").fetchone()
        (users,) = conn.execute("SELECT count(*) FROM users").fetchone()
        (counted,) = conn.execute("SELECT sum(published_posts) FROM users").fetchone()
        heavy_id, heavy_posts = conn.execute(
            "SELECT id, published_posts + draft_posts FROM users WHERE uid = 'writer00001'").fetchone()
        (fts_common,) = conn.execute(
            "SELECT count(*) FROM posts_search WHERE posts_search MATCH ?", (COMMON_WORD,)).fetchone()
        (fts_rare,) = conn.execute(
            "SELECT count(*) FROM posts_search WHERE posts_search MATCH ?", (RARE_WORD,)).fetchone()
        (daily,) = conn.execute("SELECT count(*) FROM post_daily_views").fetchone()
        (big_tag,) = conn.execute("SELECT posts FROM tags WHERE name = 'lamp'").fetchone()
        (big_tag_counted,) = conn.execute(
            "SELECT count(*) FROM post_tags pt JOIN tags t ON t.id = pt.tag_id "
            "WHERE t.name = 'lamp' AND pt.published").fetchone()
        (busy_comments,) = conn.execute("SELECT comments FROM posts WHERE id = ?", (busy_post,)).fetchone()
        problems = []
        if busy_comments < 20_000:
            problems.append(f"posts.comments={busy_comments} for the busy post, which has 20,000 or more")
        if big_tag != big_tag_counted:
            problems.append(f"tags.posts={big_tag} for lamp but {big_tag_counted} published posts carry it")
        if totals != published:
            problems.append(f"post_totals.published={totals} but {published} published posts")
        if users_total != users:
            problems.append(f"user_totals.users={users_total} but {users} users")
        if counted != published:
            problems.append(f"sum(users.published_posts)={counted} but {published} published posts")

        # 5. One self-contained file.
        t_ck = time.monotonic()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.close()
        if os.path.exists(out):
            os.remove(out)
        for suffix in ("-wal", "-shm"):
            if os.path.exists(out + suffix):
                os.remove(out + suffix)
        os.replace(db, out)
        if os.path.isdir(uploads_out):
            shutil.rmtree(uploads_out)
        if os.path.isdir(os.path.join(work, "uploads")):
            shutil.move(os.path.join(work, "uploads"), uploads_out)
        t_end = time.monotonic()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    facts = {
        "size": args.size,
        "posts": posts,
        "published": published,
        "drafts": posts - published,
        "users": users,
        "writers": writers,
        "id_min": id_min,
        "id_max": id_max,
        "heavy_uid": "writer00001",
        "heavy_id": heavy_id,
        "heavy_posts": heavy_posts,
        "common_word": COMMON_WORD,
        "common_hits": fts_common,
        "rare_word": RARE_WORD,
        "rare_hits": fts_rare,
        "daily_view_rows": daily,
        "busy_post": busy_post,
        "big_tag": "lamp",
        "big_tag_posts": big_tag,
        "built_utc_day": today.isoformat(),
        "db_bytes": os.path.getsize(out),
        "seed_s": f"{t_seed - t0:.1f}",
        "posts_s": f"{t_posts_done - t_posts:.1f}",
        "finish_s": f"{t_end - t_ck:.1f}",
        "total_s": f"{t_end - t0:.1f}",
        "problems": len(problems),
    }
    line = " ".join(f"{k}={v}" for k, v in facts.items())
    with open(out + ".facts", "w") as f:
        f.write("\n".join(f"{k}={v}" for k, v in facts.items()) + "\n")
    for p in problems:
        log(f"PROBLEM: {p}")
    log(f"wrote {out} ({facts['db_bytes'] / 1048576:.1f} MiB) in {t_end - t0:.1f} s")
    print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
