"""Hooks for .ci/schemathesis: rules the OpenAPI document states in words.

OpenAPI 3.0 cannot say that two query parameters exclude each other, that
`page` may go deeper the smaller `per_page` is, that a cursor is one the
server wrote, or that `publish_at` must agree with `published` as of now.
The document says each in its descriptions; here a generated *valid*
request is brought within them (invalid ones are sent as generated), so
that a refusal of what remains is a finding.
"""

from datetime import datetime, timezone

import schemathesis

# A well-formed cursor (`after`/`before`): base64url of "<key>.<id>".
CURSOR = "MS4x"
MAX_OFFSET = 1000  # numbered pages go this many items deep


def _positive(case):
    meta = case.meta
    return meta is not None and meta.generation.mode.is_positive


def _paging(query):
    if "q" in query:  # search results are paged by number
        query.pop("after", None)
        query.pop("before", None)
    if "tag" in query:  # a tag's posts: not with user or q
        query.pop("user", None)
        query.pop("q", None)
    given = [name for name in ("page", "after", "before") if name in query]
    for name in given[1:]:  # one of page, after, before
        query.pop(name)
    for name in ("after", "before"):
        if name in query:
            query[name] = CURSOR
    if "page" in query:
        try:
            per_page = int(query.get("per_page", 20))
            last = MAX_OFFSET // max(per_page, 1) + 1
            query["page"] = min(int(query["page"]), last)
        except (TypeError, ValueError):
            pass


def _publication(body):
    if "publish_at" not in body:
        return
    body.pop("published", None)  # the time alone says draft, scheduled or published
    try:
        at = datetime.fromisoformat(str(body["publish_at"]).replace("Z", "+00:00"))
        year = at.astimezone(timezone.utc).year
    except (ValueError, OverflowError):
        return
    if not 1900 <= year <= 9999:
        body["publish_at"] = "2001-02-03T04:05:06Z"


def _password(body):
    password = body.get("password")
    if not isinstance(password, str):
        return
    others = [str(body.get(key, "")).strip().lower() for key in ("uid", "name")]
    if password.strip().lower() in others:
        body["password"] = (password + "!")[-128:]


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if not _positive(case):
        return
    if isinstance(case.query, dict):
        _paging(case.query)
    if isinstance(case.body, dict):
        _publication(case.body)
        _password(case.body)
        if case.method.upper() == "PATCH" and case.operation.path == "/api/users/{id}":
            # Changing one's own password needs the current one, a secret.
            case.body.pop("password", None)
