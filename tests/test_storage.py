"""File storage behind one interface (issue 20): the instance folder or an S3-compatible bucket.

Both stores keep the same contract; with ``STORAGE = "s3"`` every real upload route (care attachments,
dues proofs, meeting files, development step documents, mobility photos), the member importer's
previews and backup/restore go through the bucket of a local moto server (tests/helpers/s3.py) and
nothing lands in the instance folder.
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tarfile
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal import toolkit as tk
from portal.backup import BackupError, create_backup, restore_backup
from portal.extensions import db as _db
from portal.migrate import upgrade
from portal.storage import LocalStore, S3Store, get_store, make_store
from portal_care.models import CareAttachment, CareRequest
from portal_development.models import StepRecord
from portal_dues.models import Payment
from portal_meetings.models import Attachment
from tests.conftest import login, make_test_app
from tests.helpers.factories import Factory
from tests.helpers.s3 import ACCESS_KEY, REGION, SECRET_KEY, s3_settings
from tests.test_development_views import make_case
from tests.test_dues_member import key, png_bytes, set_dues
from tests.test_meetings_manage_views import _held
from tests.test_mobility_certificates import _approved, _image

PDF = b"%PDF-1.4\n%kept in a bucket\n"
CARE_FORM = {"category": "wages", "title": "Wages for March not paid", "description": "The contractor owes 6800 yuan.",
             "urgency": "high", "where": "host", "consent_host": "y", "contact_pref": "phone", "action": "submit"}
HOSTILE_KEYS = ("../etc/passwd", "/etc/passwd", "a/../b", "a//b", ".hidden", "a/.b", "", "a/", "a b", "a\nb")


def _s3_store(url: str) -> S3Store:
    store = S3Store(f"contract-{uuid.uuid4().hex[:12]}", endpoint_url=url, region=REGION,
                    access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY)
    store.ensure_bucket()
    return store


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStore(tmp_path / "uploads")
    return _s3_store(request.getfixturevalue("moto_server"))


def test_both_stores_keep_the_same_contract(store):
    assert store.get("care/a.pdf") is None and not store.exists("care/a.pdf")
    assert list(store.keys()) == []
    store.put("care/a.pdf", PDF, "application/pdf")
    store.put("care/b.png", b"\x89PNG", "image/png")
    store.put("imports/t.json", b"{}", "application/json")
    store.put("care/a.pdf", PDF + b"2", "application/pdf")  # replaced, not duplicated
    assert store.get("care/a.pdf") == PDF + b"2" and store.exists("care/b.png")
    assert list(store.keys()) == ["care/a.pdf", "care/b.png", "imports/t.json"]
    assert list(store.keys("care/")) == ["care/a.pdf", "care/b.png"]
    assert list(store.keys("imports/t")) == ["imports/t.json"] and list(store.keys("meetings/")) == []
    store.delete("care/a.pdf")
    store.delete("care/a.pdf")  # already gone: no error
    assert store.get("care/a.pdf") is None and list(store.keys("care/")) == ["care/b.png"]
    for hostile in HOSTILE_KEYS:
        for method in (store.get, store.exists, store.delete):
            with pytest.raises(ValueError):
                method(hostile)
        with pytest.raises(ValueError):
            store.put(hostile, b"x")


def test_local_files_are_private_and_never_half_written(tmp_path):
    store = LocalStore(tmp_path / "uploads")
    store.put("care/a.pdf", PDF)
    path = tmp_path / "uploads" / "care" / "a.pdf"
    assert path.read_bytes() == PDF and path.stat().st_mode & 0o077 == 0
    assert [p.name for p in path.parent.iterdir()] == ["a.pdf"]  # the temporary file was renamed, not left
    (path.parent / ".a.pdf.123.partial").write_bytes(b"half")  # a writer that died: never listed as a key
    assert list(store.keys()) == ["care/a.pdf"]
    with pytest.raises(ValueError):
        list(store.keys("../"))


def test_configuration_chooses_the_store(tmp_path):
    assert isinstance(make_store({"UPLOAD_DIR": str(tmp_path)}), LocalStore)
    s3 = make_store({"STORAGE": "S3", "S3_BUCKET": "files", "S3_ENDPOINT_URL": "http://127.0.0.1:1"})
    assert isinstance(s3, S3Store) and s3.describe() == "s3://files at http://127.0.0.1:1"
    with pytest.raises(ValueError, match="S3_BUCKET"):
        make_store({"STORAGE": "s3"})
    with pytest.raises(ValueError, match="STORAGE"):
        make_store({"STORAGE": "ftp", "UPLOAD_DIR": str(tmp_path)})


def test_the_environment_configures_s3(tmp_path_factory, monkeypatch, moto_server):
    bucket = f"env-{uuid.uuid4().hex[:12]}"
    for name, value in {"STORAGE": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": moto_server, "S3_REGION": REGION,
                        "S3_ACCESS_KEY_ID": ACCESS_KEY, "S3_SECRET_ACCESS_KEY": SECRET_KEY,
                        "S3_CREATE_BUCKET": "true"}.items():
        monkeypatch.setenv(f"PORTAL_{name}", value)
    app = make_test_app(tmp_path_factory)
    store = get_store(app)
    assert isinstance(store, S3Store) and store.bucket == bucket and app.config["S3_CREATE_BUCKET"] is True
    assert list(store.keys()) == []  # the bucket was created at start-up
    with app.app_context():
        _db.engine.dispose()


def test_the_quick_start_needs_no_boto3(tmp_path):
    """The default (local) store never imports boto3: an installation without the s3 extra starts and stores."""
    script = (
        "import sys\n"
        "sys.modules['boto3'] = sys.modules['botocore'] = None  # importing them now fails\n"
        "from werkzeug.datastructures import FileStorage\n"
        "import io\n"
        "from portal import create_app, toolkit as tk\n"
        f"app = create_app({{'TESTING': True, 'SECRET_KEY': 'x', 'DATABASE_URL': 'sqlite://', "
        f"'UPLOAD_DIR': {str(tmp_path / 'uploads')!r}}})\n"
        "with app.test_request_context():\n"
        "    upload = tk.check_upload(FileStorage(io.BytesIO(b'%PDF-1.4 x'), filename='a.pdf'), allowed=['pdf'],"
        " max_bytes=100)\n"
        "    name = tk.store_upload('care', upload)\n"
        "    assert tk.read_upload('care', name) == b'%PDF-1.4 x'\n"
        "print('stored')\n")
    env = {**os.environ, "PORTAL_INSTANCE_PATH": str(tmp_path / "instance")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0 and "stored" in done.stdout, done.stderr[-3000:]


# --- the real upload routes on S3 ------------------------------------------------------------------

def _client(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def _bucket_only(s3_app, key: str, data: bytes) -> None:
    """``key`` holds ``data`` in the app's bucket, and nothing was written to its instance folder."""
    assert get_store(s3_app).get(key) == data
    uploads = Path(s3_app.config["UPLOAD_DIR"])
    assert not uploads.exists() or not any(p.is_file() for p in uploads.rglob("*"))


def test_care_attachment_goes_to_the_bucket_and_back(s3_app, db, org):
    member = _client(s3_app, "member1")
    response = member.post("/care/new", data={**CARE_FORM, "attachments": [(io.BytesIO(PDF), "contract.pdf")]},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    attachment = db.session.scalar(select(CareAttachment))
    _bucket_only(s3_app, f"care/{attachment.stored_name}", PDF)
    served = member.get(f"/care/attachments/{attachment.id}")
    assert served.status_code == 200 and served.data == PDF and served.mimetype == "application/pdf"
    assert "attachment" in served.headers["Content-Disposition"] and "contract.pdf" in served.headers["Content-Disposition"]
    assert served.headers["Cache-Control"] == "private, no-store" and served.headers["X-Content-Type-Options"] == "nosniff"
    assert _client(s3_app, "foreign-secretary").get(f"/care/attachments/{attachment.id}").status_code == 404
    # the object gone from the bucket (a restore that missed it, a deleted key): 404, never 500
    get_store(s3_app).delete(f"care/{attachment.stored_name}")
    assert member.get(f"/care/attachments/{attachment.id}").status_code == 404
    assert db.session.scalar(select(CareRequest)).title == CARE_FORM["title"]


def test_dues_proof_goes_to_the_bucket_and_back(s3_app, db, org):
    set_dues(db, org.member2)
    proof = png_bytes()
    member = _client(s3_app, "member2")
    response = member.post("/dues/report", data={
        "months": [key(1)], "amount": "40.00", "paid_on": tk.local_today().isoformat(), "note": "transfer",
        "proof": (io.BytesIO(proof), "receipt.png")}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    payment = db.session.scalar(select(Payment))
    _bucket_only(s3_app, f"dues/{payment.proof_stored_name}", proof)
    served = _client(s3_app, "home-secretary").get(f"/dues/manage/payments/{payment.id}/proof")
    assert served.status_code == 200 and served.data == proof and served.mimetype == "image/png"
    assert "inline" in served.headers["Content-Disposition"]  # an image is shown, not downloaded


def test_meeting_file_goes_to_the_bucket_and_back(s3_app, db, org):
    meeting = _held(db, org)
    secretary = _client(s3_app, "home-secretary")
    image = png_bytes()
    response = secretary.post(f"/meetings/manage/{meeting.id}/attachments",
                              data={"file": (io.BytesIO(image), "sign-in.png")}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    item = db.session.scalar(select(Attachment))
    _bucket_only(s3_app, f"meetings/{item.stored_name}", image)
    served = secretary.get(f"/meetings/manage/attachments/{item.id}")
    assert served.status_code == 200 and served.data == image
    assert _client(s3_app, "host-secretary").get(f"/meetings/manage/attachments/{item.id}").status_code == 404


def test_development_step_document_goes_to_the_bucket_and_back(s3_app, db, org, factory):
    person = factory.member(org.home, "applicant1", name="赵敏", stage="applicant")
    case = make_case(db, person, org.home)
    secretary = _client(s3_app, "home-secretary")
    day = (tk.local_today() - timedelta(days=2)).isoformat()
    response = secretary.post(f"/development/cases/{case.id}/steps/talk", data={
        "talk-on": day, "talk-notes": "Talked.", "talk-files": (io.BytesIO(PDF), "talk.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    record = db.session.scalar(select(StepRecord).where(StepRecord.case_id == case.id, StepRecord.code == "talk"))
    stored = record.files[0]
    _bucket_only(s3_app, f"development/{stored.stored_name}", PDF)
    download = secretary.get(f"/development/files/{stored.id}")
    assert download.status_code == 200 and download.data == PDF


def test_mobility_photo_goes_to_the_bucket_and_onto_the_card(s3_app, db, org):
    outflow, certificate = _approved(org)
    member = _client(s3_app, "member1")
    photo = _image("JPEG")
    url = f"/mobility/outflows/{outflow.id}/photo"
    assert member.post(url, data={"photo": (io.BytesIO(photo), "me.jpg")},
                       content_type="multipart/form-data").status_code == 302
    db.session.expire_all()
    _bucket_only(s3_app, f"mobility/{outflow.photo_file}", photo)
    served = member.get(url)
    assert served.status_code == 200 and served.data == photo and served.mimetype == "image/jpeg"
    # the card is printed from the bucket's bytes: the photo is its second image
    pdf = PdfReader(io.BytesIO(member.get(f"/mobility/certificates/{certificate.id}.pdf").data))
    assert len(list(pdf.pages[0].images)) == 2


def test_path_tricks_never_reach_the_bucket(s3_app, db):
    store = get_store(s3_app)
    store.put("secrets/key.pem", b"secret")
    with s3_app.test_request_context():
        for hostile in ("../secrets/key.pem", "../../secrets/key.pem", "key.pem", "/secrets/key.pem", None):
            assert tk.read_upload("care", hostile) is None
        with pytest.raises(ValueError):
            tk.read_upload("../secrets", "a" * 40 + ".pdf")
    assert store.get("secrets/key.pem") == b"secret"


# --- the importer's previews ---------------------------------------------------------------------

def test_import_preview_then_confirm_through_the_bucket(s3_app, db, org):
    from portal.org import importer

    store = get_store(s3_app)
    secretary = _client(s3_app, "home-secretary")
    csv = "姓名,手机号\n孙丽,13711110009\n".encode()
    preview = secretary.post(f"/units/{org.home.id}/import", data={"file": (io.BytesIO(csv), "a.csv")},
                             content_type="multipart/form-data")
    assert preview.status_code == 200, preview.get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', preview.get_data(as_text=True)).group(1)
    assert list(store.keys("imports/")) == [f"imports/{token}.bin", f"imports/{token}.json"]
    assert store.get(f"imports/{token}.bin") == csv
    confirmed = secretary.post(f"/units/{org.home.id}/import/confirm", data={"token": token})
    assert confirmed.status_code == 302, confirmed.get_data(as_text=True)
    assert db.session.scalar(select(tk.Member).where(tk.Member.name == "孙丽")).phone == "13711110009"
    assert list(store.keys("imports/")) == []
    # an upload left for a day is purged by the next one (its age is the meta data's stored_at)
    with s3_app.test_request_context():
        old = importer.store_upload(b"old", {"filename": "old.csv"})
        importer.update_upload(old, stored_at=0)
        assert importer.load_upload(old) is None  # expired: refused and deleted
        kept = importer.store_upload(b"new", {"filename": "new.csv"})
        stale = importer.store_upload(b"stale", {"filename": "stale.csv"})
        importer.update_upload(stale, stored_at=0)
        assert importer.purge_stale_uploads() == 1
        assert importer.load_upload(kept)[0] == b"new"
    assert sorted(store.keys("imports/")) == [f"imports/{kept}.bin", f"imports/{kept}.json"]


# --- backup and restore --------------------------------------------------------------------------

def _s3_instance(tmp_path_factory, tmp_path, name: str, moto_server: str):
    return make_test_app(tmp_path_factory, DATABASE_URL=f"sqlite:///{tmp_path / name}.sqlite3",
                         **s3_settings(moto_server))


@pytest.mark.slow
def test_backup_of_an_s3_deployment_holds_the_objects_and_restore_puts_them_back(tmp_path_factory, tmp_path,
                                                                                   moto_server):
    source = _s3_instance(tmp_path_factory, tmp_path, "source", moto_server)
    target = _s3_instance(tmp_path_factory, tmp_path, "target", moto_server)
    with source.app_context():
        upgrade(source)
        Factory(_db).standard_org()
        _db.session.commit()
    member = _client(source, "member1")
    assert member.post("/care/new", data={**CARE_FORM, "attachments": [(io.BytesIO(PDF), "contract.pdf")]},
                       content_type="multipart/form-data").status_code == 302
    with source.app_context():
        stored, attachment_id = _db.session.execute(select(CareAttachment.stored_name, CareAttachment.id)).one()
        archive = tmp_path / "portal.tar"
        manifest = create_backup(archive)
    assert f"uploads/care/{stored}" in manifest["files"]
    with tarfile.open(archive) as tar:
        assert tar.extractfile(f"uploads/care/{stored}").read() == PDF
    with target.app_context():
        get_store().put("care/stray.pdf", PDF)  # an object in the target's bucket: it is not empty
        with pytest.raises(BackupError, match=r"not empty \(uploads in s3://"):
            restore_backup(archive)
        get_store().delete("care/stray.pdf")
        result = restore_backup(archive)
        assert result.uploads == 1 and list(get_store().keys()) == [f"care/{stored}"]
        assert get_store().get(f"care/{stored}") == PDF
    assert not Path(target.config["UPLOAD_DIR"]).exists()  # the target's files are in its bucket only
    served = _client(target, "member1").get(f"/care/attachments/{attachment_id}")
    assert served.status_code == 200 and served.data == PDF
    for app in (source, target):
        with app.app_context():
            _db.engine.dispose()
