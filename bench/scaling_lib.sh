# Shared by bench/scaling.sh and bench/responsiveness.sh (sourced, not run).
# The same habits as bench/run.sh: the release binary as it is, a fresh copy
# of the database and a fresh server per measurement, free ports on
# 127.0.0.1, ROCKET_LOG_LEVEL=critical, a fixed ROCKET_SECRET_KEY, every
# process stopped and the work folder removed on exit, time limits on every
# step. See bench/README.md, "Scaling with the data".

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
cd "$ROOT"   # the server finds Rocket.toml here

SECONDS_PER_RUN=${BENCH_SECONDS:-5}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
WRK_TIMEOUT=${BENCH_WRK_TIMEOUT:-30s}
LOG_LEVEL=${BENCH_LOG_LEVEL:-critical}
DB_DIR=${BENCH_DB_DIR:-$BENCH_DIR/results/db}
REBUILD=${BENCH_REBUILD:-0}
POSTGRES=${BENCH_POSTGRES:-}
BIN=${BENCH_BIN:-$ROOT/target/release/portfolio}
SECRET_KEY=bALgVYaJ3kYV6EI1vccjroNCu0zIH5mnWkqO0OnaElY=
ADMIN_PASSWORD=bench-admin-password
if [[ -n $POSTGRES ]]; then BACKEND=postgres; else BACKEND=sqlite; fi
PG_TEMPLATE=portfolio_scaling_template   # and portfolio_scaling_run, per measurement
# psql: no NOTICEs ("database ... does not exist, skipping").
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
WRK_GRACE_S=60

die() { echo "bench: $*" >&2; exit 1; }

[[ $SECONDS_PER_RUN =~ ^[0-9]+$ ]] && (( SECONDS_PER_RUN >= 1 )) || die "BENCH_SECONDS must be a whole number >= 1"
(( CONNECTIONS >= THREADS )) || die "BENCH_CONNECTIONS must be >= BENCH_THREADS"
tools="wrk python3 curl timeout"
[[ $BACKEND == postgres ]] && tools+=" psql"
for tool in $tools; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install -y wrk curl; see bench/README.md)"
done
[[ -x $BIN ]] || die "no release binary at $BIN (cargo build --release --locked)"

# ---- clean-up -----------------------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/portfolio-scaling.XXXXXX")
SERVER_PIDS=()
HELPER_PIDS=()
PROBLEMS=()

kill_tree() {   # kill_tree PID: SIGTERM to PID and its descendants, by id
    local child
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        kill_tree "$child"
    done
    kill -TERM "$1" 2>/dev/null || true
}

forget_helper() {
    local -a left=()
    local p
    for p in "${HELPER_PIDS[@]}"; do [[ $p == "$1" ]] || left+=("$p"); done
    HELPER_PIDS=("${left[@]}")
}

cleanup() {
    local status=$?
    set +e
    for pid in "${HELPER_PIDS[@]}"; do kill_tree "$pid"; done
    for pid in "${SERVER_PIDS[@]}"; do stop_server "$pid"; done
    if [[ $BACKEND == postgres ]]; then
        # The run's copy and the template (up to a few GiB at 1M posts).
        psql -X -q "$POSTGRES" -c "DROP DATABASE IF EXISTS portfolio_scaling_run WITH (FORCE)" \
            -c "DROP DATABASE IF EXISTS $PG_TEMPLATE WITH (FORCE)" >/dev/null 2>&1
    fi
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

# ---- the server ---------------------------------------------------------------

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

postgres_url() {   # postgres_url NAME: BENCH_POSTGRES with its database replaced by NAME
    python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$POSTGRES" "$1"
}

database_url() {   # database_url DIR
    if [[ -f $1/database_url ]]; then cat "$1/database_url"; else echo "$1/portfolio.db"; fi
}

# start_server DIR [LOG_LEVEL]: a server on DIR's database at a free loopback
# port, DIR as its volume (uploads/). Sets SERVER_PID and PORT; waits at most
# 120 s (a large database on a cold disk) for GET /health to say 200.
start_server() {
    local dir=$1 level=${2:-$LOG_LEVEL}
    local url
    url=$(database_url "$dir")
    PORT=$(free_port)
    local -a extra=()
    [[ -n ${BENCH_WORKERS:-} ]] && extra+=("ROCKET_WORKERS=$BENCH_WORKERS")
    env ROCKET_PORT="$PORT" \
        ROCKET_ADDRESS=127.0.0.1 \
        ROCKET_DATABASES="{portfolio={url=\"$url\"}}" \
        ROCKET_VOLUME_DIR="$dir" \
        ROCKET_PUBLIC_URL="http://127.0.0.1:$PORT" \
        ROCKET_SECRET_KEY="$SECRET_KEY" \
        PORTFOLIO_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
        ROCKET_LOG_LEVEL="$level" \
        "${extra[@]}" \
        "$BIN" >>"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    SERVER_PIDS+=("$SERVER_PID")
    local deadline=$((SECONDS + 120))
    until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/health") == 200 ]]; do
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$dir/server.log" >&2; die "the server exited at start-up"; }
        (( SECONDS < deadline )) || { tail -20 "$dir/server.log" >&2; die "no 200 from /health within 120 s"; }
        sleep 0.05
    done
}

stop_server() {   # stop_server PID: SIGTERM, SIGKILL after 20 s
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

# Server log lines that tell of trouble, less the expected ones (as run.sh).
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

# ---- databases ------------------------------------------------------------------

# db_path SIZE: the cached SQLite database of SIZE posts.
db_path() { echo "$DB_DIR/posts-$1.db"; }

fact() {   # fact FACTS_FILE NAME
    sed -n "s/^$2=//p" "$1" | head -1
}

# ensure_db SIZE: builds (or reuses) the cached database of SIZE posts.
# Reused when it was built today (UTC; the trending views are dated), by a
# make_db.py no newer than it, and BENCH_REBUILD is not 1.
ensure_db() {
    local size=$1 db
    db=$(db_path "$size")
    local today
    today=$(date -u +%F)
    if [[ $REBUILD != 1 && -f $db && -f $db.facts && $db -nt $BENCH_DIR/make_db.py &&
          $(fact "$db.facts" built_utc_day) == "$today" && $(fact "$db.facts" problems) == 0 ]]; then
        echo "   reusing $db (built today in $(fact "$db.facts" total_s) s)"
        return
    fi
    mkdir -p "$DB_DIR"
    echo "   building $db with make_db.py ..."
    local t0=$SECONDS
    timeout 7200 python3 "$BENCH_DIR/make_db.py" "$size" "$db" --bin "$BIN" >"$WORK/make_db-$size.out" 2>"$WORK/make_db-$size.log" || {
        tail -20 "$WORK/make_db-$size.log" >&2
        die "make_db.py $size failed"
    }
    echo "   built in $((SECONDS - t0)) s: $(cat "$WORK/make_db-$size.out")"
}

# The PostgreSQL template of the current size: the SQLite database moved
# the way users move theirs (db export, db import), as bench/run.sh does.
prepare_postgres() {   # prepare_postgres SIZE
    local db
    db=$(db_path "$1")
    echo "   moving it to PostgreSQL (db export, db import into $PG_TEMPLATE)"
    rm -f "$WORK/template.json"
    psql -X -q "$POSTGRES" -c "DROP DATABASE IF EXISTS portfolio_scaling_run WITH (FORCE)" \
        -c "DROP DATABASE IF EXISTS $PG_TEMPLATE WITH (FORCE)" \
        -c "CREATE DATABASE $PG_TEMPLATE ENCODING 'UTF8' TEMPLATE template0"
    # Export from a copy: the export may open the file read-write.
    # Migrated first: the database may have been built by an older binary,
    # and export wants this binary's schema (a server migrates at launch).
    cp "$db" "$WORK/export.db"
    env ROCKET_DATABASES="{portfolio={url=\"$WORK/export.db\"}}" ROCKET_LOG_LEVEL=off \
        timeout 7200 "$BIN" db migrate | sed 's/^/   /'
    env ROCKET_DATABASES="{portfolio={url=\"$WORK/export.db\"}}" ROCKET_LOG_LEVEL=off \
        timeout 7200 "$BIN" db export "$WORK/template.json" | sed 's/^/   /'
    env ROCKET_DATABASES="{portfolio={url=\"$(postgres_url "$PG_TEMPLATE")\"}}" ROCKET_LOG_LEVEL=off \
        timeout 7200 "$BIN" db import "$WORK/template.json" | sed 's/^/   /'
    rm -f "$WORK/template.json" "$WORK"/export.db*
}

# fresh_server SIZE NAME: a fresh copy of SIZE's database (and its uploads)
# in a new folder, and a server on it. Sets RUN_DIR, SERVER_PID and PORT.
fresh_server() {
    local size=$1 name=$2 db
    db=$(db_path "$size")
    RUN_DIR=$WORK/$size-$name
    rm -rf "$RUN_DIR"
    mkdir -p "$RUN_DIR"
    if [[ -d ${db%.db}.uploads ]]; then cp -r "${db%.db}.uploads" "$RUN_DIR/uploads"; fi
    if [[ $BACKEND == postgres ]]; then
        psql -X -q "$POSTGRES" -c "DROP DATABASE IF EXISTS portfolio_scaling_run WITH (FORCE)" \
            -c "CREATE DATABASE portfolio_scaling_run TEMPLATE $PG_TEMPLATE"
        postgres_url portfolio_scaling_run >"$RUN_DIR/database_url"
    else
        cp "$db" "$RUN_DIR/portfolio.db"
    fi
    start_server "$RUN_DIR" "${3:-$LOG_LEVEL}"
}

# Facts the cases need, read from the SQLite file (the ids are the same on
# PostgreSQL: db import keeps them). Writes to DIR: post_ids (10,000 random
# published post ids, one a line), user_ids (random user ids), and prints
# key=value lines: heavy_id, image, users, published.
db_facts() {   # db_facts DB DIR
    python3 - "$1" "$2" <<'PY'
import os, random, sqlite3, sys
db, out = sys.argv[1], sys.argv[2]
conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
rng = random.Random(7)
(published,) = conn.execute("SELECT count(*) FROM posts WHERE published").fetchone()
# Random published ids: rowid range sampling, kept when published (drafts
# and gaps skipped), so no full-table sort at a million posts.
lo, hi = conn.execute("SELECT min(id), max(id) FROM posts").fetchone()
want = min(10000, published)
ids, seen = [], set()
q = "SELECT published FROM posts WHERE id = ?"
while len(ids) < want:
    i = rng.randint(lo, hi)
    if i in seen:
        continue
    row = conn.execute(q, (i,)).fetchone()
    seen.add(i)
    if row and row[0]:
        ids.append(i)
with open(os.path.join(out, "post_ids"), "w") as f:
    f.write("\n".join(map(str, ids)) + "\n")
users = [r[0] for r in conn.execute("SELECT id FROM users")]
with open(os.path.join(out, "user_ids"), "w") as f:
    f.write("\n".join(str(rng.choice(users)) for _ in range(10000)) + "\n")
heavy = conn.execute("SELECT id FROM users WHERE uid = 'writer00001'").fetchone()
if heavy is None:  # not a make_db.py database: the most prolific account
    heavy = conn.execute("SELECT id FROM users ORDER BY published_posts DESC, id LIMIT 1").fetchone()
image = conn.execute("SELECT image FROM posts WHERE image IS NOT NULL AND published ORDER BY id LIMIT 1").fetchone()
print(f"heavy_id={heavy[0]}")
print(f"image={image[0] if image else ''}")
print(f"users={len(users)}")
print(f"published={published}")
# The post with the most comments (make_db.py gives one 20,000): a scan,
# once per size, outside any measurement.
busy = conn.execute("SELECT id FROM posts WHERE published ORDER BY comments DESC, id LIMIT 1").fetchone()
print(f"busy_post={busy[0] if busy else ''}")
comment = conn.execute("SELECT min(id) FROM comments").fetchone()
print(f"comment_id={comment[0] if comment and comment[0] else ''}")
PY
}

# walk_next PATH N: follows the JSON `next` links from PATH N times on the
# current server; prints "URL steps" (fewer steps when the list ends first).
walk_next() {
    timeout 300 python3 - "$PORT" "$1" "$2" <<'PY'
import http.client, json, sys
port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
steps = 0
for _ in range(n):
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 200:
        sys.exit(f"walk_next: {path} answered {resp.status}")
    nxt = json.loads(body).get("next")
    if not nxt:
        break
    path, steps = nxt, steps + 1
print(path, steps)
PY
}

# resolve_moved IN OUT: each path of IN as the server now answers it: the
# Location of a 301 (a post page asked for by id goes to its
# /posts/<id>-<slug> address), else the path itself.
resolve_moved() {
    timeout 300 python3 - "$PORT" "$1" "$2" <<'PY'
import http.client, sys
port, src, dst = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
out = []
for path in open(src).read().split():
    conn.request("GET", path)
    resp = conn.getresponse()
    resp.read()
    out.append(resp.getheader("Location") if resp.status == 301 else path)
open(dst, "w").write("\n".join(out) + "\n")
PY
}

# ---- wrk and curl -----------------------------------------------------------------

# run_wrk OUT CONNECTIONS SECONDS PATHS_FILE [THREADS]: wrk with scaling.lua
# against the current PORT; prints nothing (the BENCH line is in OUT).
run_wrk() {
    local out=$1 conns=$2 secs=$3 paths=$4 threads=${5:-$THREADS}
    (( conns < threads )) && threads=$conns
    BENCH_PATHS=$paths BENCH_COOKIE=${BENCH_COOKIE:-} timeout --kill-after=5 $(( secs + WRK_GRACE_S )) \
        wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout "$WRK_TIMEOUT" --latency \
        -s "$BENCH_DIR/scaling.lua" "http://127.0.0.1:$PORT" >"$out" 2>&1 &
    local pid=$! status=0
    HELPER_PIDS+=("$pid")
    wait "$pid" || status=$?
    forget_helper "$pid"
    (( status == 0 )) || { cat "$out" >&2; die "wrk failed (exit $status)"; }
    grep -q '^BENCH ' "$out" || { cat "$out" >&2; die "wrk printed no BENCH line"; }
}

field() {   # field OUT NAME: NAME=value from the BENCH line of OUT
    sed -n 's/^BENCH .*[[:space:]]'"$2"'=\([^[:space:]]*\).*/\1/p' "$1" | head -1
}

# single_requests PATHS_FILE WARMUP COUNT OUT: WARMUP + COUNT sequential
# GETs with one curl (one keep-alive connection, as a browser would), the
# paths taken in turn from PATHS_FILE. OUT gets "status seconds" per
# measured request; prints "median_ms max_ms codes" (codes: status:count).
single_requests() {
    local paths=$1 warm=$2 count=$3 out=$4
    local -a args=()
    local i=0 line
    local -a lines=()
    mapfile -t lines <"$paths"
    for ((i = 0; i < warm + count; i++)); do
        line=${lines[$((i % ${#lines[@]}))]}
        args+=(-o /dev/null "http://127.0.0.1:$PORT$line")
    done
    local -a cookie=()
    [[ -n ${BENCH_COOKIE:-} ]] && cookie=(-H "Cookie: $BENCH_COOKIE")
    timeout 600 curl -s "${cookie[@]}" --max-time 60 -w '%{http_code} %{time_total}\n' "${args[@]}" >"$out.all" || true
    tail -n +"$((warm + 1))" "$out.all" >"$out"
    python3 - "$out" "$count" <<'PY'
import statistics, sys, collections
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
count = int(sys.argv[2])
codes = collections.Counter(r[0] for r in rows)
if len(rows) < count:
    codes["missing"] += count - len(rows)
ms = [float(r[1]) * 1000 for r in rows] or [float("nan")]
print(f"{statistics.median(ms):.2f} {max(ms):.2f} " + ",".join(f"{c}:{n}" for c, n in sorted(codes.items())))
PY
}

# ---- routes -----------------------------------------------------------------------

# routes_file_section N: the routes of routes.txt's section N (1: public,
# 2: needs a login), one a line.
# admin_cookie: logs the seeded admin in on the running server and prints
# `portfolio_session=...`, the Cookie header a logged-in admin sends.
admin_cookie() {
    local jar=$RUN_DIR/cookies.txt
    timeout 60 curl -s -o /dev/null -c "$jar" -H 'Content-Type: application/json' \
        -d "{\"uid\": \"admin\", \"password\": \"$ADMIN_PASSWORD\"}" \
        "http://127.0.0.1:$PORT/api/session" || return 1
    awk '$6 == "portfolio_session" { print $6 "=" $7 }' "$jar" | tail -1
}

routes_file_section() {
    awk -v want="$1" '
        /^# needs a login:/ { section = 2; next }
        /^[[:space:]]*(#|$)/ { next }
        { if ((section ? section : 1) == want) print }
    ' "$BENCH_DIR/routes.txt"
}

# mounted_get_routes LOG: the GET routes of a launch log (normal level),
# less the API's contract gate, which serves nothing of its own.
mounted_get_routes() {
    sed 's/\x1b\[[0-9;]*m//g' "$1" |
        sed -n '/^Routes:/,/^[A-Z][a-z]*:$/p' | grep -v '(api_contract_gate)' |
        sed -n 's/^ *>> ([^)]*) \(GET .*\)$/\1/p' | sed 's/[[:space:]]*$//' | sort -u
}

# check_routes LOG: every mounted GET route in routes.txt, and no stale one.
check_routes() {
    local mounted listed
    mounted=$(mounted_get_routes "$1")
    [[ -n $mounted ]] || { PROBLEMS+=("could not read the routes from the launch log"); return; }
    listed=$( { routes_file_section 1; routes_file_section 2; } | sort -u)
    local missing stale
    missing=$(comm -23 <(printf '%s\n' "$mounted") <(printf '%s\n' "$listed"))
    stale=$(comm -13 <(printf '%s\n' "$mounted") <(printf '%s\n' "$listed"))
    if [[ -n $missing ]]; then
        while read -r r; do PROBLEMS+=("mounted but not in bench/routes.txt: $r"); done <<<"$missing"
    fi
    if [[ -n $stale ]]; then
        while read -r r; do PROBLEMS+=("in bench/routes.txt but not mounted: $r"); done <<<"$stale"
    fi
    echo "   $(wc -l <<<"$mounted") GET routes mounted; routes.txt: $(routes_file_section 1 | wc -l) benchmarked, $(routes_file_section 2 | wc -l) need a login; $( [[ -z $missing && -z $stale ]] && echo "in step" || echo "OUT OF STEP (see problems)")"
}

machine_note() {
    local load1 cores
    load1=$(cut -d' ' -f1 /proc/loadavg)
    cores=$(nproc)
    echo "   machine: $cores cores, load average $load1 at start; wrk $(wrk --version 2>&1 | head -1 | cut -d' ' -f2)"
    if python3 -c "import sys; sys.exit(0 if float('$load1') > 0.5 * $cores else 1)"; then
        echo "   WARNING: the machine is busy (load $load1 on $cores cores): numbers will be low and noisy." >&2
    fi
}
