"""Where billing files sit: a local folder or an S3-compatible bucket (AWS S3, MinIO, Ceph…, through boto3)."""

from __future__ import annotations

import os
import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.connectors.base import ConnectionFailed, ExtractError, PermanentError
from app.connectors.secrets import reveal

S3_PROPERTIES: dict[str, Any] = {
    "endpoint_url": {"type": "string", "pattern": "^https?://", "description": "S3 endpoint, e.g. "
                     "https://s3.eu-west-1.amazonaws.com or http://minio:9000 (http = no TLS)"},
    "access_key_id": {"type": "string", "minLength": 1},
    "secret_access_key": {"type": "string", "format": "password", "minLength": 1},
    "bucket": {"type": "string", "pattern": "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"},
    "prefix": {"type": "string", "default": ""},
    "region": {"type": "string", "default": "us-east-1"},
    "verify_tls": {"type": "boolean", "default": True, "description": "verify the endpoint's TLS certificate"},
    "ca_bundle": {"type": "string", "description": "CA bundle to verify the endpoint's TLS certificate with"},
    "path_style": {"type": "boolean", "default": True, "description": "path-style addressing (MinIO, most "
                   "S3-compatible stores)"},
}
S3_REQUIRED = ["endpoint_url", "access_key_id", "secret_access_key", "bucket"]
CHUNK = 1 << 20


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    etag: str


class Store(ABC):
    """A read-only view of objects under a root."""

    @abstractmethod
    def list(self) -> Iterator[StoredObject]:
        """Every object under the root (keys relative to the bucket, or to the folder)."""

    @abstractmethod
    def download(self, key: str, dest: Path, on_bytes: Callable[[int], None] | None = None) -> Path:
        """Copy one object to ``dest`` (streamed)."""

    @abstractmethod
    def read_bytes(self, key: str) -> bytes:
        """A small object's content (manifests)."""

    @abstractmethod
    def check(self) -> str:
        """One cheap call proving access; a description, or ConnectionFailed."""


class LocalStore(Store):
    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser()

    def list(self) -> Iterator[StoredObject]:
        if not self.root.is_dir():
            raise PermanentError(f"folder {self.root} does not exist")
        for path in sorted(self.root.rglob("*")):
            if path.is_file():
                st = path.stat()
                yield StoredObject(path.relative_to(self.root).as_posix(), st.st_size, f"{st.st_mtime_ns:x}")

    def local_path(self, key: str) -> Path:
        return self.root / key

    def download(self, key: str, dest: Path, on_bytes: Callable[[int], None] | None = None) -> Path:
        shutil.copyfile(self.root / key, dest)
        if on_bytes:
            on_bytes(dest.stat().st_size)
        return dest

    def read_bytes(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def check(self) -> str:
        if not self.root.is_dir():
            raise ConnectionFailed(f"folder {self.root} does not exist")
        if not os.access(self.root, os.R_OK | os.X_OK):
            raise ConnectionFailed(f"folder {self.root} is not readable")
        return f"folder {self.root} is readable"


class S3Store(Store):
    """A bucket and prefix of any S3-compatible store."""

    def __init__(self, config: Mapping[str, Any], attempts: int = 5) -> None:
        import boto3
        from botocore.config import Config

        self.bucket, self.prefix = config["bucket"], config.get("prefix", "").lstrip("/")
        self.endpoint = config["endpoint_url"]
        verify = (config.get("ca_bundle") or True) if config.get("verify_tls", True) else False
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, region_name=config.get("region") or "us-east-1",
            aws_access_key_id=config["access_key_id"], aws_secret_access_key=reveal(config["secret_access_key"]),
            verify=verify, config=Config(retries={"max_attempts": attempts, "mode": "standard"}, connect_timeout=5,
                                         read_timeout=60, s3={"addressing_style": "path" if config.get(
                                             "path_style", True) else "virtual"}))

    def _call(self, what: str, fn: Callable[[], Any], error: type[Exception] = ExtractError) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

        try:
            return fn()
        except EndpointConnectionError as exc:
            raise error(f"cannot reach S3 endpoint {self.endpoint}: {exc.__class__.__name__}") from exc
        except ClientError as exc:
            raise error(f"{what}: {_s3_problem(exc, self.bucket)}") from exc
        except BotoCoreError as exc:
            raise error(f"{what}: {exc}") from exc

    def list(self) -> Iterator[StoredObject]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        iterator = iter(pages)
        while True:
            page = self._call(f"listing s3://{self.bucket}/{self.prefix}", lambda: next(iterator, None))
            if page is None:
                return
            for obj in page.get("Contents", []):
                if not obj["Key"].endswith("/"):
                    yield StoredObject(obj["Key"], int(obj["Size"]), obj.get("ETag", "").strip('"'))

    def download(self, key: str, dest: Path, on_bytes: Callable[[int], None] | None = None) -> Path:
        def fetch() -> Path:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
            with open(dest, "wb") as out:
                for chunk in body.iter_chunks(CHUNK):
                    out.write(chunk)
                    if on_bytes:
                        on_bytes(len(chunk))
            return dest

        return self._call(f"reading s3://{self.bucket}/{key}", fetch)

    def read_bytes(self, key: str) -> bytes:
        return self._call(f"reading s3://{self.bucket}/{key}",
                          lambda: self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def check(self) -> str:
        # ListObjectsV2, not HeadBucket: its error answers carry a code (HEAD answers have no body)
        found = self._call(f"listing s3://{self.bucket}/{self.prefix}", lambda: self.client.list_objects_v2(
            Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1), ConnectionFailed)
        return (f"bucket {self.bucket} at {self.endpoint} is readable"
                f"{'' if found.get('KeyCount') else f' (nothing under prefix {self.prefix!r} yet)'}")


def _s3_problem(exc: Exception, bucket: str) -> str:
    err = getattr(exc, "response", {}).get("Error", {})
    code, status = str(err.get("Code", "")), getattr(exc, "response", {}).get("ResponseMetadata", {}).get(
        "HTTPStatusCode")
    hints = {"InvalidAccessKeyId": "the access key id is not known: check access_key_id",
             "SignatureDoesNotMatch": "the secret access key is wrong: check secret_access_key",
             "AccessDenied": "access denied: check the key's permissions on the bucket",
             "NoSuchBucket": f"bucket {bucket} does not exist", "404": f"bucket {bucket} does not exist",
             "403": "access denied (bad credentials or no permission on the bucket)"}
    return hints.get(code) or f"{code or status}: {err.get('Message', exc)}"
