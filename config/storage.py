"""Where files (imports, exports) are stored: the one choice every settings module shares.

``AWS_STORAGE_BUCKET_NAME`` set: an S3 bucket through django-storages, so the web app and
the workers need no shared disk. Objects are private (no ACL is sent: the bucket enforces
its owner), encrypted at rest (SSE-S3, or SSE-KMS with ``AWS_S3_KMS_KEY_ID``), never
overwritten, and downloads are presigned URLs that expire after ``AWS_QUERYSTRING_EXPIRE``
seconds. Credentials come from boto3's default chain only (the ECS task role in AWS; the
environment for a local S3-compatible server), never from a setting.

Unset: the local filesystem under ``MEDIA_ROOT``, in development and in production alike
(docker-compose shares a volume between the web and worker containers).

Plain Python, no Django: the base settings call it with their ``environ.Env``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

FILESYSTEM_BACKEND = "django.core.files.storage.FileSystemStorage"
S3_BACKEND = "storages.backends.s3.S3Storage"
# A presigned URL signed with SigV4 is valid for at most seven days (AWS's limit).
MAX_QUERYSTRING_EXPIRE = 7 * 24 * 3600


def default_storage_config(env: Any, *, spool_bytes: int) -> dict[str, Any]:
    """``STORAGES["default"]`` for the environment ``env`` reads. ``spool_bytes``: an S3 file
    opened for reading is kept in memory up to this size, on a temporary file beyond."""
    bucket = env.str("AWS_STORAGE_BUCKET_NAME", default="")
    if not bucket:
        return {"BACKEND": FILESYSTEM_BACKEND}
    expire = env.int("AWS_QUERYSTRING_EXPIRE", default=300)
    if not 1 <= expire <= MAX_QUERYSTRING_EXPIRE:
        raise ImproperlyConfigured(f"AWS_QUERYSTRING_EXPIRE must be from 1 to {MAX_QUERYSTRING_EXPIRE} seconds.")
    kms_key = env.str("AWS_S3_KMS_KEY_ID", default="")
    encryption = {"ServerSideEncryption": "AES256"}
    if kms_key:
        encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key}
    return {
        "BACKEND": S3_BACKEND,
        "OPTIONS": {
            "bucket_name": bucket,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            # A key prefix inside the bucket (e.g. one bucket for staging and production).
            "location": env.str("AWS_LOCATION", default="").strip("/"),
            # The task role, or whatever else boto3's default chain finds; never keys in settings.
            "access_key": None,
            "secret_key": None,
            "security_token": None,
            "session_profile": None,
            # No x-amz-acl header: the bucket is BucketOwnerEnforced (ACLs off), objects private.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": expire,
            "signature_version": "s3v4",
            # A name in use gets a suffix instead of replacing another job's file.
            "file_overwrite": False,
            "object_parameters": encryption,
            # 0 would keep a whole 100 MB import in memory while a worker reads it.
            "max_memory_size": spool_bytes,
        },
    }
