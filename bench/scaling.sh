#!/usr/bin/env bash
# portfolio's scaling benchmark: how each public GET route holds up as the
# data grows. Run by hand (never by CI); see bench/README.md, "Scaling with
# the data".
#
#   bash bench/scaling.sh                                 # 10k, 100k, 1M posts
#   BENCH_SIZES=10000 BENCH_SECONDS=2 bash bench/scaling.sh   # a smoke run
#   BENCH_POSTGRES=postgres://portfolio:portfolio@127.0.0.1:5432/portfolio bash bench/scaling.sh
#
# For each size: builds (or reuses, see ensure_db) a database with
# make_db.py, then for each case below (every route of routes.txt's first
# section, some with several URLs) starts a fresh server on a fresh copy,
# measures 5 warm-up + 20 sequential requests with curl (median, max) and
# `wrk -t2 -c64 -d${BENCH_SECONDS}s --latency` (req/s, p99, non-2xx), and
# checks the status codes. Writes bench/results/scaling-latest.md (and
# scaling-latest.txt, key=value) or *-postgres.* on PostgreSQL.
# Uses target/release/portfolio as it is: it never runs cargo.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/scaling_lib.sh"

SIZES=${BENCH_SIZES:-10000 100000 1000000}
WALK=${BENCH_WALK:-50}
WARMUP=${BENCH_WARMUP:-5}
SINGLE=${BENCH_SINGLE:-20}
ONLY=${BENCH_CASES:-}   # e.g. "api_search_common post_page": only these cases
SUFFIX=""
[[ $BACKEND == postgres ]] && SUFFIX="-postgres"
RESULTS_MD=${BENCH_RESULTS:-$BENCH_DIR/results/scaling-latest$SUFFIX.md}
RESULTS_TXT=${RESULTS_MD%.md}.txt
for size in $SIZES; do
    [[ $size =~ ^[0-9]+$ ]] && (( size >= 100 )) || die "BENCH_SIZES: '$size' is not a number >= 100"
done

ROWS=$WORK/rows.tsv   # size, case, route, url, rps, p50, p99, single median, max, non2xx, errors, codes, expected-ok
: >"$ROWS"
TXT=$WORK/latest.txt
: >"$TXT"
record() { printf '%s=%s\n' "$1" "$2" >>"$TXT"; }

echo "== portfolio scaling benchmark ($BACKEND): sizes $SIZES; wrk -t$THREADS -c$CONNECTIONS -d${SECONDS_PER_RUN}s; $WARMUP+$SINGLE single requests"
machine_note
record date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
record backend "$BACKEND"
record commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
record worktree_dirty "$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo yes || echo no)"
record cores "$(nproc)"
record load_at_start "$(cut -d' ' -f1 /proc/loadavg)"
record wrk "$(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
record seconds "$SECONDS_PER_RUN"
record connections "$CONNECTIONS"
record threads "$THREADS"
record sizes "$SIZES"
record binary_bytes "$(stat -c %s "$BIN")"
record binary_mtime "$(date -u -r "$BIN" +%Y-%m-%dT%H:%M:%SZ)"

# ---- the cases ------------------------------------------------------------------------
#
# add_case NAME ROUTE URL|@FILE [EXPECT]: ROUTE as in routes.txt; a URL (one
# fixed path) or @FILE (random paths, one a line). EXPECT: the status codes
# that count as right, a regex (default 2xx).
# add_admin_case NAME ROUTE URL: the same, measured logged in as the seeded
# admin (a session made on the fresh server before the measurement; curl and
# wrk send its cookie). For routes of routes.txt's "needs a login" section.
CASES=()
declare -A C_ROUTE C_URL C_PATHS C_EXPECT C_ADMIN
add_case() {
    local name=$1 route=$2 target=$3 expect=${4:-2[0-9][0-9]}
    if [[ -n $ONLY && " $ONLY " != *" $name "* ]]; then return; fi
    CASES+=("$name")
    C_ADMIN[$name]=""
    C_ROUTE[$name]=$route
    C_EXPECT[$name]=$expect
    if [[ $target == @* ]]; then
        C_PATHS[$name]=${target#@}
        C_URL[$name]="$(head -1 "${target#@}" | sed 's/[0-9][0-9]*$/<random>/') ($(wc -l <"${target#@}") random)"
    else
        C_PATHS[$name]=$CASE_DIR/$name.path
        printf '%s\n' "$target" >"${C_PATHS[$name]}"
        C_URL[$name]=$target
    fi
}

add_admin_case() {
    add_case "$@"
    [[ " ${CASES[*]} " == *" $1 "* ]] && C_ADMIN[$1]=yes
    return 0
}

# define_cases SIZE: finds the concrete URLs on a server of SIZE's database
# (deep cursors by walking `next` links; ids from the file).
define_cases() {
    local size=$1
    CASE_DIR=$WORK/cases-$size
    mkdir -p "$CASE_DIR"
    CASES=()
    local facts heavy image users published
    facts=$(db_facts "$(db_path "$size")" "$CASE_DIR")
    heavy=$(sed -n 's/^heavy_id=//p' <<<"$facts")
    image=$(sed -n 's/^image=//p' <<<"$facts")
    users=$(sed -n 's/^users=//p' <<<"$facts")
    published=$(sed -n 's/^published=//p' <<<"$facts")
    local busy comment
    busy=$(sed -n 's/^busy_post=//p' <<<"$facts")
    comment=$(sed -n 's/^comment_id=//p' <<<"$facts")
    sed 's|^|/posts/|' "$CASE_DIR/post_ids" >"$CASE_DIR/post_ids_paths"
    sed 's|^|/api/posts/|' "$CASE_DIR/post_ids" >"$CASE_DIR/api_posts"
    sed 's|^|/users/|' "$CASE_DIR/user_ids" >"$CASE_DIR/profiles"
    sed 's|^|/api/users/|' "$CASE_DIR/user_ids" >"$CASE_DIR/api_users"
    sed 's|^\(.*\)$|/users/\1/feed.xml|' "$CASE_DIR/user_ids" >"$CASE_DIR/user_feeds"
    # Numbered pages stop at 51 (Page::MAX_OFFSET 1,000 at 20 a page).
    local posts_p=$(( (published + 19) / 20 )) users_p=$(( (users + 19) / 20 ))
    (( posts_p > 51 )) && posts_p=51
    (( users_p > 51 )) && users_p=51

    # Deep cursors, walked on a server of this database.
    fresh_server "$size" discover
    local deep_posts deep_heavy deep_users steps
    read -r deep_posts steps < <(walk_next "/api/posts?per_page=20" "$WALK")
    local posts_steps=$steps
    read -r deep_heavy steps < <(walk_next "/api/posts?per_page=20&user=$heavy" "$WALK")
    local heavy_steps=$steps
    read -r deep_users steps < <(walk_next "/api/users?per_page=20&sort=posts" "$WALK")
    local users_steps=$steps
    local deep_tag
    read -r deep_tag steps < <(walk_next "/api/posts?per_page=20&tag=lamp" "$WALK")
    local tag_steps=$steps
    local deep_comments
    read -r deep_comments steps < <(walk_next "/api/posts/$busy/comments?per_page=20" "$WALK")
    local comment_steps=$steps
    printf '/posts/%s\n' "$busy" >"$CASE_DIR/busy_id_path"
    resolve_moved "$CASE_DIR/busy_id_path" "$CASE_DIR/busy_page"
    local busy_page; busy_page=$(head -1 "$CASE_DIR/busy_page")
    # Post pages live at /posts/<id>-<slug>: the addresses the ids move to.
    resolve_moved "$CASE_DIR/post_ids_paths" "$CASE_DIR/post_pages"
    stop_server "$SERVER_PID"
    [[ -n $deep_posts && -n $deep_heavy && -n $deep_users && -n $deep_tag && -n $deep_comments ]] || die "walking the next links failed"
    local comments_cursor=${deep_comments#*after=}; comments_cursor=${comments_cursor%%&*}
    local tag_cursor=${deep_tag#*after=}; tag_cursor=${tag_cursor%%&*}
    # The same cursors open the HTML listings (same order, same keys).
    local posts_cursor=${deep_posts#*after=}; posts_cursor=${posts_cursor%%&*}
    local heavy_cursor=${deep_heavy#*after=}; heavy_cursor=${heavy_cursor%%&*}
    echo "   heavy author id $heavy; deep cursors after $posts_steps (posts), $heavy_steps (heavy author), $users_steps (users by posts) next links"
    record "size$size.heavy_id" "$heavy"
    record "size$size.deep_steps" "posts:$posts_steps,heavy:$heavy_steps,users:$users_steps,tag:$tag_steps,comments:$comment_steps"

    add_case home              "GET /?<paging..>"            "/"
    add_case login             "GET /login?<next>"           "/login"
    add_case users             "GET /users?<sort>&<paging..>" "/users"
    add_case users_by_posts    "GET /users?<sort>&<paging..>" "/users?sort=posts"
    add_case users_last_page   "GET /users?<sort>&<paging..>" "/users?page=$users_p"
    add_case posts             "GET /posts?<paging..>"       "/posts"
    add_case posts_p51         "GET /posts?<paging..>"       "/posts?page=$posts_p"
    add_case posts_deep        "GET /posts?<paging..>"       "/posts?after=$posts_cursor"
    add_case signup            "GET /signup?<invite>"        "/signup"
    add_case forgot_password   "GET /password/forgot"        "/password/forgot"
    add_case reset_password    "GET /password/reset?<token>" "/password/reset?token=no-such-link"
    add_case verify_email      "GET /email/verify?<token>"   "/email/verify?token=no-such-link"
    add_case search_common     "GET /search?<q>&<paging..>"  "/search?q=lamp"
    add_case search_rare       "GET /search?<q>&<paging..>"  "/search?q=zeppelin"
    add_case health            "GET /health"                 "/health"
    add_case profile_heavy     "GET /users/<id>?<paging..>"  "/users/$heavy"
    add_case profile_heavy_deep "GET /users/<id>?<paging..>" "/users/$heavy?after=$heavy_cursor"
    add_case profile_random    "GET /users/<id>?<paging..>"  "@$CASE_DIR/profiles"
    add_case post_moved        "GET /posts/<address>?<paging..>"        "@$CASE_DIR/post_ids_paths" 301
    add_case tag_big           "GET /tags/<name>?<paging..>" "/tags/lamp"
    add_case tag_big_p51       "GET /tags/<name>?<paging..>" "/tags/lamp?page=51"
    add_case tag_big_deep      "GET /tags/<name>?<paging..>" "/tags/lamp?after=$tag_cursor"
    add_case tag_small         "GET /tags/<name>?<paging..>" "/tags/topic-7"
    add_case tag_rare          "GET /tags/<name>?<paging..>" "/tags/zeppelin"
    # The busy post: its page with the first 50 of 20,000 comments, and deep.
    add_case post_page_busy    "GET /posts/<address>?<paging..>" "$busy_page"
    add_case post_page_busy_deep "GET /posts/<address>?<paging..>" "$busy_page?after=$comments_cursor"
    add_case api_comments_busy "GET /api/posts/<id>/comments?<paging..>" "/api/posts/$busy/comments"
    add_case api_comments_busy_p51 "GET /api/posts/<id>/comments?<paging..>" "/api/posts/$busy/comments?page=51&per_page=20"
    add_case api_comments_busy_deep "GET /api/posts/<id>/comments?<paging..>" "$deep_comments"
    add_case api_comment       "GET /api/comments/<id>"      "/api/comments/$comment"
    add_case post_page         "GET /posts/<address>?<paging..>"             "@$CASE_DIR/post_pages"
    if [[ -n $image ]]; then
        add_case upload        "GET /uploads/<name>"         "/uploads/$image"
    fi
    add_case api_docs          "GET /api/docs"               "/api/docs"
    add_case api_users         "GET /api/users?<sort>&<paging..>" "/api/users"
    add_case api_users_by_posts "GET /api/users?<sort>&<paging..>" "/api/users?sort=posts"
    add_case api_users_deep    "GET /api/users?<sort>&<paging..>" "$deep_users"
    add_case api_posts         "GET /api/posts?<user>&<tag>&<q>&<paging..>" "/api/posts"
    add_case api_posts_p51     "GET /api/posts?<user>&<tag>&<q>&<paging..>" "/api/posts?page=$posts_p&per_page=20"
    add_case api_posts_deep    "GET /api/posts?<user>&<tag>&<q>&<paging..>" "$deep_posts"
    add_case api_posts_heavy   "GET /api/posts?<user>&<tag>&<q>&<paging..>" "/api/posts?user=$heavy"
    add_case api_posts_heavy_deep "GET /api/posts?<user>&<tag>&<q>&<paging..>" "$deep_heavy"
    add_case api_posts_tag     "GET /api/posts?<user>&<tag>&<q>&<paging..>" "/api/posts?tag=lamp"
    add_case api_posts_tag_deep "GET /api/posts?<user>&<tag>&<q>&<paging..>" "$deep_tag"
    add_case api_search_common "GET /api/posts?<user>&<tag>&<q>&<paging..>" "/api/posts?q=lamp"
    add_case api_search_common_p51 "GET /api/posts?<user>&<tag>&<q>&<paging..>" "/api/posts?q=lamp&page=51"
    add_case api_search_rare   "GET /api/posts?<user>&<tag>&<q>&<paging..>" "/api/posts?q=zeppelin"
    add_case openapi           "GET /api/openapi.json"       "/api/openapi.json"
    add_case api_user          "GET /api/users/<id>"         "@$CASE_DIR/api_users"
    add_case api_post          "GET /api/posts/<id>"         "@$CASE_DIR/api_posts"
    add_case trending          "GET /api/posts/trending?<limit>" "/api/posts/trending"
    add_case static            "GET /static/<path..>"        "/static/style.css"
    # Feeds: the 20 newest by the (published, updated_at, id) index, rendered.
    add_case site_feed         "GET /feed.xml"               "/feed.xml"
    add_case user_feed_heavy   "GET /users/<id>/feed.xml"    "/users/$heavy/feed.xml"
    add_case user_feed_random  "GET /users/<id>/feed.xml"    "@$CASE_DIR/user_feeds"
    add_case tag_feed_big      "GET /tags/<name>/feed.xml"   "/tags/lamp/feed.xml"
    add_case tag_feed_small    "GET /tags/<name>/feed.xml"   "/tags/topic-7/feed.xml"
    # Sitemaps: the index reads MAX(id) of three primary keys; a chunk is a
    # primary-key range of sitemap_chunk ids (chunk 0 is a full one).
    add_case sitemap_index     "GET /sitemap.xml"            "/sitemap.xml"
    add_case sitemap_posts     "GET /sitemaps/<file>"        "/sitemaps/posts-0.xml"
    add_case sitemap_users     "GET /sitemaps/<file>"        "/sitemaps/users-0.xml"
    add_case sitemap_tags      "GET /sitemaps/<file>"        "/sitemaps/tags-0.xml"
    add_case robots            "GET /robots.txt"             "/robots.txt"
    # Logged in as the admin: the dashboard reads kept counts, a month of
    # daily rows and the trending board, whatever the size.
    add_admin_case admin_dashboard "GET /admin"              "/admin"
}

# ---- per size ----------------------------------------------------------------------------

ROUTES_CHECKED=0
for size in $SIZES; do
    echo
    echo "== $size posts"
    ensure_db "$size"
    db=$(db_path "$size")
    record "size$size.db_bytes" "$(stat -c %s "$db")"
    [[ -f $db.facts ]] && record "size$size.make_db_total_s" "$(fact "$db.facts" total_s)"
    [[ $BACKEND == postgres ]] && prepare_postgres "$size"

    if (( ROUTES_CHECKED == 0 )); then
        # The routes, from a launch log at the normal level.
        fresh_server "$size" routes normal
        stop_server "$SERVER_PID"
        check_routes "$RUN_DIR/server.log"
        ROUTES_CHECKED=1
    fi

    define_cases "$size"
    # Every benchmarked route has at least one case.
    while read -r route; do
        found=0
        for name in "${CASES[@]}"; do [[ ${C_ROUTE[$name]} == "$route" ]] && found=1; done
        (( found || ${#ONLY} )) || PROBLEMS+=("no case measures '$route' (add one in scaling.sh)")
    done < <(routes_file_section 1)

    printf '   %-24s %10s %9s %9s %9s %8s  %s\n' case "req/s" "p99 ms" "1-req ms" "max ms" "non-2xx" "url"
    for name in "${CASES[@]}"; do
        fresh_server "$size" "$name"
        BENCH_COOKIE=""
        if [[ -n ${C_ADMIN[$name]} ]]; then
            BENCH_COOKIE=$(admin_cookie) && [[ -n $BENCH_COOKIE ]] \
                || { stop_server "$SERVER_PID"; die "$name: could not log in as admin"; }
        fi
        export BENCH_COOKIE
        single=$(single_requests "${C_PATHS[$name]}" "$WARMUP" "$SINGLE" "$RUN_DIR/curl.out")
        read -r med max codes <<<"$single"
        out=$RUN_DIR/wrk.out
        run_wrk "$out" "$CONNECTIONS" "$SECONDS_PER_RUN" "${C_PATHS[$name]}"
        stop_server "$SERVER_PID"
        trouble=$(log_trouble "$RUN_DIR/server.log")
        rps=$(field "$out" rps) p50=$(field "$out" p50_ms) p99=$(field "$out" p99_ms) bad=$(field "$out" non2xx)
        errs=$(( $(field "$out" err_connect) + $(field "$out" err_read) + $(field "$out" err_write) + $(field "$out" err_timeout) ))
        # The curl statuses must all match EXPECT.
        wrong=""
        IFS=, read -ra parts <<<"$codes"
        for part in "${parts[@]}"; do
            [[ ${part%%:*} =~ ^(${C_EXPECT[$name]})$ ]] || wrong+="${wrong:+,}$part"
        done
        ok=yes
        [[ -z $wrong ]] || { ok=no; PROBLEMS+=("$size $name: curl saw statuses $wrong (${C_URL[$name]})"); }
        (( bad == 0 )) || { ok=no; PROBLEMS+=("$size $name: $bad non-2xx answers under wrk"); }
        (( errs == 0 )) || PROBLEMS+=("$size $name: $errs wrk socket errors/timeouts")
        (( trouble == 0 )) || PROBLEMS+=("$size $name: $trouble trouble line(s) in the server log")
        printf '   %-24s %10s %9s %9s %9s %8s  %s%s\n' "$name" "$rps" "$p99" "$med" "$max" "$bad" \
            "${C_URL[$name]:0:70}" "$( [[ $ok == yes ]] || echo "  [curl: $codes]")"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$name" "${C_ROUTE[$name]}" \
            "${C_URL[$name]}" "$rps" "$p50" "$p99" "$med" "$max" "$bad" "$errs" "$codes" "$ok" >>"$ROWS"
        for k in rps p50 p99 med max bad errs codes; do
            record "size$size.$name.$k" "${!k}"
        done
    done
done

# ---- the report ----------------------------------------------------------------------------

record problems "${#PROBLEMS[@]}"
for i in "${!PROBLEMS[@]}"; do record "problem.$((i + 1))" "${PROBLEMS[$i]}"; done
mkdir -p "$(dirname "$RESULTS_MD")"
printf '%s\n' "${PROBLEMS[@]}" >"$WORK/problems"
python3 - "$ROWS" "$TXT" "$WORK/problems" "$SIZES" >"$WORK/latest.md" <<'PY'
import sys
rows_file, txt, problems_file, sizes = sys.argv[1:5]
sizes = sizes.split()
meta = dict(l.rstrip("\n").split("=", 1) for l in open(txt) if "=" in l)
rows = [l.rstrip("\n").split("\t") for l in open(rows_file) if l.strip()]
cases, by = [], {}
for r in rows:
    size, name = r[0], r[1]
    if name not in by:
        cases.append(name)
        by[name] = {"route": r[2], "url": r[3]}
    by[name][size] = r
problems = [p for p in open(problems_file).read().splitlines() if p]
out = []
w = out.append
w(f"# Scaling benchmark ({meta.get('backend')})")
w("")
w(f"{meta.get('date')}, commit {meta.get('commit')} (worktree dirty: {meta.get('worktree_dirty')}), "
  f"{meta.get('cores')} cores, load {meta.get('load_at_start')} at start, {meta.get('wrk')}; "
  f"`wrk -t{meta.get('threads')} -c{meta.get('connections')} -d{meta.get('seconds')}s`; "
  "single-request: median of 20 sequential curl requests after 5 warm-ups (one keep-alive connection). "
  "Fresh server and fresh database copy per row and size. Made by `bench/scaling.sh`.")
w("")
head = "| case | route | " + " | ".join(f"{s} req/s | {s} p99 ms | {s} 1-req ms" for s in sizes) + " |"
w(head)
w("|" + "---|" * (2 + 3 * len(sizes)))
for name in cases:
    cells = [f"`{name}`", f"`{by[name]['route']}`"]
    for s in sizes:
        r = by[name].get(s)
        if r is None:
            cells += ["", "", ""]
            continue
        flag = "" if r[12] == "yes" else " ⚠"
        cells += [f"{float(r[4]):.0f}{flag}", r[6], r[7]]
    w("| " + " | ".join(cells) + " |")
w("")
w("⚠: a status other than the expected one (see below).")
w("")
for s in sizes:
    w(f"## {s} posts")
    w("")
    extra = []
    for k in ("db_bytes", "make_db_total_s", "heavy_id", "deep_steps"):
        v = meta.get(f"size{s}.{k}")
        if v:
            extra.append(f"{k}={v}")
    w(", ".join(extra))
    w("")
    w("| case | URL | req/s | p50 ms | p99 ms | 1-req median ms | 1-req max ms | non-2xx (wrk) | socket errors | curl statuses |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    for name in cases:
        r = by[name].get(s)
        if r:
            url = r[3] if len(r[3]) <= 90 else r[3][:87] + "..."
            w(f"| `{name}` | `{url}` | {r[4]} | {r[5]} | {r[6]} | {r[7]} | {r[8]} | {r[9]} | {r[10]} | {r[11]} |")
    w("")
w("## Problems seen")
w("")
w("\n".join(f"- {p}" for p in problems) if problems else "none")
print("\n".join(out))
PY
cp "$WORK/latest.md" "$RESULTS_MD"
cp "$TXT" "$RESULTS_TXT"

echo
echo "== summary"
sed -n '/^| case | route/,/^$/p' "$RESULTS_MD"
if (( ${#PROBLEMS[@]} > 0 )); then
    echo "   problems seen:"
    for p in "${PROBLEMS[@]}"; do echo "     - $p"; done
else
    echo "   problems seen: none"
fi
echo "   written to ${RESULTS_MD#"$ROOT"/} and ${RESULTS_TXT#"$ROOT"/}"
