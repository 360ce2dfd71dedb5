"""Printable documents (portal/certificates.py): one page, parts that never overlap, checked on the rendered image.

Every PDF page is rendered to PNG with poppler's ``pdftoppm`` and the pixels are compared with the
boxes the layout reports: the QR code (the only pure black on the page) and the photo (a colour
nothing else uses) must be drawn exactly where their boxes say.
"""
from __future__ import annotations

import io
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from portal import toolkit as tk

DPI = 100
PHOTO_RGB = (10, 120, 200)

needs_poppler = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) not installed")


def render_pages(pdf: bytes, folder: Path, name: str = "page") -> list[Image.Image]:
    """Each page of ``pdf`` as an RGB image (``pdftoppm -png``); the PNGs stay in ``folder`` for a look."""
    source = folder / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", str(source), str(folder / name)], check=True, timeout=60)
    return [Image.open(path).convert("RGB") for path in sorted(folder.glob(f"{name}-*.png"))]


def px(mm: float) -> int:
    return round(mm / 25.4 * DPI)


def pixels(image: Image.Image):
    """The pixel values in row order (Pillow 13 renamed ``getdata``)."""
    return getattr(image, "get_flattened_data", image.getdata)()


def bbox_where(image: Image.Image, keep) -> tuple[float, float, float, float] | None:
    """The bounding box in mm ``(x, y, right, bottom)`` of the pixels for which ``keep(r, g, b)`` holds."""
    mask = Image.new("1", image.size)
    mask.putdata([1 if keep(*pixel) else 0 for pixel in pixels(image)])
    box = mask.getbbox()
    return None if box is None else tuple(value * 25.4 / DPI for value in box)


def is_black(r: int, g: int, b: int) -> bool:
    return r < 8 and g < 8 and b < 8


def is_photo(r: int, g: int, b: int) -> bool:
    return abs(r - PHOTO_RGB[0]) < 12 and abs(g - PHOTO_RGB[1]) < 12 and abs(b - PHOTO_RGB[2]) < 12


def assert_drawn_in(found, box: tk.DocumentBox, tolerance: float = 1.5) -> None:
    assert found is not None, "nothing drawn"
    x, y, right, bottom = found
    assert x >= box.x - tolerance and y >= box.y - tolerance, (found, box)
    assert right <= box.right + tolerance and bottom <= box.bottom + tolerance, (found, box)


def assert_no_overlaps(boxes: dict[str, tk.DocumentBox], names) -> None:
    names = list(names)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            assert not boxes[first].overlaps(boxes[second]), (first, boxes[first], second, boxes[second])


def ink_share(image: Image.Image, box: tk.DocumentBox) -> float:
    """The share of non-white pixels inside ``box``."""
    crop = image.crop((px(box.x), px(box.y), px(box.right), px(box.bottom))).convert("L")
    values = list(pixels(crop))
    return sum(1 for value in values if value < 200) / max(len(values), 1)


def _photo(tmp_path: Path) -> bytes:
    path = tmp_path / "photo.png"
    Image.new("RGB", (300, 400), PHOTO_RGB).save(path)
    return path.read_bytes()


def _card_document(photo: bytes | None, **changes) -> tk.Document:
    facts = dict(
        title="流动党员活动证", code="LD2026ABCD1234", verify_url="https://portal.example.org/certificates/mobility/verify/LD2026ABCD1234",
        holder="欧阳娜娜", issuer="东岭村党支部", issued_at=datetime(2026, 1, 9, 20, 0), photo=photo,
        lines=[("姓名", "欧阳娜娜"), ("性别", "女"), ("身份", "正式党员"), ("所在支部", "东岭村党支部"),
               ("证件编号", "LD2026ABCD1234"), ("外出地点", "广东省 深圳市"), ("有效期", "2026年1月10日至2027年1月10日")],
        notes=["到达流入地后持本证向所在地党组织报到。", "与原党支部保持联系，按时交纳党费。", "本证每年审核一次。"])
    facts.update(changes)
    return tk.Document(**facts)


@needs_poppler
def test_card_is_one_page_with_front_and_back_and_nothing_overlaps(app, tmp_path):
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        rendered = tk.render_document(_card_document(_photo(tmp_path)), "card")
    assert len(PdfReader(io.BytesIO(rendered.pdf)).pages) == 1
    boxes = rendered.boxes
    for name, box in boxes.items():
        assert box.within(rendered.page), name
    assert not boxes["front"].overlaps(boxes["back"])
    for name in ("title", "fields", "photo", "seal"):
        assert boxes[name].within(boxes["front"]), name
    for name in ("qr", "check", "notes"):
        assert boxes[name].within(boxes["back"]), name
    assert_no_overlaps(boxes, ("title", "fields", "photo", "seal", "qr", "check", "notes"))

    [page] = render_pages(rendered.pdf, tmp_path, "card")
    assert abs(page.size[0] - px(210)) <= 1 and abs(page.size[1] - px(297)) <= 1  # A4 portrait
    # the QR code is the only pure black on the page, the photo the only blue: each where its box says
    assert_drawn_in(bbox_where(page, is_black), boxes["qr"])
    photo = bbox_where(page, is_photo)
    assert_drawn_in(photo, boxes["photo"])
    assert (photo[2] - photo[0]) * (photo[3] - photo[1]) > 0.85 * boxes["photo"].w * boxes["photo"].h * 0.95
    # the text blocks really carry text
    for name in ("fields", "check", "notes"):
        assert ink_share(page, boxes[name]) > 0.02, name


def test_card_without_photo_leaves_a_frame_and_the_issue_date_is_the_local_day(app):
    # 20:00 UTC on 9 January is 10 January in the organization's time zone (Asia/Shanghai)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        rendered = tk.render_document(_card_document(None, status="revoked"), "card")
    assert "status" in rendered.boxes
    assert_no_overlaps(rendered.boxes, ("fields", "photo", "seal", "status"))
    reader = PdfReader(io.BytesIO(rendered.pdf))
    assert len(reader.pages) == 1 and len(list(reader.pages[0].images)) == 1  # only the QR code
    text = reader.pages[0].extract_text()
    assert "January 10, 2026" in text and "January 9" not in text
    assert "Photo" in text


def test_a_long_value_stays_beside_the_photo(app, tmp_path):
    long_value = "广东省深圳市南山区粤海街道科技园南区高新南七道数字技术园二期B座十八楼"
    with app.test_request_context():
        rendered = tk.render_document(_card_document(_photo(tmp_path), lines=[("工作单位", long_value)] * 3), "card")
    boxes = rendered.boxes
    assert boxes["fields"].right <= boxes["photo"].x and boxes["fields"].within(boxes["front"])
    assert not boxes["fields"].overlaps(boxes["seal"])
    assert len(PdfReader(io.BytesIO(rendered.pdf)).pages) == 1


@needs_poppler
def test_certificate_text_stays_clear_of_the_qr_code(app, tmp_path):
    document = tk.Document(
        title="结业证书", code="K7QM-3XPD-WN2A", verify_url="https://portal.example.org/certificates/K7QM-3XPD-WN2A",
        preamble="兹证明", holder="王静", issuer="东岭村党支部", issued_at=datetime(2026, 3, 1, 2, 0),
        lines=[("已完成课程", "学习贯彻习近平新时代中国特色社会主义思想主题教育专题培训班第2026期（线上线下结合）")])
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        rendered = tk.render_document(document, "certificate")
    assert len(PdfReader(io.BytesIO(rendered.pdf)).pages) == 1
    frame = tk.DocumentBox(14, 14, 269, 182)
    for name in ("text", "qr", "url"):
        assert rendered.boxes[name].within(frame), name
    assert_no_overlaps(rendered.boxes, ("text", "qr", "url"))
    [page] = render_pages(rendered.pdf, tmp_path, "certificate")
    assert_drawn_in(bbox_where(page, is_black), rendered.boxes["qr"])
    assert ink_share(page, rendered.boxes["text"]) > 0.01


def test_wrapping_never_breaks_a_number_or_starts_a_line_with_a_stop(app):
    text = "兹介绍张伟同志，男，35岁，汉族，系中共正式党员，党费交到2026年05月，有效期30天，编号ZJ2026AB12CD34。"
    with app.test_request_context():
        pdf = tk.new_pdf()
        pdf.set_font_size(12)
        for width in range(20, 120, 3):
            lines = tk.wrap_text(pdf, text, width)
            assert "".join(lines) == text
            # closing marks may hang past the edge (Chinese typesetting); nothing else may
            assert all(pdf.get_string_width(line.rstrip("，。")) <= width + 0.01 for line in lines), width
            assert not any(line[0] in "，。、" for line in lines), (width, lines)
            for number in ("35", "2026", "05", "30", "ZJ2026AB12CD34"):
                if pdf.get_string_width(number) <= width:  # only a run wider than the line may be cut
                    assert any(number in line for line in lines), (width, number, lines)


@pytest.mark.parametrize(("name", "masked"), [
    ("王静", "王*"), ("张 伟", "张*"), ("欧阳娜娜", "欧阳**"), ("李", "李"), ("司马光", "司马*"), ("", ""),
])
def test_masked_names_keep_the_family_name_only(name, masked):
    assert tk.mask_name(name) == masked
