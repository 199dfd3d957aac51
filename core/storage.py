"""The file storage's one question beyond Django's storage API: can the client download a
stored file from the storage itself? (config/storage.py chooses the storage.)

On S3, yes: a presigned URL that expires after ``AWS_QUERYSTRING_EXPIRE`` seconds, with
the response's Content-Disposition and Content-Type in its signed parameters, so the
browser saves the file under the name given. On the filesystem, no: the app streams it.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.utils.http import content_disposition_header
from storages.backends.s3 import S3Storage


def download_url(*, name: str, filename: str, content_type: str) -> str | None:
    """A URL off this host that serves the stored file ``name`` as an attachment called
    ``filename``, or None when the storage has none (the caller streams the file)."""
    if not isinstance(default_storage, S3Storage):
        return None
    disposition = content_disposition_header(as_attachment=True, filename=filename)
    url: str = default_storage.url(
        name, parameters={"ResponseContentDisposition": disposition, "ResponseContentType": content_type}
    )
    return url
