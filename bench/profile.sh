#!/usr/bin/env bash
# Where a hot route's time goes: the app under wrk on one route, sampled by
# `perf record`, summed by shared object and by symbol. Run by hand (never by
# CI); see bench/README.md, "The ceiling".
#
#   bash bench/profile.sh post_page            # 8 s of wrk, perf at 999 Hz
#   BENCH_SECONDS=4 bash bench/profile.sh api_post
#
# Cases: api_post, post_page, home, api_posts, post_list (as bench/ceiling.sh).
# The 10,000-post database of the scaling benchmark, a fresh copy; the
# release binary as it is (symbols kept: the release profile strips debug
# information only). Writes bench/results/profile-CASE.txt.
set -euo pipefail
CASE=${1:?usage: bench/profile.sh CASE}
BENCH_SECONDS=${BENCH_SECONDS:-8}
source "$(dirname "${BASH_SOURCE[0]}")/scaling_lib.sh"
command -v perf >/dev/null || die "perf is missing (apt-get install -y linux-perf)"
SIZE=${BENCH_SIZE:-10000}
OUT=${BENCH_RESULTS:-$BENCH_DIR/results/profile-$CASE.txt}

ensure_db "$SIZE"
mkdir -p "$WORK/facts"
db_facts "$(db_path "$SIZE")" "$WORK/facts" >"$WORK/facts/facts"
paths=$WORK/paths
case $CASE in
    api_post) head -2000 "$WORK/facts/post_ids" | sed 's|^|/api/posts/|' >"$paths" ;;
    post_page)
        fresh_server "$SIZE" resolve
        head -2000 "$WORK/facts/post_ids" | sed 's|^|/posts/|' >"$WORK/by_id"
        resolve_moved "$WORK/by_id" "$paths"
        stop_server "$SERVER_PID" ;;
    home) echo / >"$paths" ;;
    api_posts) echo /api/posts >"$paths" ;;
    post_list) echo /posts >"$paths" ;;
    *) die "unknown case $CASE" ;;
esac

fresh_server "$SIZE" "$CASE"
# A second of load first, so the profile is of the steady state.
run_wrk "$WORK/warm.out" "$CONNECTIONS" 1 "$paths"
perf record -F 999 -g -o "$WORK/perf.data" -p "$SERVER_PID" -- sleep "$BENCH_SECONDS" \
    >"$WORK/perf.log" 2>&1 &
perf_pid=$!
run_wrk "$WORK/run.out" "$CONNECTIONS" "$BENCH_SECONDS" "$paths"
wait "$perf_pid" || { cat "$WORK/perf.log" >&2; die "perf record failed"; }
stop_server "$SERVER_PID"

{
    echo "# bench/profile.sh $CASE ($(date -u +%F), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
    echo "# wrk: $(field "$WORK/run.out" rps) req/s, p99 $(field "$WORK/run.out" p99_ms) ms, non-2xx $(field "$WORK/run.out" non2xx)"
    echo
    echo "## by part"
    perf report -i "$WORK/perf.data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null \
        | python3 "$BENCH_DIR/profile_groups.py"
    echo
    echo "## by shared object"
    perf report -i "$WORK/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null \
        | awk 'NF && !/^#/ && n++ < 15' 
    echo
    echo "## by symbol (self time)"
    perf report -i "$WORK/perf.data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null \
        | awk -v max="${BENCH_SYMBOLS:-60}" 'NF && !/^#/ && n++ < max' 
} >"$OUT"
cat "$OUT"
