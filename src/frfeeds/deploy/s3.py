"""The bucket: list, put and delete objects through boto3, every failure one DeployError
line. The only module that imports boto3 (lazily: it is the ``deploy`` extra).

Endpoint, region and credentials: what is given (``deploy.endpoint``, ``deploy.region``),
else what boto3 finds itself: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_DEFAULT_REGION,
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, ~/.aws/credentials, an
instance role).
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from frfeeds.deploy.headers import Headers
from frfeeds.deploy.target import Target
from frfeeds.errors import FrfeedsError, UsageError

#: Objects per DeleteObjects request (S3's limit).
DELETE_BATCH = 1000
INSTALL = "frfeeds deploy needs boto3: install frfeeds[deploy] (pip install 'frfeeds[deploy]')"


class DeployError(FrfeedsError):
    """A deploy that could not be done or finished: one line, exit status 1."""


def require_boto3() -> None:
    """UsageError (one line, exit 2) when the deploy extra is not installed."""
    try:
        import boto3  # noqa: F401
    except ImportError:
        raise UsageError(INSTALL) from None


class Bucket:
    """The objects under a target's prefix."""

    def __init__(self, target: Target, endpoint: str | None = None, region: str | None = None,
                 connections: int = 10) -> None:
        require_boto3()
        import boto3
        from botocore.config import Config

        self.target = target
        session = boto3.session.Session(region_name=region or None)
        if session.get_credentials() is None:
            raise DeployError("no credentials for S3: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                              "(or AWS_PROFILE)")
        config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10, read_timeout=60,
                        max_pool_connections=connections)
        with self._failures("connect"):
            self._client: Any = session.client("s3", endpoint_url=endpoint or None, config=config)
        self.endpoint = str(self._client.meta.endpoint_url)

    def listing(self) -> dict[str, str]:
        """Every object under the prefix, by path relative to it, to its ETag (ListObjectsV2:
        one request per 1,000 objects, no request per object)."""
        found: dict[str, str] = {}
        start = len(self.target.key_prefix)
        with self._failures("list"):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.target.bucket, Prefix=self.target.key_prefix)
            for page in pages:
                for item in page.get("Contents", ()):
                    found[str(item["Key"])[start:]] = str(item.get("ETag", ""))
        return found

    def put(self, path: str, data: bytes, md5: str, headers: Headers) -> None:
        """One object, in one part (its ETag is then its MD5), its integrity checked by
        the server against Content-MD5."""
        with self._failures(f"upload {path}"):
            self._client.put_object(
                Bucket=self.target.bucket, Key=self.target.key(path), Body=data,
                ContentType=headers.content_type, CacheControl=headers.cache_control,
                ContentMD5=base64.b64encode(bytes.fromhex(md5)).decode("ascii"),
            )

    def delete(self, paths: Sequence[str]) -> None:
        for start in range(0, len(paths), DELETE_BATCH):
            batch = paths[start:start + DELETE_BATCH]
            with self._failures("delete"):
                answer = self._client.delete_objects(Bucket=self.target.bucket, Delete={
                    "Objects": [{"Key": self.target.key(path)} for path in batch], "Quiet": True})
            errors = answer.get("Errors") or []
            if errors:
                first = errors[0]
                raise DeployError(f"cannot delete {first.get('Key')} from {self.target}: "
                                  f"{first.get('Code')}: {first.get('Message')} ({len(errors)} objects not deleted)")

    @contextlib.contextmanager
    def _failures(self, action: str) -> Iterator[None]:
        """boto3's exceptions as one DeployError line naming the bucket and why."""
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectionError,
            NoCredentialsError,
            ParamValidationError,
            PartialCredentialsError,
        )

        try:
            yield
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise DeployError(f"no credentials for S3 ({exc}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                              "(or AWS_PROFILE)") from None
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "")) or str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
            message = str(error.get("Message", "")) or str(exc)
            if code in ("NoSuchBucket", "404") and action == "list":
                raise DeployError(f"bucket {self.target.bucket} does not exist at {self._where()}") from None
            if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403"):
                raise DeployError(f"cannot {action} in {self.target}: access denied ({code}: {message}); "
                                  "check the credentials and the bucket's policy") from None
            raise DeployError(f"cannot {action} in {self.target}: {code}: {message}") from None
        except ConnectionError as exc:  # refused, reset, timed out, DNS: botocore's network errors
            raise DeployError(f"cannot reach {self._where()}: {_reason(exc)}") from None
        except ParamValidationError as exc:
            raise DeployError(f"cannot {action} in {self.target}: {_reason(exc)}") from None
        except BotoCoreError as exc:
            raise DeployError(f"cannot {action} in {self.target}: {_reason(exc)}") from None

    def _where(self) -> str:
        client = getattr(self, "_client", None)
        return str(client.meta.endpoint_url) if client is not None else "the S3 endpoint"


def _reason(exc: Exception) -> str:
    return " ".join(str(exc).split())
