"""The one pagination helper: count once, fetch one page."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request
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


def _count_query(query: Select) -> Select:
    """COUNT(*) over the query's rows: directly when it has no DISTINCT/GROUP BY (no column
    list to materialize), else over a subquery."""
    if query._distinct or query._group_by_clauses or query._limit_clause is not None:
        return select(func.count()).select_from(query.order_by(None).subquery())
    return query.order_by(None).with_only_columns(func.count(), maintain_column_froms=True)


def paginate(query: Select, per_page: int | None = None, *, scalars: bool = True) -> Page:
    """Run ``query`` for the page named by ``?page=`` (bad values fall back to page 1)."""
    per_page = per_page or current_app.config["PER_PAGE"]
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    total = db.session.scalar(_count_query(query)) or 0
    page = min(page, max(1, -(-total // per_page)))
    paged = query.limit(per_page).offset((page - 1) * per_page)
    result = db.session.execute(paged)
    items = list(result.scalars() if scalars else result)
    return Page(items=items, page=page, per_page=per_page, total=total)
