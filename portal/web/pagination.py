"""The one pagination helper: count once, fetch one page."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from portal.extensions import db


@dataclass
class Page:
    """One page of results with what templates need to link the others."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _reshapes_rows(query: Select) -> bool:
    """Whether DISTINCT, GROUP BY, LIMIT or OFFSET decide which rows ``query`` returns.

    Read through public API only: a statement equals itself with DISTINCT added
    exactly when it is already DISTINCT, and itself without GROUP BY / LIMIT /
    OFFSET exactly when it has none.
    """
    return (query.compare(query.distinct()) or not query.compare(query.group_by(None))
            or not query.compare(query.limit(None).offset(None)))


def count_query(query: Select) -> Select:
    """A statement selecting how many rows ``query`` returns.

    COUNT(*) over the query itself when no DISTINCT/GROUP BY/LIMIT reshapes its rows
    (no column list to materialize: the org-wide member list counts ~4x faster),
    else COUNT(*) over the query as a subquery.
    """
    if _reshapes_rows(query):
        return select(func.count()).select_from(query.order_by(None).subquery())
    return query.order_by(None).with_only_columns(func.count(), maintain_column_froms=True)


def count(query: Select) -> int:
    """How many rows ``query`` returns (one statement)."""
    return db.session.scalar(count_query(query)) or 0


def paginate(query: Select, per_page: int | None = None, *, scalars: bool = True, total: int | None = None) -> Page:
    """Run ``query`` for the page named by ``?page=`` (bad values fall back to page 1).

    ``total``: how many rows ``query`` returns when the caller already counted them
    (with other figures in the same statement), so they are not counted twice.
    """
    per_page = per_page or current_app.config["PER_PAGE"]
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    if total is None:
        total = count(query)
    page = min(page, max(1, -(-total // per_page)))
    paged = query.limit(per_page).offset((page - 1) * per_page)
    result = db.session.execute(paged)
    items = list(result.scalars() if scalars else result)
    return Page(items=items, page=page, per_page=per_page, total=total)


#: The most rows one API page returns, whatever ``per_page`` asks.
API_MAX_PER_PAGE = 100


def api_page(query: Select, serialize: Callable[[Any], dict], *, key: str, scalars: bool = True,
             total: int | None = None) -> dict[str, Any]:
    """One page of an API list: ``{key: [serialize(row)…], "page", "per_page", "total", "next"}``.

    The page is named by ``?page=`` (from 1) and ``?per_page=`` (1 to :data:`API_MAX_PER_PAGE`, default
    ``PER_PAGE``); a value that is not such a number is refused (400), unlike the web pages, because a
    phone app should learn of its mistake. ``next`` is the URL of the next page, or None on the last.
    Every list in ``/api/v1`` pages this way, so a client pages them all alike.
    """
    from portal.errors import BadRequest

    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", current_app.config["PER_PAGE"]))
    except ValueError:
        raise BadRequest(_l("page and per_page must be whole numbers.")) from None
    if page < 1 or not 1 <= per_page <= API_MAX_PER_PAGE:
        raise BadRequest(_l("page must be 1 or more and per_page between 1 and %(most)s.", most=API_MAX_PER_PAGE))
    if total is None:
        total = count(query)
    offset = (page - 1) * per_page
    # past the last row nothing is read (a huge ?page= would not even fit the database's integer)
    rows = list(_rows(query.limit(per_page).offset(offset), scalars)) if offset < total else []
    more = page * per_page < total
    next_url = url_for(request.endpoint, **{**(request.view_args or {}), **request.args.to_dict(),
                                            "page": page + 1, "per_page": per_page}) if more else None
    return {key: [serialize(row) for row in rows], "page": page, "per_page": per_page, "total": total, "next": next_url}


def _rows(query: Select, scalars: bool) -> Any:
    result = db.session.execute(query)
    return result.scalars() if scalars else result
