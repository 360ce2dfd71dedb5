"""Regenerate the import test files: ``python tests/data/org/generate.py``.

The files match the standard test organization (tests/helpers/factories.py):
home branches are named as there.
"""
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


if __name__ == "__main__":
    main()
