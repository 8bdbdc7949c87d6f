#!/usr/bin/env bash
# The app's hot routes as a share of the framework's ceiling, measured in one
# run. Run by hand (never by CI); see bench/README.md, "The ceiling".
#
#   bash bench/ceiling.sh                          # 3 rounds of 10 s per route
#   BENCH_ROUNDS=1 BENCH_SECONDS=3 bash bench/ceiling.sh   # a smoke run
#
# The ceiling is bench/ceiling.rs: Rocket alone (same version, same release
# profile: `cargo build --release --example ceiling`), answering the hot
# routes' shapes with the app's own bodies, no database, template or
# fairing. The app runs on the 10,000-post database of the scaling benchmark
# (make_db.py). Rounds alternate ceiling and app, route by route, each on a
# fresh server (and a fresh copy of the database), so drift in the VM's
# speed falls on both alike. Reports each route's req/s and p99 and the
# app's share of the ceiling (medians over the rounds), and the peak RSS
# of the app under the mixed load, to bench/results/ceiling-latest.md.
# Uses target/release/portfolio and target/release/examples/ceiling as
# they are: build them first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/scaling_lib.sh"

ROUNDS=${BENCH_ROUNDS:-3}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
SIZE=${BENCH_SIZE:-10000}
CEILING=${BENCH_CEILING:-$ROOT/target/release/examples/ceiling}
RESULTS_MD=${BENCH_RESULTS:-$BENCH_DIR/results/ceiling-latest.md}
[[ -x $CEILING ]] || die "no ceiling at $CEILING (cargo build --release --example ceiling)"
[[ $BACKEND == sqlite ]] || die "the ceiling is measured on SQLite"

echo "== portfolio and its framework's ceiling: $ROUNDS round(s), wrk -t$THREADS -c$CONNECTIONS -d${SECONDS_PER_RUN}s, $SIZE posts"
machine_note
ensure_db "$SIZE"
FACTS=$WORK/facts
mkdir -p "$FACTS"
db_facts "$(db_path "$SIZE")" "$FACTS" >"$FACTS/facts"

# The paths: random published posts through the API, and the same posts'
# pages at their readable addresses (a page asked for by id answers 301).
head -2000 "$FACTS/post_ids" | sed 's|^|/api/posts/|' >"$WORK/api_post"
fresh_server "$SIZE" paths
head -2000 "$FACTS/post_ids" | sed 's|^|/posts/|' >"$WORK/by_id"
resolve_moved "$WORK/by_id" "$WORK/post_page"
echo "/" >"$WORK/home"
echo "/api/posts" >"$WORK/api_posts"
echo "/posts" >"$WORK/post_list"
# The bodies the ceiling sends: the app's own answers for one post.
first_api=$(head -1 "$WORK/api_post")
first_page=$(head -1 "$WORK/post_page")
curl -sS --max-time 10 "http://127.0.0.1:$PORT$first_api" >"$WORK/ceiling.json"
curl -sS --max-time 10 "http://127.0.0.1:$PORT$first_page" >"$WORK/ceiling.html"
stop_server "$SERVER_PID"
echo "   bodies: $(stat -c %s "$WORK/ceiling.json") bytes of JSON, $(stat -c %s "$WORK/ceiling.html") of HTML"

# start_ceiling: the ceiling at a free port. Sets SERVER_PID and PORT.
start_ceiling() {
    PORT=$(free_port)
    env ROCKET_PORT="$PORT" ROCKET_ADDRESS=127.0.0.1 ROCKET_LOG_LEVEL="$LOG_LEVEL" \
        ROCKET_SECRET_KEY="$SECRET_KEY" \
        CEILING_JSON="$WORK/ceiling.json" CEILING_HTML="$WORK/ceiling.html" \
        "$CEILING" >>"$WORK/ceiling.log" 2>&1 &
    SERVER_PID=$!
    SERVER_PIDS+=("$SERVER_PID")
    local deadline=$((SECONDS + 30))
    until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT$first_api") == 200 ]]; do
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$WORK/ceiling.log" >&2; die "the ceiling exited"; }
        (( SECONDS < deadline )) || die "the ceiling did not answer within 30 s"
        sleep 0.05
    done
}

peak_rss_kib() {   # peak_rss_kib PID: VmHWM of PID
    sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"
}

# measure WHO CASE PATHS: one wrk run; appends "WHO CASE rps p99 non2xx".
ROWS=$WORK/rows
: >"$ROWS"
measure() {
    local who=$1 case=$2 paths=$3 out=$WORK/$1-$2-$round.out
    if [[ $who == ceiling ]]; then start_ceiling; else fresh_server "$SIZE" "$case"; fi
    run_wrk "$out" "$CONNECTIONS" "$SECONDS_PER_RUN" "$paths"
    local rss
    rss=$(peak_rss_kib "$SERVER_PID")
    stop_server "$SERVER_PID"
    printf '%s %s %s %s %s %s\n' "$who" "$case" "$(field "$out" rps)" "$(field "$out" p99_ms)" \
        "$(field "$out" non2xx)" "$rss" >>"$ROWS"
    printf '   round %s %-8s %-10s %10s req/s  p99 %6s ms  non-2xx %s  peak RSS %s KiB\n' \
        "$round" "$who" "$case" "$(field "$out" rps)" "$(field "$out" p99_ms)" "$(field "$out" non2xx)" "$rss"
}

for ((round = 1; round <= ROUNDS; round++)); do
    measure ceiling api_post "$WORK/api_post"
    measure app api_post "$WORK/api_post"
    measure ceiling post_page "$WORK/post_page"
    measure app post_page "$WORK/post_page"
    measure app home "$WORK/home"
    measure app api_posts "$WORK/api_posts"
    measure app post_list "$WORK/post_list"
done

python3 - "$ROWS" "$RESULTS_MD" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    "$ROUNDS" "$SECONDS_PER_RUN" "$CONNECTIONS" "$SIZE" <<'PY'
import statistics, sys, datetime
rows, out, commit, rounds, secs, conns, size = sys.argv[1:]
data = {}
for line in open(rows):
    who, case, rps, p99, non2xx, rss = line.split()
    data.setdefault((who, case), []).append((float(rps), float(p99), int(non2xx or 0), int(rss or 0)))
def med(who, case, i):
    v = [r[i] for r in data.get((who, case), [])]
    return statistics.median(v) if v else None
ceiling = {"api_post": "api_post", "post_page": "post_page", "home": "post_page",
           "api_posts": "api_post", "post_list": "post_page"}
lines = [f"# The app against its framework's ceiling ({datetime.date.today()}, commit {commit})", "",
         f"`bash bench/ceiling.sh`: {rounds} round(s), wrk -t2 -c{conns} -d{secs}s per route and round, "
         f"{size} posts, medians. The ceiling: bench/ceiling.rs (Rocket alone, the app's bodies).", "",
         "| route | app req/s | app p99 ms | ceiling req/s | share | app peak RSS MiB | non-2xx |",
         "|---|---|---|---|---|---|---|"]
for case in ["api_post", "post_page", "home", "api_posts", "post_list"]:
    rps, p99 = med("app", case, 0), med("app", case, 1)
    if rps is None:
        continue
    top = med("ceiling", ceiling[case], 0)
    share = f"{100 * rps / top:.0f} %" if top else ""
    rss = max(r[3] for r in data[("app", case)]) / 1024
    bad = sum(r[2] for r in data[("app", case)])
    shape = "" if ceiling[case] == case else f" (of the {ceiling[case]} ceiling)"
    lines.append(f"| {case} | {rps:,.0f} | {p99:.1f} | {top:,.0f} | {share}{shape} | {rss:.1f} | {bad} |")
for case in ["api_post", "post_page"]:
    top, p99 = med("ceiling", case, 0), med("ceiling", case, 1)
    if top:
        lines.append(f"| ceiling {case} | | | {top:,.0f} (p99 {p99:.1f} ms) | 100 % | | |")
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "== written to $RESULTS_MD"
