#!/usr/bin/env bash
# Does the slowest route starve the others? Run by hand (never by CI); see
# bench/README.md, "Scaling with the data".
#
#   bash bench/responsiveness.sh                      # the largest database built today
#   BENCH_SIZE=100000 BENCH_SECONDS=5 bash bench/responsiveness.sh
#
# At one size (BENCH_SIZE; default: the largest database in the cache that
# was built today, else 1,000,000 built with make_db.py), each on a fresh
# server and a fresh copy of the database:
#   1. each probe alone: wrk -t1 -c4 on GET /health, then on GET /posts/<random id>;
#   2. the hammer alone: wrk -t2 -c64 on GET /api/posts?q=lamp (the common-word
#      search, the slowest route);
#   3. the hammer with each probe: the hammer starts 1 s before the probe and
#      ends 1 s after it.
# Reports the probes' p99 (and req/s) alone vs under the hammer, and the
# hammer's own numbers. Writes bench/results/responsiveness-latest.md.
set -euo pipefail
: "${BENCH_SECONDS:=10}"
source "$(dirname "${BASH_SOURCE[0]}")/scaling_lib.sh"

HAMMER_PATH=${BENCH_HAMMER:-/api/posts?q=lamp}
PROBE_CONNECTIONS=${BENCH_PROBE_CONNECTIONS:-4}
SUFFIX=""
[[ $BACKEND == postgres ]] && SUFFIX="-postgres"
RESULTS_MD=${BENCH_RESULTS:-$BENCH_DIR/results/responsiveness-latest$SUFFIX.md}

if [[ -n ${BENCH_SIZE:-} ]]; then
    SIZE=$BENCH_SIZE
else
    SIZE=""
    today=$(date -u +%F)
    for f in "$DB_DIR"/posts-*.db; do
        [[ -f $f && -f $f.facts && $(fact "$f.facts" built_utc_day) == "$today" ]] || continue
        n=${f##*/posts-}; n=${n%.db}
        [[ $n =~ ^[0-9]+$ ]] || continue
        if [[ -z $SIZE ]] || (( n > SIZE )); then SIZE=$n; fi
    done
    SIZE=${SIZE:-1000000}
fi

echo "== portfolio responsiveness ($BACKEND): $SIZE posts; hammer wrk -t$THREADS -c$CONNECTIONS $HAMMER_PATH; probes wrk -t1 -c$PROBE_CONNECTIONS; ${SECONDS_PER_RUN}s each"
machine_note
ensure_db "$SIZE"
[[ $BACKEND == postgres ]] && prepare_postgres "$SIZE"

P=$WORK/paths
mkdir -p "$P"
db_facts "$(db_path "$SIZE")" "$P" >/dev/null
sed 's|^|/posts/|' "$P/post_ids" >"$P/post_pages"
echo /health >"$P/health"
printf '%s\n' "$HAMMER_PATH" >"$P/hammer"

declare -A RPS P99 P50 BAD
measure() {   # measure KEY OUT: keeps the numbers of a wrk output
    RPS[$1]=$(field "$2" rps) P99[$1]=$(field "$2" p99_ms) P50[$1]=$(field "$2" p50_ms)
    BAD[$1]=$(( $(field "$2" non2xx) + $(field "$2" err_connect) + $(field "$2" err_read) + $(field "$2" err_write) + $(field "$2" err_timeout) ))
    (( BAD[$1] == 0 )) || PROBLEMS+=("$1: ${BAD[$1]} non-2xx answers or socket errors")
}
finish_run() {
    stop_server "$SERVER_PID"
    local trouble
    trouble=$(log_trouble "$RUN_DIR/server.log")
    (( trouble == 0 )) || PROBLEMS+=("$1: $trouble trouble line(s) in the server log")
}

PROBES="health post_page"
declare -A PROBE_FILE=([health]=$P/health [post_page]=$P/post_pages)
declare -A PROBE_URL=([health]="/health" [post_page]="/posts/<random id>")

for probe in $PROBES; do
    echo "== $probe alone"
    fresh_server "$SIZE" "$probe-alone"
    run_wrk "$RUN_DIR/wrk.out" "$PROBE_CONNECTIONS" "$SECONDS_PER_RUN" "${PROBE_FILE[$probe]}" 1
    finish_run "$probe alone"
    measure "$probe.alone" "$RUN_DIR/wrk.out"
    echo "   ${RPS[$probe.alone]} req/s, p50 ${P50[$probe.alone]} ms, p99 ${P99[$probe.alone]} ms"
done

echo "== hammer alone ($HAMMER_PATH)"
fresh_server "$SIZE" hammer-alone
run_wrk "$RUN_DIR/wrk.out" "$CONNECTIONS" "$SECONDS_PER_RUN" "$P/hammer"
finish_run "hammer alone"
measure hammer.alone "$RUN_DIR/wrk.out"
echo "   ${RPS[hammer.alone]} req/s, p50 ${P50[hammer.alone]} ms, p99 ${P99[hammer.alone]} ms"

for probe in $PROBES; do
    echo "== $probe under the hammer"
    fresh_server "$SIZE" "$probe-loaded"
    run_wrk "$RUN_DIR/hammer.out" "$CONNECTIONS" "$((SECONDS_PER_RUN + 2))" "$P/hammer" &
    hammer=$!
    HELPER_PIDS+=("$hammer")
    sleep 1
    run_wrk "$RUN_DIR/wrk.out" "$PROBE_CONNECTIONS" "$SECONDS_PER_RUN" "${PROBE_FILE[$probe]}" 1
    wait "$hammer" || die "the hammer's wrk failed"
    forget_helper "$hammer"
    finish_run "$probe under the hammer"
    measure "$probe.loaded" "$RUN_DIR/wrk.out"
    measure "hammer.with_$probe" "$RUN_DIR/hammer.out"
    echo "   ${RPS[$probe.loaded]} req/s, p50 ${P50[$probe.loaded]} ms, p99 ${P99[$probe.loaded]} ms; hammer ${RPS[hammer.with_$probe]} req/s, p99 ${P99[hammer.with_$probe]} ms"
done

mkdir -p "$(dirname "$RESULTS_MD")"
{
    echo "# Responsiveness under the slowest route ($BACKEND)"
    echo
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
        "(worktree dirty: $(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo yes || echo no))," \
        "$(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg) at the end, $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)." \
        "$SIZE posts ($(stat -c %s "$(db_path "$SIZE")") bytes). Hammer: \`wrk -t$THREADS -c$CONNECTIONS\` on \`$HAMMER_PATH\`;" \
        "probes: \`wrk -t1 -c$PROBE_CONNECTIONS\`, ${SECONDS_PER_RUN} s each; the hammer runs from 1 s before to 1 s after the probe." \
        "Fresh server and database copy per row. Made by \`bench/responsiveness.sh\`."
    echo
    echo "| probe | alone req/s | alone p50 ms | alone p99 ms | under the hammer req/s | p50 ms | p99 ms | p99 ratio | hammer req/s | hammer p99 ms |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    for probe in $PROBES; do
        ratio=$(python3 -c "a, b = float('${P99[$probe.alone]}'), float('${P99[$probe.loaded]}'); print(f'{b / a:.1f}x' if a > 0 else '-')")
        echo "| \`${PROBE_URL[$probe]}\` | ${RPS[$probe.alone]} | ${P50[$probe.alone]} | ${P99[$probe.alone]} | ${RPS[$probe.loaded]} | ${P50[$probe.loaded]} | ${P99[$probe.loaded]} | $ratio | ${RPS[hammer.with_$probe]} | ${P99[hammer.with_$probe]} |"
    done
    echo
    echo "The hammer alone: ${RPS[hammer.alone]} req/s, p50 ${P50[hammer.alone]} ms, p99 ${P99[hammer.alone]} ms."
    echo
    echo "## Problems seen"
    echo
    if (( ${#PROBLEMS[@]} > 0 )); then printf -- '- %s\n' "${PROBLEMS[@]}"; else echo none; fi
} >"$RESULTS_MD"
echo
sed -n '/^| probe/,$p' "$RESULTS_MD"
echo "   written to ${RESULTS_MD#"$ROOT"/}"
