"""The toolkit pieces plugins share: charts, checkable documents, uploads, counting, unit pickers, roles."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import NotFound

from portal import toolkit as tk
from portal.accounts.models import Account

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{3,6}\b")


# -- charts ----------------------------------------------------------------------------------

def test_bar_chart_escapes_labels_and_uses_classes_not_colours():
    svg = str(tk.bar_chart([("<b>Branch & co</b>", 3), ("x", 0), ("y", 5, 2)], 'Title "quoted" & <t>'))
    assert svg.startswith('<svg class="chart"') and 'role="img"' in svg
    assert "<b>" not in svg and "&lt;b&gt;Branch &amp; co&lt;/b&gt;" in svg
    assert "<title>Title &#34;quoted&#34; &amp; &lt;t&gt;</title>" in svg
    assert not HEX_COLOUR.search(svg) and "fill=" not in svg and "style" not in svg
    assert 'class="series-1"' in svg and 'class="series-2"' in svg and 'width="0"' in svg
    assert "5/2" in svg  # a row with a part shows value/part


def test_column_chart_series_legend_and_thinned_labels():
    columns = [(f"2026-{m:02d}", [m, m % 3]) for m in range(1, 13)]
    svg = str(tk.column_chart(columns, "Trend", series=["out", "back"]))
    assert svg.count("<rect") == 2 + 24  # legend swatches + two columns a month
    assert ">out<" in svg and ">back<" in svg and "series-2" in svg and not HEX_COLOUR.search(svg)
    assert svg.count('class="muted"') == 6  # twelve periods: every other label
    single = str(tk.column_chart([("3", [-4])], "Mine"))
    assert 'height="0.0"' in single and ">-4<" in single  # a negative month: empty column, value shown


def test_meter_can_be_decorative():
    svg = str(tk.meter(30, 0, "nothing yet", decorative=True))
    assert 'aria-hidden="true"' in svg and "<title>" not in svg and 'class="track"' in svg
    assert "<title>half &lt;x&gt;</title>" in str(tk.meter(1, 2, "half <x>"))


# -- checkable documents -----------------------------------------------------------------------

def test_codes_are_unguessable_and_unique():
    codes = {tk.new_code() for _ in range(3000)}
    assert len(codes) == 3000
    assert all(re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", code) for code in codes)
    assert tk.normalize_code("  abcd-efgh ") == "ABCD-EFGH" and tk.normalize_code("x" * 41) == ""


def test_add_with_unique_code_draws_again_on_a_clash(db):
    db.session.add(Account(username="TAKEN", display_name="x", password_hash="!"))
    db.session.flush()
    drawn = iter(["TAKEN", "FRESH"])
    row = tk.add_with_unique_code(lambda code: Account(username=code, display_name="y", password_hash="!"),
                                  new=lambda: next(drawn))
    assert row.username == "FRESH" and row.id is not None
    with pytest.raises(IntegrityError):  # every draw clashed: the caller learns it is not the code
        tk.add_with_unique_code(lambda code: Account(username=code, display_name="z", password_hash="!"),
                                new=lambda: "TAKEN", attempts=2)


def test_document_status():
    from datetime import date

    today = date(2026, 6, 1)
    assert tk.document_status(today=today) == "valid"
    assert tk.document_status(valid_until=date(2026, 5, 31), today=today) == "expired"
    assert tk.document_status(valid_until=date(2026, 6, 1), today=today) == "valid"
    assert tk.document_status(revoked=True, valid_until=date(2027, 1, 1), today=today) == "revoked"


@pytest.mark.parametrize("status, code, words", [
    ("valid", 200, "genuine and valid"), ("revoked", 200, "revoked"), ("expired", 200, "expired"),
    ("unknown", 404, "does not exist"),
])
def test_verification_page_states_show_only_the_given_facts(app, db, status, code, words):
    with app.test_request_context("/"):
        html, answer = tk.verification_page("Check <it>", status, [("Issued by", "<Branch>")])
    assert answer == code and words in html and "Check &lt;it&gt;" in html
    if status == "unknown":
        assert "&lt;Branch&gt;" not in html
    else:
        assert "&lt;Branch&gt;" in html and ("Not valid" in html) == (status != "valid")


def test_document_pdf_layouts_carry_the_code_and_the_qr(app, db):
    from pypdf import PdfReader

    document = tk.Document(title="Receipt", code="ABCD-EFGH-JKMN", verify_url="https://portal.example/v/ABCD",
                           holder="张伟", lines=[("Amount", "12.00")], issuer="Branch", issued_at=tk.utcnow(),
                           status="revoked")
    with app.test_request_context("/"):
        for layout in ("certificate", "card"):
            page = PdfReader(io.BytesIO(tk.document_pdf(document, layout))).pages[0]
            text = page.extract_text()
            assert "12.00" in text and len(list(page.images)) == 1, layout
        with pytest.raises(ValueError):
            tk.document_pdf(document, "poster")


# -- uploads -------------------------------------------------------------------------------------

def _file(data: bytes, name: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


def _stored(app) -> set[Path]:
    folder = Path(app.config["UPLOAD_DIR"]) / "toolkit_test"
    return set(folder.iterdir()) if folder.is_dir() else set()


@pytest.mark.parametrize("data, name, status, words", [
    (b"MZ" + b"\x00" * 10, "tool.exe", 422, "not accepted"),
    (b"just text", "photo.png", 422, "not a valid PNG"),
    (PNG + b"\x00" * 2048, "big.png", 413, "too large"),
    (PNG, "", 422, "Choose a file"),
])
def test_refused_uploads_say_why_and_store_nothing(app, db, data, name, status, words):
    before = _stored(app)
    with app.test_request_context("/"), pytest.raises(tk.Invalid) as refused:
        tk.check_upload(_file(data, name), allowed=["png", "pdf", "exe"], max_bytes=1024, field="photo")
    assert refused.value.status == status and words in str(refused.value.message)
    assert words in str(refused.value.field_errors["photo"])
    assert _stored(app) == before


def test_upload_names_are_random_and_paths_cannot_escape(app, db):
    with app.test_request_context("/"):
        upload = tk.check_upload(_file(PNG, "../../etc/passwd.png"), allowed=["png"], max_bytes=1024)
        assert upload.name == "passwd.png" and upload.mimetype == "image/png"
        stored = tk.store_upload("toolkit_test", upload)
        assert re.fullmatch(r"[0-9a-f]{40}\.png", stored)
        assert tk.read_upload("toolkit_test", stored) == PNG
        assert (Path(app.config["UPLOAD_DIR"]) / "toolkit_test" / stored).read_bytes() == PNG  # the local store
        for hostile in ("../" + stored, "/etc/passwd", ".hidden", "a" * 40 + "/x", None):
            assert tk.read_upload("toolkit_test", hostile) is None
        response = tk.send_upload("toolkit_test", stored, download_name="passwd.png")
        assert response.mimetype == "image/png" and "inline" in response.headers["Content-Disposition"]
        assert "no-store" in response.headers["Cache-Control"]
        response.close()
        with pytest.raises(NotFound):
            tk.send_upload("toolkit_test", "../" + stored)
        with pytest.raises(tk.Invalid):
            tk.check_uploads([_file(PNG, "a.png"), _file(PNG, "b.png")], allowed=["png"], max_bytes=1024,
                             max_count=2, existing=1)


def test_image_decoding_refuses_a_header_followed_by_garbage(app, db):
    with app.test_request_context("/"), pytest.raises(tk.Invalid):
        tk.check_upload(_file(b"\xff\xd8\xff\xe0" + b"x" * 100, "me.jpg"), allowed=["jpg"], max_bytes=1024,
                        decode_images=True)


# -- counting, subtree, pickers, roles ---------------------------------------------------------------

def test_count_is_right_for_distinct_grouped_and_limited_queries(db, org):
    kinds = select(tk.OrgUnit.kind)
    assert tk.count(kinds) == 6
    assert tk.count(kinds.distinct()) == 3 == len(set(db.session.scalars(kinds)))
    assert tk.count(select(tk.OrgUnit.kind, func.count()).group_by(tk.OrgUnit.kind)) == 3
    assert tk.count(select(tk.OrgUnit).order_by(tk.OrgUnit.path).limit(2)) == 2
    members = select(tk.Member).join(tk.OrgUnit, tk.OrgUnit.id == tk.Member.home_unit_id)
    in_branches = members.where(tk.OrgUnit.kind == "branch")
    assert tk.count(in_branches) == len(db.session.scalars(in_branches).all()) == 6  # 3 members, 3 secretaries
    # the plain query is counted without a subquery; the reshaped ones through one
    assert "anon" not in str(tk.count_query(members)) and "anon" in str(tk.count_query(kinds.distinct()))


def test_subtree_ids(db, org):
    assert set(tk.subtree_ids(org.township)) == {org.township.id, org.home.id, org.foreign.id}
    assert tk.subtree_ids(org.host) == [org.host.id]


def test_unit_choices_are_scoped_ordered_and_limited(db, org):
    everything = tk.unit_choices()
    assert [unit_id for unit_id, _name in everything][0] == org.root.id and len(everything) == 6
    assert dict(everything)[org.home.id] == "· · East Ridge Village Branch"
    mine = tk.unit_choices("members.view", account=org.home_sec)
    assert [unit_id for unit_id, _name in mine] == [org.home.id]
    assert tk.unit_choices("members.view", account=org.organizer) == everything
    assert [i for i, _n in tk.unit_choices(kinds=["branch"], exclude=[org.host.id])] == [org.home.id, org.foreign.id]
    assert [i for i, _n in tk.unit_choices(search="Stone")] == [org.foreign.id]
    assert len(tk.unit_choices(limit=2)) == 2


def test_roles_are_defined_once():
    assert tk.SECRETARY_ROLES == ("secretary", "organizer", "admin")
    assert tk.Permission("x.y", "label").roles == tk.SECRETARY_ROLES
    assert set(tk.UNIT_OFFICER_ROLES) < set(tk.SECRETARY_ROLES) and "admin" not in tk.UNIT_OFFICER_ROLES


@pytest.mark.parametrize("value", [True, 0, -3, "7", 1.5, None])
def test_api_id_refuses_what_is_not_a_positive_integer(app, value):
    with app.test_request_context(), pytest.raises(tk.Invalid) as refused:
        tk.api_id(value, "member_id")
    assert "member_id" in refused.value.field_errors


def test_api_id_past_the_largest_id_names_nothing(app):
    with app.test_request_context():
        assert tk.api_id(42, "member_id") == 42
        with pytest.raises(tk.NotFound):
            tk.api_id(tk.MAX_ID + 1, "member_id")
