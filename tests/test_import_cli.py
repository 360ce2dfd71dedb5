"""``portal import members FILE`` and ``portal export members UNIT FILE``: same checks as the web, all or nothing."""
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import delete, func, select

from portal.audit.models import AuditEntry
from portal.cli import cli
from portal.org.models import Member

DATA = Path(__file__).parent / "data" / "org"


def run(app, *args):
    return app.test_cli_runner().invoke(cli, list(map(str, args)))


def count(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Member.id)))


def test_import_members_from_the_command_line(app, db, org):
    result = run(app, "import", "members", DATA / "members_zh_gbk.csv", "--password", "start-2026")
    assert result.exit_code == 0, result.output
    assert "Imported 3 member(s), 1 account(s)." in result.output
    chen = db.session.scalar(select(Member).where(Member.name == "陈静"))
    assert chen.home_unit_id == org.home.id and chen.account.must_change_password
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "members.imported"))
    assert entry.details["via"] == "cli" and entry.details["count"] == 3


def test_errors_exit_non_zero_and_change_nothing(app, db, org, tmp_path):
    before = count(db)
    bad = tmp_path / "bad.csv"
    bad.write_text(f"Name,Phone number,Home branch\nA,13100000001,East Ridge Village Branch\n"
                   f"B,{org.member2.phone},East Ridge Village Branch\n,abc,Nowhere\n", encoding="utf-8")
    result = run(app, "import", "members", bad)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{bad}:row 3\tPhone number\tA member with this phone number is already in the portal." in lines
    assert f"{bad}:row 4\tName\tThe name is missing." in lines
    assert f"{bad}:row 4\tHome branch\tNo unit is named “Nowhere”." in lines
    assert "nothing was imported" in lines[-1]
    assert count(db) == before


def test_unit_option_limits_the_scope(app, db, org):
    before = count(db)
    result = run(app, "import", "members", DATA / "members_zh_gbk.csv", "--unit", org.home.id, "--password", "start-2026")
    assert result.exit_code == 1
    assert "No unit “Stone Bridge Village Branch” among the units you manage" in result.output
    assert count(db) == before
    result = run(app, "import", "members", DATA / "members_zh.xlsx", "--unit", "East Ridge Village Branch")
    assert result.exit_code == 0, result.output
    assert count(db) == before + 2


def test_accounts_need_a_password(app, db, org):
    result = run(app, "import", "members", DATA / "members_zh_gbk.csv")
    assert result.exit_code == 1
    assert "Choose an initial password for the new accounts." in result.output


def test_malformed_file(app, db, org, tmp_path):
    result = run(app, "import", "members", DATA / "not_a_spreadsheet.xlsx")
    assert result.exit_code == 1 and "not a valid Excel workbook" in result.output
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = run(app, "import", "members", empty)
    assert result.exit_code == 1 and "The file is empty." in result.output
    result = run(app, "import", "members", DATA / "members_zh.xlsx", "--unit", "No Such Unit")
    assert result.exit_code == 1 and "No unit with the id or name 'No Such Unit'" in result.output


def test_export_by_name_or_id_then_import_again(app, db, org, tmp_path):
    target = tmp_path / "home.xlsx"
    result = run(app, "export", "members", "East Ridge Village Branch", target)
    assert result.exit_code == 0, result.output
    assert "Wrote 3 member(s) of East Ridge Village Branch" in result.output
    sheet = load_workbook(target, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Name", "Gender", "Birth date")
    assert sorted(r[0] for r in rows[1:]) == sorted(["home-secretary", "张伟", "李芳"])
    by_id = tmp_path / "township.xlsx"
    assert run(app, "export", "members", org.township.id, by_id).exit_code == 0
    assert len(list(load_workbook(by_id, read_only=True).worksheets[0].iter_rows())) == 1 + 5  # home: 3, foreign: 2
    db.session.execute(delete(Member).where(Member.home_unit_id == org.home.id))
    db.session.commit()
    result = run(app, "import", "members", target, "--unit", org.home.id)
    assert result.exit_code == 0, result.output
    member1 = db.session.scalar(select(Member).where(Member.name == "张伟"))
    assert (member1.host_unit_id, member1.is_away, member1.current_city) == (org.host.id, True, "深圳市")


def test_export_of_an_ambiguous_name_asks_for_the_id(app, db, org, factory):
    factory.unit("East Ridge Village Branch", "branch", org.mobile)
    result = run(app, "export", "members", "East Ridge Village Branch", "/tmp/never-written.xlsx")
    assert result.exit_code != 0 and "Several units are named" in result.output
    assert not Path("/tmp/never-written.xlsx").exists()


def test_messy_roster_needs_its_unfamiliar_columns_mapped(app, db, org):
    before = count(db)
    result = run(app, "import", "members", DATA / "members_messy.xlsx")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{DATA / 'members_messy.xlsx'}:row 2\t籍贯\tUnknown column. Rename it to one of the titles listed on the " \
           "import page, or remove it." in lines
    assert any(line.endswith("\t微信号\tUnknown column. Rename it to one of the titles listed on the import page, "
                             "or remove it.") for line in lines)
    assert not any("序号" in line or "备注" in line or "出生" in line for line in lines)  # known or skipped
    assert "Map unfamiliar columns with --map" in result.output
    assert count(db) == before


def test_bad_mapping_is_refused(app, db, org):
    result = run(app, "import", "members", DATA / "members_messy.xlsx", "--map", "籍贯=hometown")
    assert result.exit_code == 2 and "Unknown field “hometown”" in result.output
    result = run(app, "import", "members", DATA / "members_messy.xlsx", "--map", "籍贯")
    assert result.exit_code == 2 and "column title=field" in result.output


def test_messy_roster_all_or_nothing_then_good_rows(app, db, org, tmp_path):
    """0 of 300 rows imported before issue 12; now every good row, and the bad ones name row and column."""
    before = count(db)
    maps = ["--map", "籍贯=ignore", "--map", "微信号 = ignore"]
    for name in ("members_messy.xlsx", "members_messy.csv"):
        result = run(app, "import", "members", DATA / name, *maps)
        assert result.exit_code == 1, result.output
        problems = [line.split(":", 1)[1] for line in result.output.splitlines() if line.startswith(str(DATA / name))]
        assert sorted(problems) == sorted(MESSY_PROBLEMS), (name, problems)
        assert "7 problem(s); nothing was imported." in result.output
        assert count(db) == before  # all or nothing by default
    rejected = tmp_path / "rejected.xlsx"
    result = run(app, "import", "members", DATA / "members_messy.csv", *maps, "--good-rows", "--rejected", rejected)
    assert result.exit_code == 0, result.output
    assert "Imported 293 member(s), 0 account(s); 7 row(s) with problems were not imported." in result.output
    assert count(db) == before + 293
    rows = list(load_workbook(rejected, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "Row in the uploaded file" and rows[0][-1] == "Problems" and rows[0][2] == "姓 名"
    assert [r[0] for r in rows[1:]] == [20, 63, 104, 145, 187, 228, 269]
    assert rows[5][-1] == "联系电话: Also in row 3: each member may appear only once."
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "members.imported"))
    assert (entry.details["count"], entry.details["rejected"], entry.details["good_rows_only"]) == (293, 7, True)


def test_corrected_rejected_rows_import_again(app, db, org, tmp_path):
    """The rejected-rows file, once corrected, is read as it is: its added columns are ignored."""
    rejected = tmp_path / "rejected.xlsx"
    maps = ["--map", "籍贯=ignore", "--map", "微信号=ignore", "--good-rows", "--rejected", rejected]
    assert run(app, "import", "members", DATA / "members_messy.xlsx", *maps).exit_code == 0
    workbook = load_workbook(rejected)
    sheet = workbook.worksheets[0]
    titles = [c.value for c in sheet[1]]
    sheet.delete_rows(2, sheet.max_row)
    sheet.append([20, 99, "新人", "女", "汉族", "1990年5月", None, "本科", "13012345678", "正式党员", "2015.07", None,
                  "East Ridge Village Branch", "江西", "wx", None, "fixed"])
    workbook.save(rejected)
    assert titles[-1] == "Problems"
    before = count(db)
    result = run(app, "import", "members", rejected, *maps[:4])
    assert result.exit_code == 0, result.output
    assert count(db) == before + 1


#: The genuinely bad rows of tests/data/org/members_messy.* (generate.py, MESSY_BAD): row, column, problem.
MESSY_PROBLEMS = [
    "row 20\t公民身份号码\tThe national ID number holds the birth date 1974-11-10, which does not match the birth date 1974-12.",
    "row 63\t联系电话\tA phone number has 6 to 20 digits (spaces and dashes are allowed).",
    "row 104\t文化程度\tUnknown value “初中肄业”; use one of: primary school、junior high school、high school、"
    "vocational school、associate degree、bachelor's degree、master's degree、doctorate.",
    "row 145\t公民身份号码\tThis national ID number is not valid (its check character does not match).",
    "row 187\t联系电话\tAlso in row 3: each member may appear only once.",
    "row 228\t姓 名\tThe name is missing.",
    "row 269\t出生 日期\tNot a date: write it as 2024-05-01.",
]
