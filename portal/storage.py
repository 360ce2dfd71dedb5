"""Where uploaded files live: the instance folder (one machine) or an S3-compatible object store (several).

Everything that keeps a file (``tk.store_upload``, the member importer's
previews, backup and restore) goes through the :class:`Store` of the app
(:func:`get_store`), so no code assumes a local path. Keys are ``/``-separated
names such as ``care/<random>.pdf`` or ``imports/<token>.json``; a key with
``..``, an empty part or a leading dot is refused before any store sees it.

``STORAGE = "local"`` (the default) keeps files under ``UPLOAD_DIR``.
``STORAGE = "s3"`` keeps them in ``S3_BUCKET`` on ``S3_ENDPOINT_URL`` (MinIO,
Ceph RGW, AWS …) with ``S3_ACCESS_KEY_ID`` / ``S3_SECRET_ACCESS_KEY`` (when
unset, boto3's usual environment and instance credentials apply) and
``S3_REGION``; ``S3_CREATE_BUCKET = true`` creates a missing bucket at start-up.
boto3 is imported only by an S3 store (``pip install .[s3]``).
"""
from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, current_app

#: One part of a key: letters, digits, ``_ . -``, not starting with a dot (no ``..``, no hidden files).
_PART = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")
_EXTENSION = "portal_storage"


def check_key(key: str) -> str:
    """``key`` when it is a safe store key (see the module's docstring); ``ValueError`` otherwise."""
    if not isinstance(key, str) or not key or len(key) > 512 or not all(_PART.fullmatch(p) for p in key.split("/")):
        raise ValueError(f"not a store key: {key!r}")
    return key


class Store(Protocol):
    """Files by key; every method checks its key with :func:`check_key`."""

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Keep ``data`` under ``key``, replacing what was there."""

    def get(self, key: str) -> bytes | None:
        """The bytes under ``key``, or ``None`` when there are none."""

    def delete(self, key: str) -> None:
        """Remove ``key`` (no error when it is already gone)."""

    def exists(self, key: str) -> bool:
        """Whether something is kept under ``key``."""

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key starting with ``prefix``, in order."""

    def describe(self) -> str:
        """Where the files are, for people (a folder or ``s3://bucket``)."""


class LocalStore:
    """Files in a folder of this machine (``UPLOAD_DIR``): ``<folder>/<key>``, owner-readable only."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Write ``data`` to a temporary file beside the target, then rename: readers never see half a file."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(6)}.partial")  # dotted: never listed as a key
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # personal data: the owner's only
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes | None:
        """The file's bytes, or ``None`` when it is missing."""
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def delete(self, key: str) -> None:
        """Remove the file if it is there."""
        try:
            self._path(key).unlink()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            pass

    def exists(self, key: str) -> bool:
        """Whether the file is there."""
        return self._path(key).is_file()

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Keys of the files under the folder starting with ``prefix`` (only the prefix's folder is walked)."""
        folder = self.root / check_key(prefix.rpartition("/")[0]) if "/" in prefix else self.root
        if not folder.is_dir():
            return iter(())
        found = (p.relative_to(self.root).as_posix() for p in folder.rglob("*") if p.is_file())
        return iter(sorted(k for k in found if k.startswith(prefix) and all(_PART.fullmatch(p) for p in k.split("/"))))

    def describe(self) -> str:
        """The folder."""
        return str(self.root)


#: S3 error codes meaning "no such object" (GetObject says NoSuchKey, HEAD requests only the status).
_NO_OBJECT = {"404", "NoSuchKey", "NotFound"}
_NO_BUCKET = {"404", "NoSuchBucket", "NotFound"}


class S3Store:
    """Objects in one bucket of an S3-compatible store, addressed path-style (MinIO and Ceph need no DNS names).

    The boto3 client is made on first use in each process: a client (and its
    connections) made before gunicorn forks would be shared by the workers.
    """

    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None,
                 access_key_id: str | None = None, secret_access_key: str | None = None) -> None:
        if not bucket:
            raise ValueError("STORAGE = 's3' needs S3_BUCKET")
        self.bucket, self.endpoint_url, self.region = bucket, endpoint_url, region
        self._credentials = {"aws_access_key_id": access_key_id, "aws_secret_access_key": secret_access_key}
        self._client: Any = None
        self._pid = 0

    @property
    def client(self) -> Any:
        """This process's boto3 S3 client."""
        if self._client is None or self._pid != os.getpid():
            import boto3
            from botocore.config import Config

            config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"},
                            connect_timeout=5, read_timeout=30, max_pool_connections=20)
            self._client = boto3.client("s3", endpoint_url=self.endpoint_url, region_name=self.region,
                                        config=config, **self._credentials)
            self._pid = os.getpid()
        return self._client

    @staticmethod
    def _code(error: Exception) -> str:
        return str((getattr(error, "response", None) or {}).get("Error", {}).get("Code"))

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Upload ``data`` as the object ``key``."""
        self.client.put_object(Bucket=self.bucket, Key=check_key(key), Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or ``None`` when there is no such object."""
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as error:
            if self._code(error) in _NO_OBJECT:
                return None
            raise
        with answer["Body"] as body:
            return body.read()

    def delete(self, key: str) -> None:
        """Delete the object (S3 answers success for a missing one too)."""
        self.client.delete_object(Bucket=self.bucket, Key=check_key(key))

    def exists(self, key: str) -> bool:
        """Whether the object is there (a HEAD request)."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as error:
            if self._code(error) in _NO_OBJECT:
                return False
            raise
        return True

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Keys of the bucket's objects starting with ``prefix``, page by page (S3 lists them in order)."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", ()):
                yield item["Key"]

    def ensure_bucket(self) -> None:
        """Create the bucket when it does not exist (``S3_CREATE_BUCKET``: tests, a fresh MinIO)."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as error:
            if self._code(error) not in _NO_BUCKET:
                raise
        options: dict[str, Any] = {}
        if self.region and self.region != "us-east-1":  # the one region S3 refuses to be told
            options["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        self.client.create_bucket(Bucket=self.bucket, **options)

    def describe(self) -> str:
        """``s3://bucket`` (and the endpoint when it is not AWS)."""
        where = f"s3://{self.bucket}"
        return f"{where} at {self.endpoint_url}" if self.endpoint_url else where


def make_store(config: Any) -> Store:
    """The store ``config`` (an app's config) describes; ``ValueError`` for an unknown ``STORAGE``."""
    kind = str(config.get("STORAGE") or "local").lower()
    if kind == "local":
        return LocalStore(config["UPLOAD_DIR"])
    if kind == "s3":
        return S3Store(config.get("S3_BUCKET"), endpoint_url=config.get("S3_ENDPOINT_URL") or None,
                       region=config.get("S3_REGION") or None,
                       access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
                       secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None)
    raise ValueError(f"STORAGE must be 'local' or 's3', not {kind!r}")


def init_storage(app: Flask) -> None:
    """At start-up: make the app's store (a wrong ``STORAGE`` fails here) and, when asked, its bucket."""
    store = make_store(app.config)
    if isinstance(store, S3Store) and app.config.get("S3_CREATE_BUCKET"):
        store.ensure_bucket()
    app.extensions[_EXTENSION] = store


def get_store(app: Flask | None = None) -> Store:
    """The store of ``app`` (default: the current app)."""
    return (app or current_app).extensions[_EXTENSION]
