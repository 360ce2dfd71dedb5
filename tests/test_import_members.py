"""Member import on the web: upload → preview → confirm; all or nothing; row-by-row error report."""
import io
import re
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import delete, func, select

from portal.accounts.models import Account
from portal.audit.models import AuditEntry
from portal.org.models import Member
from tests.conftest import login
from tests.test_org_members import make_id

DATA = Path(__file__).parent / "data" / "org"


def upload(client, unit_id, content: bytes, filename: str, **fields):
    data = {"file": (io.BytesIO(content), filename), **fields}
    return client.post(f"/units/{unit_id}/import", data=data, content_type="multipart/form-data")


def token_of(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.get_data(as_text=True)).group(1)


def member_count(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Member.id)))


def stored_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_DIR"]) / "imports"
    return sorted(folder.iterdir()) if folder.exists() else []


def csv_bytes(rows, encoding="utf-8") -> bytes:
    return "\n".join(",".join(str(c) for c in row) for row in rows).encode(encoding)


def report(response) -> list[tuple[str, str, str]]:
    """The error report's rows as (row, column, problem)."""
    body = response.get_data(as_text=True).split('class="import-report"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", body)
    return [tuple(re.sub(r"&#3[49];|&quot;", "'", c) for c in row) for row in cells]


def test_gbk_csv_with_chinese_headers_preview_then_confirm(client, org, db, app):
    login(client, "organizer")
    before, files_before = member_count(db), len(stored_files(app))
    response = upload(client, org.township.id, (DATA / "members_zh_gbk.csv").read_bytes(), "名册.csv",
                      password="start-2026")
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    assert "3 members will be imported" in page and "with 1 new account" in page
    assert "陈静" in page and "刘洋" in page and "周明" in page
    assert member_count(db) == before  # nothing yet
    assert len(stored_files(app)) == files_before + 2  # the file and its meta data, in the instance folder
    response = client.post(f"/units/{org.township.id}/import/confirm", data={"token": token_of(response)})
    assert response.status_code == 302
    assert member_count(db) == before + 3
    assert len(stored_files(app)) == files_before
    chen = db.session.scalar(select(Member).where(Member.name == "陈静"))
    assert (chen.gender, chen.birth_date, chen.ethnicity, chen.education, chen.phone) == (
        "female", date(1996, 4, 12), "汉族", "associate", "13711110001")
    assert (chen.stage, chen.joined_on, chen.occupation, chen.employer, chen.current_city) == (
        "full", date(2019, 6, 30), "电子厂操作工", "东莞某电子厂", "东莞市")
    assert (chen.home_unit_id, chen.host_unit_id, chen.is_away) == (org.home.id, org.host.id, True)
    assert chen.account.username == "chenjing" and chen.account.phone == "13711110001"
    assert chen.account.must_change_password
    liu = db.session.scalar(select(Member).where(Member.name == "刘洋"))
    assert (liu.phone, liu.birth_date, liu.stage, liu.joined_on, liu.account_id) == (
        "13711110002", date(1988, 11, 3), "probationary", date(2025, 1, 15), None)
    zhou = db.session.scalar(select(Member).where(Member.name == "周明"))
    assert (zhou.home_unit_id, zhou.stage, zhou.is_away, zhou.birth_date) == (
        org.foreign.id, "activist", False, date(1970, 2, 1))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "members.imported"))
    assert entry.details["count"] == 3 and entry.details["accounts"] == 1 and entry.unit_id == org.township.id
    fresh = app.test_client()
    assert login(fresh, "13711110001", "start-2026").headers["Location"].endswith("/password")


def test_utf8_bom_csv_with_english_headers(client, org, db):
    login(client, "organizer")
    response = upload(client, org.township.id, (DATA / "members_en_bom.csv").read_bytes(), "members.csv")
    assert response.status_code == 200, response.get_data(as_text=True)
    client.post(f"/units/{org.township.id}/import/confirm", data={"token": token_of(response)})
    zhao = db.session.scalar(select(Member).where(Member.name == "Zhao Lei"))
    assert (zhao.education, zhao.stage, zhao.notes, zhao.home_unit_id) == (
        "bachelor", "full", "Returns at Spring Festival", org.home.id)
    assert zhao.id_number and len(zhao.id_number) == 18
    wu = db.session.scalar(select(Member).where(Member.name == "Wu Na"))
    assert (wu.gender, wu.education, wu.stage, wu.home_unit_id) == ("female", "master", "applicant", org.foreign.id)


def test_xlsx_with_a_title_line_and_numeric_phones(client, org, db):
    login(client, "home-secretary")
    response = upload(client, org.home.id, (DATA / "members_zh.xlsx").read_bytes(), "名册.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert client.post(f"/units/{org.home.id}/import/confirm", data={"token": token_of(response)}).status_code == 302
    huang = db.session.scalar(select(Member).where(Member.name == "黄磊"))
    lin = db.session.scalar(select(Member).where(Member.name == "林霞"))
    assert (huang.phone, huang.birth_date, huang.education, huang.stage) == ("13633330001", date(1985, 3, 9), "bachelor", "full")
    assert (lin.phone, lin.birth_date, lin.education, lin.stage) == ("13633330002", date(1993, 7, 1), "vocational", "candidate")


def test_rows_default_to_the_unit_when_it_is_a_branch(client, org, db):
    login(client, "home-secretary")
    response = upload(client, org.home.id, csv_bytes([["姓名", "手机号"], ["甲", "13000000001"], ["乙", ""]]), "a.csv")
    client.post(f"/units/{org.home.id}/import/confirm", data={"token": token_of(response)})
    homes = db.session.scalars(select(Member.home_unit_id).where(Member.name.in_(["甲", "乙"]))).all()
    assert homes == [org.home.id, org.home.id]
    client.post("/logout")
    login(client, "organizer")  # a committee is no home branch: the column is needed
    response = upload(client, org.township.id, csv_bytes([["Name"], ["丙"]]), "b.csv")
    assert response.status_code == 422
    assert "members can only be imported into a branch or a group" in response.get_data(as_text=True)


def test_error_report_lists_every_problem_and_nothing_is_imported(client, org, db, factory):
    closed = factory.unit("Old Group", "group", org.home)
    closed.closed_at = closed.created_at
    db.session.commit()
    good_id = make_id("19900501", "123")
    rows = [
        ["Name", "Gender", "Birth date", "Phone number", "National ID number", "Membership stage", "Home branch", "Date joined"],
        ["A", "male", "1990-05-01", "13100000001", good_id, "full", "East Ridge Village Branch", "2010-01-01"],   # 2 ok
        ["B", "robot", "1990-05-01", "13100000002", "", "full", "", ""],                                          # 3 gender
        ["C", "male", "1990-02-30", "13100000001", "", "full", "", ""],                                           # 4 date, dup phone
        ["", "female", "", "abc", good_id[:17] + "0", "", "", ""],                                                 # 5 name, phone, id
        ["E", "female", "1990-05-01", org.member2.phone, good_id, "pope", "Stone Bridge Village Branch", ""],     # 6 many
        ["F", "female", "1991-01-01", "", "", "", "Old Group", "1980-01-01"],                                      # 7 closed, joined
        ["G", "male", "1990-05-01", "", "", "", str(org.host.id), ""],                                             # 8 out of scope
    ]
    login(client, "home-secretary")
    before = member_count(db)
    response = upload(client, org.home.id, csv_bytes(rows), "errors.csv")
    assert response.status_code == 422
    problems = report(response)
    expected = {
        ("3", "Gender"): "Unknown value “robot”; use one of: male、female.",
        ("4", "Birth date"): "Not a date: write it as 2024-05-01.",
        ("4", "Phone number"): "Also in row 2: each member may appear only once.",
        ("5", "Name"): "The name is missing.",
        ("5", "Phone number"): "A phone number has 6 to 20 digits (spaces and dashes are allowed).",
        ("5", "National ID number"): "This national ID number is not valid (its check character does not match).",
        ("6", "Membership stage"): "Unknown value “pope”; use one of: applicant、activist、candidate、probationary member、full member.",
        ("6", "Home branch"): "No unit “Stone Bridge Village Branch” among the units you manage (East Ridge Village Branch).",
        ("6", "National ID number"): "Also in row 2: each member may appear only once.",
        ("7", "Home branch"): "The unit “Old Group” is closed.",
        ("7", "Date joined"): "The date joined must be after the birth date.",
        ("8", "Home branch"): f"No unit “{org.host.id}” among the units you manage (East Ridge Village Branch).",
    }
    got = {(row, column): message for row, column, message in problems}
    for key, message in expected.items():
        assert got.get(key) == message, (key, got.get(key))
    assert [int(p[0]) for p in problems] == sorted(int(p[0]) for p in problems)
    assert member_count(db) == before
    assert "nothing was imported" in response.get_data(as_text=True)


def test_duplicates_against_the_portal(client, org, db):
    existing_id = make_id("19900501", "123")
    db.session.get(Member, org.member1.id).id_number = existing_id
    db.session.commit()
    rows = [["Name", "Phone number", "National ID number", "Username"],
            ["A", org.member2.phone, "", ""], ["B", "", existing_id, ""], ["C", "", "", "member1"],
            ["D", org.organizer.phone or "13999999999", "", "dee"]]
    db.session.get(Account, org.organizer.id).phone = "13999999999"
    db.session.commit()
    login(client, "home-secretary")
    response = upload(client, org.home.id, csv_bytes(rows), "dups.csv", password="start-2026")
    got = {(r, c): m for r, c, m in report(response)}
    assert got[("2", "Phone number")] == "A member with this phone number is already in the portal."
    assert got[("3", "National ID number")] == "A member with this national ID number is already in the portal."
    assert got[("4", "Username")] == "This username is already taken."
    assert got[("5", "Phone number")] == "Another account already logs in with this phone number."


def test_header_problems(client, org):
    login(client, "home-secretary")
    response = upload(client, org.home.id, csv_bytes([["姓名", "Shoe size", "Name"], ["A", "42", "A"]]), "h.csv")
    assert response.status_code == 200 and "Match the columns" in response.get_data(as_text=True)  # asked first
    response = client.post(f"/units/{org.home.id}/import/map",
                           data={"token": token_of(response), "column": "Shoe size", "field": "ignore"})
    assert response.status_code == 422
    got = {(r, c): m for r, c, m in report(response)}
    assert got[("1", "Name")] == "This column appears twice."
    assert ("1", "Shoe size") not in got and 'name="good_rows"' not in response.get_data(as_text=True)
    response = upload(client, org.home.id, csv_bytes([["Phone number"], ["13100000001"]]), "h.csv")
    assert ("1", "Name", "The file has no column of names.") in report(response)


def test_accounts_need_an_acceptable_initial_password(client, org, db):
    rows = [["Name", "Phone number", "Username"], ["A", "13100000001", "aaa"]]
    login(client, "home-secretary")
    response = upload(client, org.home.id, csv_bytes(rows), "p.csv")
    assert ("—", "Initial password for new accounts", "Choose an initial password for the new accounts.") in report(response)
    response = upload(client, org.home.id, csv_bytes(rows), "p.csv", password="12345678")
    assert any("mix letters" in m for _r, _c, m in report(response))
    response = upload(client, org.home.id, csv_bytes([["Name", "Phone number"], ["A", "13100000001"], ["B", ""]]),
                      "p.csv", password="start-2026", phone_accounts="y")
    assert response.status_code == 200
    client.post(f"/units/{org.home.id}/import/confirm", data={"token": token_of(response)})
    a = db.session.scalar(select(Member).where(Member.name == "A"))
    b = db.session.scalar(select(Member).where(Member.name == "B"))
    assert a.account.username == "13100000001" and a.account.must_change_password and b.account_id is None


@pytest.mark.parametrize("content, filename, message", [
    (b"", "empty.csv", "The file is empty."),
    (b"\n\n  \n", "blank.csv", "The file is empty."),
    ((DATA / "not_a_spreadsheet.xlsx").read_bytes(), "bad.xlsx", "not a valid Excel workbook"),
    (b"just text pretending", "fake.xlsx", "not a valid Excel workbook"),
    ((DATA / "old_excel.xls").read_bytes(), "old.xls", "Old Excel files (.xls) cannot be read"),
    (b"Name,Phone\n\x80\xff\x80\xff,1\n", "enc.csv", "text encoding cannot be read"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.csv", "not a spreadsheet"),
    (b"Name,Phone number\n", "only-headers.csv", "column titles but no members"),
])
def test_malformed_files_get_a_clear_message_and_change_nothing(client, org, db, app, content, filename, message):
    login(client, "home-secretary")
    before, files = member_count(db), stored_files(app)
    response = upload(client, org.home.id, content, filename)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert member_count(db) == before and stored_files(app) == files


def test_no_file_chosen(client, org):
    login(client, "home-secretary")
    response = client.post(f"/units/{org.home.id}/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose a file to upload." in response.get_data(as_text=True)


def test_limits_rows_and_size(client, org, db, app, monkeypatch):
    login(client, "home-secretary")
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 3)
    rows = [["Name"]] + [[f"M{i}"] for i in range(4)]
    response = upload(client, org.home.id, csv_bytes(rows), "many.csv")
    assert response.status_code == 400
    assert "The file has more than 3 members. Split it into smaller files." in response.get_data(as_text=True)
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 1024 * 1024)
    big = csv_bytes([["Name", "Notes"]] + [[f"M{i}", "x" * 4000] for i in range(300)])
    response = upload(client, org.home.id, big, "big.csv")
    assert response.status_code == 413
    assert "The file is larger than 1.0 MB." in response.get_data(as_text=True)
    assert member_count(db) == 6


def test_export_then_import_round_trips(client, org, db):
    login(client, "home-secretary")
    exported = client.get(f"/units/{org.home.id}/members.xlsx")
    assert exported.status_code == 200
    db.session.expire_all()
    originals = {m.name: m for m in db.session.scalars(select(Member).where(Member.home_unit_id == org.home.id))}
    snapshot = {name: (m.gender, m.birth_date, m.education, m.phone, m.stage, m.home_unit_id, m.host_unit_id,
                       m.is_away, m.current_province, m.current_city) for name, m in originals.items()}
    db.session.execute(delete(Member).where(Member.home_unit_id == org.home.id))
    db.session.commit()
    response = upload(client, org.home.id, exported.data, "export.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert client.post(f"/units/{org.home.id}/import/confirm", data={"token": token_of(response)}).status_code == 302
    db.session.expire_all()
    again = {m.name: (m.gender, m.birth_date, m.education, m.phone, m.stage, m.home_unit_id, m.host_unit_id,
                      m.is_away, m.current_province, m.current_city)
             for m in db.session.scalars(select(Member).where(Member.home_unit_id == org.home.id))}
    assert again == snapshot and len(again) == 3


def test_chinese_export_round_trips_too(client, org, db, factory):
    login(client, "home-secretary")
    client.post("/locale", data={"locale": "zh_CN"})
    exported = client.get(f"/units/{org.home.id}/members.xlsx")
    db.session.execute(delete(Member).where(Member.home_unit_id == org.home.id))
    db.session.commit()
    response = upload(client, org.home.id, exported.data, "导出.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)
    client.post(f"/units/{org.home.id}/import/confirm", data={"token": token_of(response)})
    db.session.expire_all()
    member1 = db.session.scalar(select(Member).where(Member.name == "张伟"))
    assert (member1.stage, member1.education, member1.host_unit_id, member1.is_away) == (
        "full", "high_school", org.host.id, True)


def test_confirm_needs_the_sessions_own_token(client, org, db, app):
    login(client, "home-secretary")
    response = upload(client, org.home.id, csv_bytes([["Name"], ["甲"]]), "a.csv")
    token = token_of(response)
    other = app.test_client()
    login(other, "organizer")
    refused = other.post(f"/units/{org.home.id}/import/confirm", data={"token": token})
    assert refused.status_code == 409 and "expired or was already done" in refused.get_data(as_text=True)
    assert client.post(f"/units/{org.home.id}/import/confirm", data={"token": "../../etc/passwd"}).status_code == 409
    assert member_count(db) == 6
    assert client.post(f"/units/{org.home.id}/import/confirm", data={"token": token}).status_code == 302
    assert member_count(db) == 7
    again = client.post(f"/units/{org.home.id}/import/confirm", data={"token": token})
    assert again.status_code == 409 and member_count(db) == 7


def test_cancel_deletes_the_stored_file(client, org, db, app):
    login(client, "home-secretary")
    files = stored_files(app)
    response = upload(client, org.home.id, csv_bytes([["Name"], ["甲"]]), "a.csv")
    assert len(stored_files(app)) == len(files) + 2
    assert client.post(f"/units/{org.home.id}/import/cancel", data={"token": token_of(response)}).status_code == 302
    assert stored_files(app) == files and member_count(db) == 6


def test_confirm_checks_again(client, org, db, factory):
    login(client, "home-secretary")
    response = upload(client, org.home.id, csv_bytes([["Name", "Phone number"], ["甲", "13100000009"]]), "a.csv")
    factory.member(org.foreign, "late", phone="13100000009")  # someone adds the same phone meanwhile
    confirm = client.post(f"/units/{org.home.id}/import/confirm", data={"token": token_of(response)})
    assert confirm.status_code == 409
    assert "A member with this phone number is already in the portal." in confirm.get_data(as_text=True)
    assert db.session.scalar(select(Member).where(Member.name == "甲")) is None


def test_only_editors_of_the_unit_may_import(client, org, db):
    for username in ("host-secretary", "foreign-secretary", "member1"):
        login(client, username)
        assert client.get(f"/units/{org.home.id}/import").status_code == 404
        assert upload(client, org.home.id, csv_bytes([["Name"], ["甲"]]), "a.csv").status_code == 404
        client.post("/logout")
    assert member_count(db) == 6


def test_import_page_explains_the_columns(client, org):
    login(client, "home-secretary")
    page = client.get(f"/units/{org.home.id}/import").get_data(as_text=True)
    for title in ("Name", "Home branch", "National ID number", "Username"):
        assert f'<span class="tag">{title}</span>' in page
    assert 'enctype="multipart/form-data"' in page and "20000 members" in page


def test_xlsx_reading_big_sheet_quickly(client, org, db):
    """2 000 rows are checked and imported in one go (a township's roster)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["姓名", "性别", "出生日期", "手机号码", "所在党支部"])
    for i in range(2000):
        sheet.append([f"成员{i}", "男" if i % 2 else "女", date(1980 + i % 20, 1 + i % 12, 1 + i % 28),
                      f"150{i:08d}", "East Ridge Village Branch"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    login(client, "home-secretary")
    response = upload(client, org.home.id, buffer.getvalue(), "big.xlsx")
    assert response.status_code == 200
    assert "2000 members will be imported" in response.get_data(as_text=True)
    client.post(f"/units/{org.home.id}/import/confirm", data={"token": token_of(response)})
    assert member_count(db) == 2006


# --- the roster a secretary actually has (issue 12) ---------------------------------------------

#: Sheet rows of the genuinely bad rows of tests/data/org/members_messy.* and the column each names.
MESSY_BAD = {("20", "公民身份号码"), ("63", "联系电话"), ("104", "文化程度"), ("145", "公民身份号码"),
             ("187", "联系电话"), ("228", "姓 名"), ("269", "出生 日期")}


def map_messy(client, unit_id, response, **choices):
    """Answer the column-mapping step (籍贯 and 微信号 are unfamiliar) with ``choices`` (default: ignore)."""
    page = response.get_data(as_text=True)
    columns = re.findall(r'<input type="hidden" name="column" value="([^"]+)">', page)
    fields = [choices.get(c, "ignore") for c in columns]
    return client.post(f"/units/{unit_id}/import/map", data={"token": token_of(response), "column": columns,
                                                             "field": fields})


def test_messy_roster_maps_columns_then_imports_the_good_rows_on_request(client, org, db, app):
    login(client, "organizer")
    before = member_count(db)
    response = upload(client, org.township.id, (DATA / "members_messy.xlsx").read_bytes(), "花名册.xlsx")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Match the columns" in page
    assert re.findall(r'name="column" value="([^"]+)"', page) == ["籍贯", "微信号"]  # 序号, 备注, 出生\n日期: known
    response = map_messy(client, org.township.id, response)
    assert response.status_code == 422
    assert {(row, column) for row, column, _m in report(response)} == MESSY_BAD
    page = response.get_data(as_text=True)
    assert "293 rows are good" in page and "7 rows have problems" in page
    assert member_count(db) == before  # nothing written while any row is wrong

    download = client.get(re.search(r'href="([^"]*rejected\.xlsx[^"]*)"', page).group(1).replace("&amp;", "&"))
    assert download.status_code == 200
    rows = list(load_workbook(io.BytesIO(download.data), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert rows[0][-1] == "Problems" and [r[0] for r in rows[1:]] == [20, 63, 104, 145, 187, 228, 269]
    assert "Unknown value “初中肄业”" in rows[3][-1]

    response = client.post(f"/units/{org.township.id}/import/confirm", data={"token": token_of(response),
                                                                             "good_rows": "1"})
    assert response.status_code == 302
    assert member_count(db) == before + 293
    members = {m.phone: m for m in db.session.scalars(select(Member).where(Member.phone.like("18600%")
                                                                             | Member.phone.like("15800%")))}
    first = members["18600000000"]  # 王　静: full-width phone, no ID, 1980年5月, 备注, a unit name with extra spaces
    assert (first.name, first.gender, first.ethnicity, first.stage, first.notes) == ("王静", "male", "畲族", "probationary", "外出务工")
    assert (first.birth_date, first.home_unit_id, first.joined_on) == (date(1980, 5, 1), org.foreign.id, date(2008, 11, 1))
    second = members["15800000001"]  # "１５８ ００００ ０００１", 1972.03 with an ID number born 1972-03-13
    assert (second.birth_date, second.id_number) == (date(1972, 3, 13), "360822197203130127")
    assert all(m.id_number is None or (len(m.id_number) == 18 and m.id_number.upper() == m.id_number)
               for m in members.values())
    assert any(m.id_number and m.id_number.endswith("X") for m in members.values())  # typed as a lower-case x
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "members.imported"))
    assert (entry.details["count"], entry.details["rejected"], entry.details["good_rows_only"]) == (293, 7, True)

    page = client.get(f"/units/{org.township.id}/import").get_data(as_text=True)  # the rejected rows stay downloadable
    link = re.search(r'href="([^"]*rejected\.xlsx[^"]*)"', page).group(1).replace("&amp;", "&")
    again = client.get(link)
    assert again.status_code == 200 and len(list(load_workbook(io.BytesIO(again.data)).worksheets[0].iter_rows())) == 8
    assert app.test_client().get(link).status_code in (302, 401, 404)  # someone else's session: no


def test_messy_csv_is_all_or_nothing_by_default(client, org, db):
    login(client, "organizer")
    before = member_count(db)
    response = upload(client, org.township.id, (DATA / "members_messy.csv").read_bytes(), "花名册.csv")
    response = map_messy(client, org.township.id, response)
    assert {(row, column) for row, column, _m in report(response)} == MESSY_BAD
    confirm = client.post(f"/units/{org.township.id}/import/confirm", data={"token": token_of(response)})
    assert confirm.status_code == 409 and member_count(db) == before
    assert "nothing was imported" in confirm.get_data(as_text=True)


def test_mapping_a_column_to_a_field_and_choosing_every_column(client, org, db):
    login(client, "home-secretary")
    content = csv_bytes([["序号", "姓名", "移动电话", "爱好"], ["1", "甲", "１３１ ００００ ０００８", "唱歌"], ["2", "", "", ""]])
    response = upload(client, org.home.id, content, "a.csv")
    again = client.post(f"/units/{org.home.id}/import/map", data={"token": token_of(response),
                                                                  "column": ["移动电话", "爱好"], "field": ["phone", ""]})
    assert again.status_code == 200  # a column left unchosen: asked again
    assert re.findall(r'name="column" value="([^"]+)"', again.get_data(as_text=True)) == ["爱好"]
    response = client.post(f"/units/{org.home.id}/import/map", data={"token": token_of(again),
                                                                     "column": ["爱好"], "field": ["ignore"]})
    assert response.status_code == 200 and "1 member will be imported" in response.get_data(as_text=True)
    assert client.post(f"/units/{org.home.id}/import/confirm", data={"token": token_of(response)}).status_code == 302
    assert db.session.scalar(select(Member).where(Member.name == "甲")).phone == "13100000008"


def test_mapping_needs_the_sessions_own_unexpired_upload(client, org, db, app):
    from portal.org import importer

    login(client, "home-secretary")
    response = upload(client, org.home.id, csv_bytes([["姓名", "爱好"], ["甲", "唱歌"]]), "a.csv")
    token = token_of(response)
    other = app.test_client()
    login(other, "organizer")
    data = {"token": token, "column": "爱好", "field": "ignore"}
    assert other.post(f"/units/{org.home.id}/import/map", data=data).status_code == 409
    with app.test_request_context():
        importer.update_upload(token, stored_at=0)  # a day old
    expired = client.post(f"/units/{org.home.id}/import/map", data=data)
    assert expired.status_code == 409 and "expired" in expired.get_data(as_text=True)
    assert member_count(db) == 6


def test_good_rows_are_not_offered_when_the_file_itself_is_wrong(client, org, db):
    login(client, "home-secretary")
    rows = [["Name", "Phone number", "Username"], ["A", "13100000001", "aaa"], ["B", "abc", ""]]
    response = upload(client, org.home.id, csv_bytes(rows), "p.csv")  # accounts but no initial password
    assert response.status_code == 422 and 'name="good_rows"' not in response.get_data(as_text=True)
    assert 'name="token"' not in response.get_data(as_text=True)


def test_normalize_text_and_month_precision(app):
    from portal.org import importer, validation

    with app.test_request_context():
        assert importer.normalize_text(" ｌ３８\u3000Ｘ（备注）\n  王　静 ") == "l38 X(备注) 王 静"
        assert importer.normalize_text("㈠东岭村") == "㈠东岭村"  # Chinese text is left alone
        good = make_id("19761103", "123")
        assert validation.id_matches_profile_problem(good, date(1976, 11, 1), None, month_only=True) is None
        assert "1976-11-03" in validation.id_matches_profile_problem(good, date(1976, 11, 1), None)
        conflict = validation.id_matches_profile_problem(good, date(1976, 12, 1), None, month_only=True)
        assert "1976-11-03" in conflict and "1976-12" in conflict
        for text in ("1976年11月", "1976.11", "1976-11", "１９７６年１１月", "197611", 1976.11):
            value = importer.normalize_text(text) if isinstance(text, str) else text
            assert validation.parse_date_precision(value) == (date(1976, 11, 1), True), text
        for text in ("1976/11/3", "19761103", 19761103, "1976年11月3日", "1976-11-03 00:00:00"):
            assert validation.parse_date_precision(text) == (date(1976, 11, 3), False), text
        with pytest.raises(ValueError):
            validation.parse_date_precision("1976.13")
