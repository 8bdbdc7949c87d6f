"""Sums `perf report --sort dso,symbol` lines into the parts of a request
(bench/profile.sh prints them as "by part"). Reads the report on stdin."""
import re
import sys

# First match wins: the more specific patterns come first.
PARTS = [
    ("markdown (pulldown-cmark)", r"pulldown_cmark"),
    ("HTML cleaning (ammonia, html5ever)", r"ammonia|html5ever|markup5ever|tendril|string_cache|maplit"),
    ("templates (tera)", r"tera::"),
    ("template context (figment, serde_json)", r"figment|serde_json|serde::|serde_core"),
    ("SQLite", r"sqlite3|pcache1|btree|Btree|vdbe|Vdbe|yy_|pager|Pager|unixLock|posix_fcntl|fcntl"),
    ("PostgreSQL client", r"pq::|libpq|PQ"),
    ("Diesel", r"diesel"),
    ("allocator", r"\bmi_|_mi_|malloc|free\b|realloc|cfree"),
    ("memory copy and compare", r"memmove|memcpy|memcmp|memset|memchr|strlen"),
    ("hashing", r"hash|Hash|sip::"),
    ("formatting (fmt, chrono)", r"core::fmt|alloc::fmt|chrono|format"),
    ("Rocket, hyper, HTTP", r"rocket|hyper|http::|h2::|cookie|Cookie"),
    ("async runtime (tokio)", r"tokio|futures|parking_lot|pthread|futex|std::thread|crossbeam"),
    ("crypto (cookies, tokens)", r"aes|Aes|ghash|GHash|gcm|polyval|sha2|Sha|chacha|rand"),
    ("strings (replace, collect)", r"str::|String|string::"),
]


def main():
    totals = {}
    kernel = other = 0.0
    for line in sys.stdin:
        m = re.match(r"\s*([0-9.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)", line)
        if not m:
            continue
        share, dso, kind, symbol = float(m[1]), m[2], m[3], m[4]
        if kind == "k" or dso.startswith("[kernel"):
            kernel += share
            continue
        for name, pattern in PARTS:
            if re.search(pattern, symbol):
                totals[name] = totals.get(name, 0.0) + share
                break
        else:
            other += share
    rows = sorted(totals.items(), key=lambda kv: -kv[1])
    rows += [("kernel (network, scheduling)", kernel), ("the rest", other)]
    for name, share in rows:
        print(f"  {share:5.1f} %  {name}")


main()
