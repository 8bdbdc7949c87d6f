#!/usr/bin/env bash
# portfolio's load benchmarks: see bench/README.md.
#
#   bash bench/run.sh                      # everything, 3 runs of 10 s each
#   BENCH_DURATION=2s BENCH_RUNS=1 bash bench/run.sh    # a quick smoke run
#   BENCH_POSTGRES=postgres://portfolio:portfolio@127.0.0.1:5432/portfolio bash bench/run.sh
#                                          # the same scenarios on PostgreSQL
#
# Builds the release binary if needed, makes a database of BENCH_POSTS posts,
# then runs every scenario BENCH_RUNS times, each run on a fresh copy of that
# database with a fresh server, with wrk on 127.0.0.1 only. Prints each run
# and the medians, and writes them as key=value lines to bench/results/latest.txt.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
cd "$ROOT"   # the server finds Rocket.toml here (templates and styles are built in)

DURATION=${BENCH_DURATION:-10s}
RUNS=${BENCH_RUNS:-3}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
STORM_CONNECTIONS=${BENCH_STORM_CONNECTIONS:-16}
POSTS=${BENCH_POSTS:-10000}
PER_PAGE=${BENCH_PER_PAGE:-20}
COLD_STARTS=${BENCH_COLD_STARTS:-3}
WRK_TIMEOUT=${BENCH_WRK_TIMEOUT:-30s}
SCENARIOS=${BENCH_SCENARIOS:-get_post list_posts page_post create_post mixed login_storm}
BUILD=${BENCH_BUILD:-1}
LOG_LEVEL=${BENCH_LOG_LEVEL:-critical}
# PostgreSQL: a URL whose role may create databases; empty for SQLite.
POSTGRES=${BENCH_POSTGRES:-}
if [[ -n $POSTGRES ]]; then
    BACKEND=postgres
    RESULTS=${BENCH_RESULTS:-$BENCH_DIR/results/latest-postgres.txt}
else
    BACKEND=sqlite
    RESULTS=${BENCH_RESULTS:-$BENCH_DIR/results/latest.txt}
fi
BIN=${BENCH_BIN:-$ROOT/target/release/portfolio}
SECRET_KEY=bALgVYaJ3kYV6EI1vccjroNCu0zIH5mnWkqO0OnaElY=
ADMIN_PASSWORD=bench-admin-password
LOGIN_UID=hop
LOGIN_PASSWORD=portfolio-demo

die() { echo "bench: $*" >&2; exit 1; }

# ---- arguments --------------------------------------------------------------

seconds_of() {   # 10s, 2m, 15 -> seconds
    case "$1" in
        *[!0-9smh]* | "" ) die "bad duration '$1' (use e.g. 10s or 1m)" ;;
        *s) echo "${1%s}" ;;
        *m) echo $(( ${1%m} * 60 )) ;;
        *h) echo $(( ${1%h} * 3600 )) ;;
        *) echo "$1" ;;
    esac
}
DURATION_S=$(seconds_of "$DURATION")
(( DURATION_S >= 1 )) || die "BENCH_DURATION must be at least 1s"
(( RUNS >= 1 )) || die "BENCH_RUNS must be at least 1"
(( CONNECTIONS >= THREADS )) || die "BENCH_CONNECTIONS must be >= BENCH_THREADS"
# wrk gets this long past its duration before it is killed.
WRK_GRACE_S=60

tools="wrk python3 curl timeout"
[[ $BACKEND == postgres ]] && tools+=" psql"
for tool in $tools; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install -y wrk curl; see bench/README.md)"
done

# ---- clean-up: every process and folder we make is stopped/removed on exit --

WORK=$(mktemp -d "${TMPDIR:-/tmp}/portfolio-bench.XXXXXX")
SERVER_PIDS=()
HELPER_PIDS=()

# kill_tree PID: SIGTERM to PID and all its descendants (by process id).
kill_tree() {
    local child
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        kill_tree "$child"
    done
    kill -TERM "$1" 2>/dev/null || true
}

forget_helper() {   # forget_helper PID: it has ended; do not signal it later
    local -a left=()
    local p
    for p in "${HELPER_PIDS[@]}"; do [[ $p == "$1" ]] || left+=("$p"); done
    HELPER_PIDS=("${left[@]}")
}

cleanup() {
    local status=$?
    set +e
    for pid in "${HELPER_PIDS[@]}"; do
        kill_tree "$pid"
    done
    for pid in "${SERVER_PIDS[@]}"; do
        stop_server "$pid"
    done
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
        echo "bench: kept $WORK (BENCH_KEEP=1)" >&2
    else
        rm -rf "$WORK"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the server --------------------------------------------------------------

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# postgres_url NAME: BENCH_POSTGRES with its database replaced by NAME.
postgres_url() {
    python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$POSTGRES" "$1"
}

# database_url DIR: where the server in DIR keeps its data: DIR/portfolio.db
# on SQLite; on PostgreSQL, the database named in DIR/database_url.
database_url() {
    if [[ -f $1/database_url ]]; then cat "$1/database_url"; else echo "$1/portfolio.db"; fi
}

# start_server DIR: a server on DIR's database (see database_url) at a free
# loopback port, its uploads in DIR. Sets SERVER_PID and PORT; waits (at most
# 60 s) for GET /health to say 200.
start_server() {
    local dir=$1
    local url
    url=$(database_url "$dir")
    PORT=$(free_port)
    local -a extra=()
    [[ -n ${BENCH_WORKERS:-} ]] && extra+=("ROCKET_WORKERS=$BENCH_WORKERS")
    env ROCKET_PORT="$PORT" \
        ROCKET_ADDRESS=127.0.0.1 \
        ROCKET_DATABASES="{portfolio={url=\"$url\"}}" \
        ROCKET_VOLUME_DIR="$dir" \
        ROCKET_SECRET_KEY="$SECRET_KEY" \
        PORTFOLIO_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
        ROCKET_LOG_LEVEL="$LOG_LEVEL" \
        "${extra[@]}" \
        "$BIN" >>"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    SERVER_PIDS+=("$SERVER_PID")
    local deadline=$((SECONDS + 60))
    until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/health") == 200 ]]; do
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$dir/server.log" >&2; die "the server exited at start-up"; }
        (( SECONDS < deadline )) || { tail -20 "$dir/server.log" >&2; die "no 200 from /health within 60 s"; }
        sleep 0.05
    done
}

# stop_server PID: SIGTERM (graceful: in-flight requests, WAL checkpoint),
# SIGKILL after 20 s.
stop_server() {
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 200; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "bench: server $pid ignored SIGTERM for 20 s; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    local -a left=()
    for p in "${SERVER_PIDS[@]}"; do [[ $p == "$pid" ]] || left+=("$p"); done
    SERVER_PIDS=("${left[@]}")
}

# log_in: prints "portfolio_session=..." for LOGIN_UID.
log_in() {
    local headers
    headers=$(curl -sS -D - -o /dev/null --max-time 30 \
        -H 'Content-Type: application/json' \
        --data "{\"uid\":\"$LOGIN_UID\",\"password\":\"$LOGIN_PASSWORD\"}" \
        "http://127.0.0.1:$PORT/api/session")
    local cookie
    cookie=$(printf '%s\n' "$headers" | tr -d '\r' |
        sed -n 's/^[Ss]et-[Cc]ookie: *\(portfolio_session=[^;]*\).*/\1/p' | head -1)
    [[ -n $cookie ]] || { printf '%s\n' "$headers" >&2; die "login as $LOGIN_UID failed"; }
    printf '%s\n' "$cookie"
}

count_posts() {   # count_posts DIR
    if [[ -f $1/database_url ]]; then
        psql -X -tA "$(cat "$1/database_url")" -c 'SELECT count(*) FROM posts'
        return
    fi
    python3 - "$1/portfolio.db" <<'PY'
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=30)
conn.execute("PRAGMA busy_timeout = 5000")
print(conn.execute("SELECT count(*) FROM posts").fetchone()[0])
PY
}

# Waits until the posts count holds still for 0.5 s (requests the server had
# taken before wrk hung up still finish) and prints it.
settled_posts() {   # settled_posts DIR
    local last now i
    last=$(count_posts "$1")
    for ((i = 0; i < 40; i++)); do
        sleep 0.5
        now=$(count_posts "$1")
        [[ $now == "$last" ]] && break
        last=$now
    done
    printf '%s\n' "$last"
}

# Lines of the server log that tell of trouble: errors, panics, locks and
# warnings, less the expected ones (the published bench secret key, clients
# hanging up when wrk stops, the shutdown itself).
BENIGN='Broken pipe|Connection failed: connection error|Connection reset by peer|error writing a body to connection|secret_key. is exposed|publicly published|generating a new key|Connection failed: connection closed before message completed|Remote left|Received SIG|[Ss]hutdown|[Gg]race'
log_trouble() {   # log_trouble LOG -> count; the first lines go to stderr
    local n
    n=$( { grep -iE 'error|panic|locked|busy|warn' "$1" || true; } | { grep -cvE "$BENIGN" || true; })
    if (( n > 0 )); then
        echo "    server log: $n line(s) of trouble, e.g.:" >&2
        grep -iE 'error|panic|locked|busy|warn' "$1" | grep -vE "$BENIGN" | head -3 | sed 's/^/      /' >&2
    fi
    printf '%s\n' "$n"
}

# ---- wrk -------------------------------------------------------------------

# run_wrk OUT CONNECTIONS DURATION SCRIPT: wrk against the current PORT, its
# output in OUT; bounded by `timeout`. Prints nothing.
run_wrk() {
    local out=$1 conns=$2 duration=$3 script=$4
    local threads=$THREADS
    (( conns < threads )) && threads=$conns
    # In the background and waited for, so that a signal to this script is
    # handled at once (bash runs traps only between foreground commands).
    timeout --kill-after=5 $(( $(seconds_of "$duration") + WRK_GRACE_S )) \
        wrk -t"$threads" -c"$conns" -d"$duration" --timeout "$WRK_TIMEOUT" \
        -s "$BENCH_DIR/$script" "http://127.0.0.1:$PORT" >"$out" 2>&1 &
    local pid=$! status=0
    HELPER_PIDS+=("$pid")
    wait "$pid" || status=$?
    forget_helper "$pid"
    (( status == 0 )) || { cat "$out" >&2; die "wrk $script failed (exit $status)"; }
    grep -q '^BENCH ' "$out" || { cat "$out" >&2; die "wrk $script printed no BENCH line"; }
}

field() {   # field OUT NAME: NAME=value from the BENCH line of OUT
    sed -n 's/^BENCH .*[[:space:]]'"$2"'=\([^[:space:]]*\).*/\1/p' "$1" | head -1
}

median() {   # median NUMBERS...
    python3 -c 'import statistics, sys; v = [float(x) for x in sys.argv[1:]]; print(f"{statistics.median(v):.3f}".rstrip("0").rstrip("."))' "$@"
}

# ---- results -----------------------------------------------------------------

mkdir -p "$(dirname "$RESULTS")"
RESULTS_TMP=$WORK/latest.txt
: >"$RESULTS_TMP"
record() { printf '%s=%s\n' "$1" "$2" >>"$RESULTS_TMP"; }

load1=$(cut -d' ' -f1 /proc/loadavg)
cores=$(nproc)
echo "== portfolio benchmarks: $RUNS run(s) x $DURATION, $CONNECTIONS connections, $THREADS wrk threads"
echo "   machine: $cores cores, load average $load1 at start"
if python3 -c "import sys; sys.exit(0 if float('$load1') > 0.5 * $cores else 1)"; then
    echo "   WARNING: the machine is busy (load $load1 on $cores cores): numbers will be low and noisy." >&2
fi

record date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
record backend "$BACKEND"
record commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
record worktree_dirty "$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo yes || echo no)"
record cores "$cores"
record load_at_start "$load1"
record wrk "$(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
record duration "$DURATION"
record runs "$RUNS"
record connections "$CONNECTIONS"
record threads "$THREADS"
record storm_connections "$STORM_CONNECTIONS"
record posts "$POSTS"
record workers "${BENCH_WORKERS:-default}"

# ---- build -------------------------------------------------------------------

if [[ $BUILD == 1 ]]; then
    echo "== cargo build --release --locked (a no-op when up to date)"
    if ! timeout 3600 cargo build --release --locked >"$WORK/build.log" 2>&1; then
        tail -30 "$WORK/build.log" >&2
        die "the build failed"
    fi
    tail -1 "$WORK/build.log" | sed 's/^ */   /'
fi
[[ -x $BIN ]] || die "no release binary at $BIN (run cargo build --release --locked)"
BINARY_BYTES=$(stat -c %s "$BIN")
record binary_bytes "$BINARY_BYTES"
echo "== release binary: $BINARY_BYTES bytes ($(python3 -c "print(f'{$BINARY_BYTES / 1048576:.1f}')") MiB)"

# ---- cold start ----------------------------------------------------------------

echo "== cold start to first 200 from /health, on an empty folder ($COLD_STARTS runs)"
cold=()
while read -r line; do
    ms=${line#cold_start_ms=}
    cold+=("$ms")
    echo "   run ${#cold[@]}: $ms ms"
done < <(BENCH_LOG_LEVEL=$LOG_LEVEL PORTFOLIO_ADMIN_PASSWORD=$ADMIN_PASSWORD \
    timeout 300 python3 "$BENCH_DIR/coldstart.py" "$BIN" --runs "$COLD_STARTS" --poll-ms 2 --timeout 60)
(( ${#cold[@]} == COLD_STARTS )) || die "the cold starts failed"
COLD_MEDIAN=$(median "${cold[@]}")
for i in "${!cold[@]}"; do record "cold_start_ms.run$((i + 1))" "${cold[$i]}"; done
record cold_start_ms.median "$COLD_MEDIAN"
echo "   median: $COLD_MEDIAN ms"

# ---- the database of BENCH_POSTS posts ------------------------------------------

echo "== preparing a database of $POSTS posts"
SEED_DIR=$WORK/seed
mkdir -p "$SEED_DIR"
start_server "$SEED_DIR"   # migrates and seeds the demo users and posts
TEMPLATE=$WORK/template.db
facts=$(timeout 300 python3 "$BENCH_DIR/seed_posts.py" "$SEED_DIR/portfolio.db" \
    --total "$POSTS" --template "$TEMPLATE")
stop_server "$SERVER_PID"
echo "   $facts"
if [[ $BACKEND == postgres ]]; then
    # The same rows, moved as users would: `db export` from the SQLite
    # template, `db import` into a PostgreSQL database that each run clones.
    echo "== moving it to PostgreSQL (db export, db import)"
    PG_TEMPLATE=portfolio_bench_template
    psql -X -q "$POSTGRES" -c "DROP DATABASE IF EXISTS $PG_TEMPLATE WITH (FORCE)" \
        -c "CREATE DATABASE $PG_TEMPLATE ENCODING 'UTF8' TEMPLATE template0"
    env ROCKET_DATABASES="{portfolio={url=\"$TEMPLATE\"}}" ROCKET_LOG_LEVEL=off \
        "$BIN" db export "$WORK/template.json" | sed 's/^/   /'
    env ROCKET_DATABASES="{portfolio={url=\"$(postgres_url "$PG_TEMPLATE")\"}}" ROCKET_LOG_LEVEL=off \
        "$BIN" db import "$WORK/template.json" | sed 's/^/   /'
    cp -r "$SEED_DIR/uploads" "$WORK/template-uploads" 2>/dev/null || true
fi
fact() { sed -n 's/.*\b'"$1"'=\([0-9-]*\).*/\1/p' <<<"$facts"; }
ID_MIN=$(fact id_min)
ID_MAX=$(fact id_max)
PUBLISHED=$(fact published)
[[ $(fact id_gaps) == 0 ]] || echo "   WARNING: ids $ID_MIN..$ID_MAX are not all published posts: expect some 404s" >&2
PAGES=$(( (PUBLISHED + PER_PAGE - 1) / PER_PAGE ))
# Numbered pages reach 1,000 items deep (page 51 at 20 a page); deeper pages
# are walked with cursors, which bench/scaling.sh measures.
NUMBERED=$(( 1000 / PER_PAGE + 1 ))
(( PAGES > NUMBERED )) && PAGES=$NUMBERED
export BENCH_ID_MIN=$ID_MIN BENCH_ID_MAX=$ID_MAX BENCH_PAGES=$PAGES BENCH_PER_PAGE=$PER_PAGE
export BENCH_LOGIN_UID=$LOGIN_UID BENCH_LOGIN_PASSWORD=$LOGIN_PASSWORD
record id_range "$ID_MIN-$ID_MAX"
record pages "$PAGES"

# ---- the scenarios ---------------------------------------------------------------

# fresh_server NAME RUN: a copy of the template database and a server on it.
fresh_server() {
    RUN_DIR=$WORK/$1-$2
    mkdir -p "$RUN_DIR"
    if [[ $BACKEND == postgres ]]; then
        psql -X -q "$POSTGRES" -c "DROP DATABASE IF EXISTS portfolio_bench_run WITH (FORCE)" \
            -c "CREATE DATABASE portfolio_bench_run TEMPLATE $PG_TEMPLATE"
        postgres_url portfolio_bench_run >"$RUN_DIR/database_url"
        [[ -d $WORK/template-uploads ]] && cp -r "$WORK/template-uploads" "$RUN_DIR/uploads"
    else
        cp "$TEMPLATE" "$RUN_DIR/portfolio.db"
    fi
    start_server "$RUN_DIR"
}

declare -A SCRIPT=(
    [get_post]=get_post.lua [list_posts]=list_posts.lua [page_post]=page_post.lua
    [create_post]=create_post.lua [mixed]=mixed.lua [login_storm]=get_post.lua
)
declare -A TITLE=(
    [get_post]="1. GET /api/posts/<id>"
    [list_posts]="2. GET /api/posts?page=N&per_page=$PER_PAGE (N <= $PAGES)"
    [page_post]="3. GET /posts/<id> (HTML)"
    [create_post]="4. POST /api/posts (logged in)"
    [mixed]="5. mixed 90% GET /api/posts/<id>, 10% POST /api/posts"
    [login_storm]="6. GET /api/posts/<id> during a login storm ($STORM_CONNECTIONS conns of POST /api/session)"
)
declare -A RPS P99 NON2XX
PROBLEMS=()

for name in $SCENARIOS; do
    [[ -n ${SCRIPT[$name]:-} ]] || die "unknown scenario '$name' (known: ${!SCRIPT[*]})"
    echo "== ${TITLE[$name]}"
    rps=() p99=() bad=() extra_vals=()
    for ((run = 1; run <= RUNS; run++)); do
        fresh_server "$name" "$run"
        out=$RUN_DIR/wrk.out
        note=""
        case $name in
            create_post)
                BENCH_COOKIE=$(log_in)
                export BENCH_COOKIE
                before=$(count_posts "$RUN_DIR")
                run_wrk "$out" "$CONNECTIONS" "$DURATION" create_post.lua
                after=$(settled_posts "$RUN_DIR")
                ok=$(field "$out" ok2xx) sent=$(field "$out" sent)
                inflight=$((sent - ok - $(field "$out" non2xx)))
                grown=$((after - before))
                # wrk stops dead: requests in flight at that moment are still
                # served (one row each) but their answers are never read. So
                # rows = 2xx seen + some of those in flight, never more.
                if (( grown == ok )); then
                    verdict="match"
                elif (( grown > ok && grown <= ok + inflight )); then
                    verdict="match: 2xx $ok + $((grown - ok)) served after wrk's cutoff, of $inflight in flight"
                else
                    verdict="MISMATCH: 2xx $ok vs rows +$grown with $inflight in flight"
                    PROBLEMS+=("create_post run $run: $ok 2xx answers, $inflight in flight at the cutoff, but $grown new rows")
                fi
                note="  sent $sent, 2xx $ok, rows +$grown: $verdict"
                record "create_post.run$run.ok2xx" "$ok"
                record "create_post.run$run.rows_grown" "$grown"
                record "create_post.run$run.sent" "$sent"
                record "create_post.run$run.in_flight_at_cutoff" "$inflight"
                ;;
            mixed)
                BENCH_COOKIE=$(log_in)
                export BENCH_COOKIE
                before=$(count_posts "$RUN_DIR")
                rss_file=$RUN_DIR/rss_peak
                echo 0 >"$rss_file"
                (   # VmRSS every 100 ms; the largest seen goes to rss_file
                    peak=0
                    while [[ -r /proc/$SERVER_PID/status ]]; do
                        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
                        if [[ -n $rss ]] && (( rss > peak )); then peak=$rss; echo "$peak" >"$rss_file"; fi
                        sleep 0.1
                    done
                ) &
                sampler=$!
                HELPER_PIDS+=("$sampler")
                # Reset VmHWM to the current RSS (Linux >= 4.0), so it covers
                # scenario 5 only, not the start-up nor the login's argon2
                # (19 MiB); where that is refused, VmHWM covers the whole life.
                hwm_scope=scenario
                echo 5 2>/dev/null >"/proc/$SERVER_PID/clear_refs" || hwm_scope=process
                rss_before=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status")
                run_wrk "$out" "$CONNECTIONS" "$DURATION" mixed.lua
                hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status")
                kill "$sampler" 2>/dev/null || true
                wait "$sampler" 2>/dev/null || true
                forget_helper "$sampler"
                sampled=$(cat "$rss_file")
                after=$(settled_posts "$RUN_DIR")
                w_ok=$(field "$out" writes_ok) w_sent=$(field "$out" writes_sent)
                grown=$((after - before))
                if (( grown < w_ok || grown > w_sent )); then
                    PROBLEMS+=("mixed run $run: $w_ok writes answered 201 of $w_sent sent, but $grown new rows")
                fi
                note="  reads $(field "$out" reads_ok)/$(field "$out" reads_sent) ok, writes $w_ok/$w_sent ok, rows +$grown; peak RSS $((hwm / 1024)) MiB (VmHWM over the $hwm_scope; $((rss_before / 1024)) MiB before; sampled VmRSS max $((sampled / 1024)) MiB)"
                extra_vals+=("$hwm")
                record "mixed.run$run.vmhwm_kib" "$hwm"
                record "mixed.run$run.vmhwm_scope" "$hwm_scope"
                record "mixed.run$run.vmrss_before_kib" "$rss_before"
                record "mixed.run$run.vmrss_sampled_max_kib" "$sampled"
                record "mixed.run$run.writes_ok" "$(field "$out" writes_ok)"
                record "mixed.run$run.writes_sent" "$w_sent"
                record "mixed.run$run.rows_grown" "$grown"
                ;;
            login_storm)
                storm_out=$RUN_DIR/storm.out
                storm_s=$((DURATION_S + 2))
                # The storm starts 1 s early and ends 1 s late, so it covers
                # the whole measured window of scenario 1.
                run_wrk "$storm_out" "$STORM_CONNECTIONS" "${storm_s}s" login.lua &
                storm=$!
                HELPER_PIDS+=("$storm")
                sleep 1
                run_wrk "$out" "$CONNECTIONS" "$DURATION" get_post.lua
                wait "$storm" || die "the login storm's wrk failed"
                forget_helper "$storm"
                s_rps=$(field "$storm_out" rps) s_ok=$(field "$storm_out" ok2xx)
                s_bad=$(field "$storm_out" non2xx) s_p99=$(field "$storm_out" p99_ms)
                note="  storm: $s_rps logins/s, p99 $s_p99 ms, 2xx $s_ok, non-2xx $s_bad"
                [[ $(field "$storm_out" statuses) == - ]] || note+=" [$(field "$storm_out" statuses)]"
                extra_vals+=("$s_rps")
                record "login_storm.run$run.logins_rps" "$s_rps"
                record "login_storm.run$run.logins_p99_ms" "$s_p99"
                record "login_storm.run$run.logins_non2xx" "$s_bad"
                (( s_bad == 0 )) || PROBLEMS+=("login_storm run $run: $s_bad non-2xx logins ($(field "$storm_out" statuses))")
                ;;
            *)
                run_wrk "$out" "$CONNECTIONS" "$DURATION" "${SCRIPT[$name]}"
                ;;
        esac
        stop_server "$SERVER_PID"
        trouble=$(log_trouble "$RUN_DIR/server.log")
        r=$(field "$out" rps) p=$(field "$out" p99_ms) b=$(field "$out" non2xx)
        errs=$(( $(field "$out" err_connect) + $(field "$out" err_read) + $(field "$out" err_write) + $(field "$out" err_timeout) ))
        rps+=("$r") p99+=("$p") bad+=("$b")
        codes=$(field "$out" statuses)
        [[ $codes == - ]] && codes="" || codes=" [$codes]"
        printf '   run %d: %10s req/s   p99 %9s ms   non-2xx %s%s   socket errors %s%s\n' \
            "$run" "$r" "$p" "$b" "$codes" "$errs" "$note"
        record "$name.run$run.rps" "$r"
        record "$name.run$run.p99_ms" "$p"
        record "$name.run$run.p50_ms" "$(field "$out" p50_ms)"
        record "$name.run$run.non2xx" "$b"
        record "$name.run$run.statuses" "$(field "$out" statuses)"
        record "$name.run$run.socket_errors" "$errs"
        record "$name.run$run.server_log_trouble_lines" "$trouble"
        (( b == 0 )) || PROBLEMS+=("$name run $run: $b non-2xx answers ($(field "$out" statuses))")
        (( errs == 0 )) || PROBLEMS+=("$name run $run: $errs socket errors/timeouts (see wrk's counts)")
        (( trouble == 0 )) || PROBLEMS+=("$name run $run: $trouble trouble line(s) in the server log")
    done
    RPS[$name]=$(median "${rps[@]}")
    P99[$name]=$(median "${p99[@]}")
    NON2XX[$name]=$(median "${bad[@]}")
    record "$name.median.rps" "${RPS[$name]}"
    record "$name.median.p99_ms" "${P99[$name]}"
    record "$name.median.non2xx" "${NON2XX[$name]}"
    case $name in
        mixed)
            RSS_MEDIAN=$(median "${extra_vals[@]}")
            record mixed.median.vmhwm_kib "$RSS_MEDIAN"
            ;;
        login_storm)
            STORM_RPS=$(median "${extra_vals[@]}")
            record login_storm.median.logins_rps "$STORM_RPS"
            ;;
    esac
    printf '   median of %d: %s req/s, p99 %s ms, non-2xx %s\n' "$RUNS" "${RPS[$name]}" "${P99[$name]}" "${NON2XX[$name]}"
done

# ---- summary -----------------------------------------------------------------------

echo
echo "== summary (median of $RUNS run(s); $DURATION each; $CONNECTIONS connections)"
printf '   %-12s %12s %12s %8s\n' scenario "req/s" "p99 ms" "non-2xx"
for name in $SCENARIOS; do
    printf '   %-12s %12s %12s %8s\n' "$name" "${RPS[$name]}" "${P99[$name]}" "${NON2XX[$name]}"
done
if [[ -n ${P99[get_post]:-} && -n ${P99[login_storm]:-} ]]; then
    echo "   scenario 1 p99 alone ${P99[get_post]} ms vs during the login storm ${P99[login_storm]} ms ($STORM_RPS logins/s)"
fi
echo "   cold start to first answer: $COLD_MEDIAN ms (median of $COLD_STARTS)"
[[ -n ${RSS_MEDIAN:-} ]] && echo "   peak RSS under scenario 5: $(python3 -c "print(f'{$RSS_MEDIAN / 1024:.1f}')") MiB (VmHWM, median)"
echo "   release binary: $BINARY_BYTES bytes"
record problems "${#PROBLEMS[@]}"
if (( ${#PROBLEMS[@]} > 0 )); then
    echo "   problems seen:"
    for i in "${!PROBLEMS[@]}"; do
        echo "     - ${PROBLEMS[$i]}"
        record "problem.$((i + 1))" "${PROBLEMS[$i]}"
    done
fi
cp "$RESULTS_TMP" "$RESULTS"
echo "   written to ${RESULTS#"$ROOT"/}"
