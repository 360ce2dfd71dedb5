"""The demo built twice at a fixed clock: the fixture body every plugin's demo test shares."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterator

import pytest

from portal import toolkit as tk
from tests.conftest import _wipe


def demo_built_twice(app, counts: Callable[[], Any], now: datetime | None = None) -> Iterator[Any]:
    """Build the core demo (12 members, every enabled plugin's part) twice — at ``now`` when given — and yield
    ``counts()`` taken after the first build (the test compares them with the second: the demo adds nothing twice);
    the database is wiped afterwards. Use as ``yield from demo_built_twice(app, _counts, NOW)`` in a module fixture.
    """
    import portal.demo as core_demo

    ctx = app.app_context()
    ctx.push()
    try:
        with pytest.MonkeyPatch.context() as patch:
            if now is not None:
                patch.setattr(core_demo, "utcnow", lambda: now)
            core_demo.build_demo(members=12, password="pass-1234")
            first = counts()
            core_demo.build_demo(members=12, password="pass-1234")
        tk.db.session.remove()
        yield first
    finally:
        tk.db.session.remove()
        ctx.pop()
        _wipe(app)


def demo_built_once(app, config: dict[str, Any] | None = None) -> Iterator[None]:
    """Build the core demo (12 members, every enabled plugin's part) once, with ``config`` set on the app
    meanwhile (undone afterwards); the database is wiped afterwards. Use as ``yield from demo_built_once(app)``
    in a module fixture whose tests only read the demo (and undo what they write)."""
    import portal.demo as core_demo

    ctx = app.app_context()
    ctx.push()
    try:
        with pytest.MonkeyPatch.context() as patch:
            for key, value in (config or {}).items():
                patch.setitem(app.config, key, value)
            core_demo.build_demo(members=12, password="pass-1234")
            tk.db.session.commit()
            yield
    finally:
        tk.db.session.remove()
        ctx.pop()
        _wipe(app)
