"""Regenerate the import test files: ``python tests/data/org/generate.py``.

The files match the standard test organization (tests/helpers/factories.py):
home branches are named as there.

``members_messy.xlsx`` / ``members_messy.csv`` are a roster as another system
exports it (issue 12): a title line, 序号 and 备注 columns, two columns the
portal does not know (籍贯, 微信号), titles with spaces and line breaks,
full-width digits and letters, ideographic spaces, month-only birth dates in
every spelling, Excel date and number cells, lower-case x in ID numbers,
trailing spaces, blank rows and numbered empty rows, and :data:`MESSY_BAD`
rows that are genuinely wrong.
"""
import csv
import random
from datetime import date
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(birth: str, seq: str, area: str = "360821") -> str:
    first = area + birth + seq
    return first + "10X98765432"[sum(int(d) * w for d, w in zip(first, WEIGHTS, strict=True)) % 11]


ZH_HEADERS = ["姓名", "性别", "出生日期", "民族", "学历", "手机号码", "身份证号", "党员类别", "入党日期", "职业",
              "工作单位", "现居住城市", "所在党支部", "流入地党组织", "是否外出", "用户名"]
ZH_ROWS = [
    ["陈静", "女", "1996-04-12", "汉族", "大专", "13711110001", id_number("19960412", "042"), "正式党员", "2019-06-30",
     "电子厂操作工", "东莞某电子厂", "东莞市", "East Ridge Village Branch", "Shenzhen Mobile Members Branch", "是", "chenjing"],
    ["刘洋", "男", "1988/11/3", "汉族", "高中", "137-1111-0002", id_number("19881103", "051"), "预备党员", "2025.01.15",
     "建筑工人", "某建筑公司", "深圳市", "East Ridge Village Branch", "", "是", ""],
    ["周明", "男", "1970年2月1日", "", "初中", "", "", "入党积极分子", "", "务农", "", "", "Stone Bridge Village Branch",
     "", "否", ""],
]


MESSY_HEADERS = ["序号", " 姓  名 ", "性别", "民族", "出生\n日期", "公民身份号码", "文化程度", "联系电话 ",
                 "人员类别", "入党时间", "工作单位", "所在支部", "籍贯", "微信号", "备注"]
MESSY_ROWS = 300
#: Row index (0-based among the members) → what is wrong with it; everything else must import.
MESSY_BAD = {
    17: "birth month contradicts the ID number",
    58: "phone with letters",
    99: "unknown education",
    140: "ID check character wrong",
    181: "phone of row 3 again",
    222: "name missing",
    263: "month 13",
}
#: Rows left blank before these member indexes (the sheet row numbers move on).
MESSY_BLANKS_BEFORE = (40, 41, 150)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["静", "伟", "芳", "敏", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英", "建华", "桂兰", "志强", "海燕"]
FULL_WIDTH = str.maketrans("0123456789xX-", "０１２３４５６７８９ｘＸ－")


def _birth_cell(rng: random.Random, born: date, i: int, for_xlsx: bool):
    """The birth date as some system or some hand wrote it."""
    style = i % 9
    if style == 0:
        return f"{born.year}年{born.month}月"
    if style == 1:
        return f"{born.year}.{born.month:02d}"
    if style == 2:
        return f"{born.year}-{born.month:02d}"
    if style == 3:
        return f"{born.year}/{born.month}/{born.day}"
    if style == 4:
        return born.strftime("%Y%m%d")
    if style == 5:
        return born if for_xlsx else born.isoformat()  # a real date cell
    if style == 6:
        return f"{born.year}年{born.month}月".translate(FULL_WIDTH)
    if style == 7 and for_xlsx and born.month != 10:
        return float(f"{born.year}.{born.month:02d}")  # 1976.11 typed into a number cell
    return f"{born.year}年{born.month}月{born.day}日"


def _phone_cell(number: str, i: int, for_xlsx: bool):
    style = i % 6
    if style == 0:
        return number.translate(FULL_WIDTH)
    if style == 1:
        return f"{number[:3]} {number[3:7]} {number[7:]}".translate(FULL_WIDTH)
    if style == 2:
        return f"{number[:3]}-{number[3:7]}-{number[7:]}"
    if style == 3:
        return int(number) if for_xlsx else number
    if style == 4:
        return f"{number[:3]}\u3000{number[3:7]}\u3000{number[7:]}  "
    return number


def messy_roster(for_xlsx: bool) -> list[list]:
    """The title line, the header and the rows of the messy roster (cells as the file holds them)."""
    rng = random.Random(12)
    rows: list[list] = [["东岭乡党委党员花名册（从旧系统导出）"], MESSY_HEADERS]
    for i in range(MESSY_ROWS):
        if i in MESSY_BLANKS_BEFORE:
            rows.append([])
        born = date(1950 + rng.randrange(50), 1 + rng.randrange(12), 1 + rng.randrange(28))
        male = i % 2 == 0
        seq = f"{i % 50:02d}{1 if male else 2}"  # the 17th digit says the sex: odd for men
        ident = id_number(born.strftime("%Y%m%d"), seq, "3608" + f"{21 + i % 5:02d}")
        if ident.endswith("X"):
            ident = ident[:-1] + "x"
        elif i % 7 == 0:
            ident = ident.translate(FULL_WIDTH)
        if i % 5 == 0:
            ident += "  "
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)]
        if len(name) == 2 and i % 3 == 0:
            name = name[0] + "\u3000" + name[1]  # padded to line up with three-character names
        phone = f"{158 if i % 2 else 186}{i:08d}"
        joined = date(born.year + 20 + rng.randrange(min(15, 2024 - born.year - 20)), 1 + rng.randrange(12), 1)
        joined_cell = f"{joined.year}.{joined.month:02d}" if i % 2 else f"{joined.year}年{joined.month}月{joined.day}日"
        row = [i + 1, name, "男 " if male else "女", "汉族" if i % 10 else "畲族", _birth_cell(rng, born, i, for_xlsx),
               ident if i % 11 else "", ["高中", "大专", "本科", "初中", "中专", "硕士"][i % 6],
               _phone_cell(phone, i, for_xlsx), "预备党员" if i % 13 == 0 else "正式党员", joined_cell,
               f"某公司{i % 30}号", "East Ridge Village Branch" if i % 3 else "Stone  Bridge Village Branch ",
               "江西吉安", f"wx_{i:04d}", "外出务工" if i % 17 == 0 else None]
        kind = MESSY_BAD.get(i)
        if kind == "birth month contradicts the ID number":
            row[4], row[5] = f"{born.year}年{born.month % 12 + 1}月", id_number(born.strftime("%Y%m%d"), seq)
        elif kind == "phone with letters":
            row[7] = "138OO138OOO"
        elif kind == "unknown education":
            row[6] = "初中肄业"
        elif kind == "ID check character wrong":
            good = id_number(born.strftime("%Y%m%d"), seq)
            row[5] = good[:17] + ("0" if good[17] != "0" else "1")
        elif kind == "phone of row 3 again":
            row[7] = "18600000000"
        elif kind == "name missing":
            row[1] = "  "
        elif kind == "month 13":
            row[4] = f"{born.year}.13"
        rows.append(row)
    rows.extend([[MESSY_ROWS + 1], [MESSY_ROWS + 2]])  # numbered lines nobody filled in
    return rows


def write_messy() -> None:
    """members_messy.xlsx and members_messy.csv (GBK, as older systems write it)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "花名册"
    for row in messy_roster(for_xlsx=True):
        sheet.append(row)
    workbook.save(HERE / "members_messy.xlsx")
    with open(HERE / "members_messy.csv", "w", encoding="gbk", newline="") as f:
        writer = csv.writer(f)
        for row in messy_roster(for_xlsx=False):
            writer.writerow(["" if cell is None else cell for cell in row])


def main() -> None:
    with open(HERE / "members_zh_gbk.csv", "w", encoding="gbk", newline="") as f:
        f.write(",".join(ZH_HEADERS) + "\r\n")
        for row in ZH_ROWS:
            f.write(",".join(row) + "\r\n")
    en_headers = ["Name", "Gender", "Birth date", "Education", "Phone number", "National ID number",
                  "Membership stage", "Date joined", "Home branch", "Notes"]
    en_rows = [["Zhao Lei", "male", "1992-08-20", "bachelor's degree", "13522220001", id_number("19920820", "013"),
                "full member", "2015-07-01", "East Ridge Village Branch", "Returns at Spring Festival"],
               ["Wu Na", "Female", "1999-12-01", "master", "13522220002", "", "applicant", "", "Stone Bridge Village Branch", ""]]
    with open(HERE / "members_en_bom.csv", "w", encoding="utf-8-sig", newline="") as f:
        f.write(",".join(en_headers) + "\n")
        for row in en_rows:
            f.write(",".join(row) + "\n")
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "党员名册"
    sheet.append(["东岭村党支部党员名册"])  # a title line above the headers, as branches write them
    sheet.append(["姓名", "性别", "出生年月", "学历", "联系电话", "党员类别", "所在党支部"])
    sheet.append(["黄磊", "男", date(1985, 3, 9), "本科", 13633330001, "正式党员", "East Ridge Village Branch"])
    sheet.append(["林霞", "女", "1993.07", "中专", 13633330002.0, "发展对象", "East Ridge Village Branch"])
    workbook.save(HERE / "members_zh.xlsx")
    (HERE / "not_a_spreadsheet.xlsx").write_bytes(b"PK\x03\x04" + b"\x00garbage" * 40)
    (HERE / "old_excel.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    write_messy()


if __name__ == "__main__":
    main()
