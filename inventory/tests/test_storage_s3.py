"""Imports and exports on S3, against a real S3-compatible server at the network boundary:
moto's S3 server on a free 127.0.0.1 port, spoken to over HTTP by boto3 (django-storages)
and by urllib (the presigned URLs a browser follows).

moto does not check presigned URLs (it serves any ``X-Amz-Signature``, at any time), so the
server is fronted by ``PresignedUrlCheck``, which does what S3 does with them: recompute the
AWS Signature Version 4 from the secret key and refuse a wrong signature or an expired URL.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import boto3
import environ
import pytest
from django.conf import settings as django_settings
from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from config.storage import default_storage_config
from inventory.models import ExportJob
from inventory.tests.csvjobs import upload
from inventory.tests.factories import make_product
from tenants.tests.factories import client_for, make_member, make_tenant

BUCKET = "stockroom-test-files"
REGION = "eu-west-1"
ACCESS_KEY, SECRET_KEY = "AKIASTOCKROOMTEST", "stockroom-test-secret"  # moto's dummy credentials


# --- The S3 server: moto behind a presigned-URL check --------------------------------------


def _sign(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


class PresignedUrlCheck:
    """WSGI middleware: a request carrying ``X-Amz-Signature`` in its query (a presigned URL)
    passes only when the signature is the one SigV4 gives for this method, path, query and
    signed headers under ``SECRET_KEY``, and ``X-Amz-Date`` + ``X-Amz-Expires`` is not past.
    Requests signed in their Authorization header (boto3's) go straight to moto."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        params = dict(query)
        if "X-Amz-Signature" in params:
            refusal = self._refusal(environ, query, params)
            if refusal:
                body = f"<Error><Code>{refusal[0]}</Code><Message>{refusal[1]}</Message></Error>".encode()
                start_response("403 Forbidden", [("Content-Type", "application/xml")])
                return [body]
        return self.app(environ, start_response)

    def _refusal(self, environ: dict[str, Any], query: list[tuple[str, str]], params: dict[str, str]) -> Any:
        if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
            return "AuthorizationQueryParametersError", "Only AWS4-HMAC-SHA256 is supported."
        access_key, date, region, service, terminal = params["X-Amz-Credential"].split("/")
        if access_key != ACCESS_KEY:
            return "InvalidAccessKeyId", "The AWS access key id does not exist."
        path = environ.get("RAW_URI", environ.get("REQUEST_URI", "")).split("?", 1)[0]
        canonical_query = "&".join(
            f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query) if k != "X-Amz-Signature"
        )
        signed_headers = params["X-Amz-SignedHeaders"].split(";")
        headers = "".join(f"{h}:{environ['HTTP_' + h.upper().replace('-', '_')].strip()}\n" for h in signed_headers)
        canonical = "\n".join(
            [environ["REQUEST_METHOD"], path, canonical_query, headers, ";".join(signed_headers), "UNSIGNED-PAYLOAD"]
        )
        scope = f"{date}/{region}/{service}/{terminal}"
        to_sign = f"AWS4-HMAC-SHA256\n{params['X-Amz-Date']}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        key = _sign(_sign(_sign(_sign(f"AWS4{SECRET_KEY}".encode(), date), region), service), terminal)
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
            return "SignatureDoesNotMatch", "The request signature we calculated does not match the one provided."
        signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if datetime.now(UTC) > signed_at + timedelta(seconds=int(params["X-Amz-Expires"])):
            return "AccessDenied", "Request has expired"
        return None


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 (behind the presigned-URL check) on a free port. pytest-django runs the
    database tests apart from the others, so this may start twice: moto's state is the
    process's, and the bucket may be there already (``use_s3``)."""
    server: BaseWSGIServer = make_server(
        "127.0.0.1",
        0,
        PresignedUrlCheck(DomainDispatcherApplication(create_backend_app)),
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def _client(endpoint: str) -> Any:
    """boto3 looking at the bucket from outside the app (as an operator would)."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


def _s3_environment(endpoint: str, **extra: str) -> dict[str, str]:
    """The variables a deployment sets (and the credentials boto3's chain finds in a test)."""
    return {
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_REGION_NAME": REGION,
        "AWS_S3_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        # Nothing of the machine's own AWS set-up, if it has one.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        **extra,
    }


@pytest.fixture
def use_s3(s3_endpoint: str, settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Path]:
    """Switches this process's default storage to the bucket, through the settings' own
    function (config/storage.py) and environment variables; MEDIA_ROOT becomes an empty
    directory (returned) that nothing may be written to."""

    s3 = _client(s3_endpoint)
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})

    def switch(**extra: str) -> Path:
        for name, value in _s3_environment(s3_endpoint, **extra).items():
            monkeypatch.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_LOCATION", "AWS_S3_KMS_KEY_ID"):
            if name not in extra:
                monkeypatch.delenv(name, raising=False)
        settings.MEDIA_ROOT = str(tmp_path / "web-media")
        settings.STORAGES = {
            **settings.STORAGES,
            "default": default_storage_config(environ.Env(), spool_bytes=settings.FILE_UPLOAD_MAX_MEMORY_SIZE),
        }
        return Path(settings.MEDIA_ROOT)

    return switch


def _fetch(url: str) -> tuple[int, Message, bytes]:
    """GET ``url`` over HTTP as a browser would, without any credentials."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a URL of the local server
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def _files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def _export(client: Any, capture: Any, body: dict[str, Any]) -> dict[str, Any]:
    with capture(execute=True):
        response = client.post("/api/v1/exports/", body)
    assert response.status_code == 202, response.content
    job = client.get(f"/api/v1/exports/{response.json()['id']}/").json()
    assert job["status"] == "succeeded", job
    return job


# --- Settings: one choice, from the environment ------------------------------------------


def _production_storages(**variables: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import json, django\n"
        "django.setup()\n"
        "from django.conf import settings\n"
        "from django.core.files.storage import default_storage\n"
        "print(json.dumps({'storages': settings.STORAGES, 'class': default_storage.__class__.__name__,"
        " 'access_key': getattr(default_storage, 'access_key', '-')}))\n"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key not in {"MEDIA_ROOT", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="s" * 60,
        ALLOWED_HOSTS="stockroom.example.com",
        DATABASE_URL="postgres://app:secret@127.0.0.1:1/stockroom",
        EMAIL_URL="consolemail://",
        AWS_ACCESS_KEY_ID="AKIAFROMTHEENVIRONMENT",
        **variables,
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_stores_files_on_the_filesystem_without_a_bucket_and_on_s3_with_one():
    without = _production_storages()
    assert without.returncode == 0, without.stderr
    local = json.loads(without.stdout)
    assert local["class"] == "FileSystemStorage"
    assert local["storages"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"

    with_bucket = _production_storages(AWS_STORAGE_BUCKET_NAME="stockroom-files", AWS_S3_REGION_NAME=REGION)
    assert with_bucket.returncode == 0, with_bucket.stderr
    s3 = json.loads(with_bucket.stdout)
    assert s3["class"] == "S3Storage"
    assert s3["access_key"] is None  # never a key from settings: boto3's chain (the task role) decides
    options = s3["storages"]["default"]["OPTIONS"]
    assert options["bucket_name"] == "stockroom-files" and options["region_name"] == REGION
    assert options["endpoint_url"] is None and options["location"] == ""
    assert (options["querystring_auth"], options["querystring_expire"]) == (True, 300)
    assert (options["default_acl"], options["file_overwrite"], options["signature_version"]) == (None, False, "s3v4")
    assert options["object_parameters"] == {"ServerSideEncryption": "AES256"}
    assert s3["storages"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"

    kms = _production_storages(
        AWS_STORAGE_BUCKET_NAME="b", AWS_S3_KMS_KEY_ID="alias/stockroom", AWS_LOCATION="/staging/"
    )
    kms_options = json.loads(kms.stdout)["storages"]["default"]["OPTIONS"]
    assert kms_options["object_parameters"] == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/stockroom"}
    assert kms_options["location"] == "staging"

    refused = _production_storages(AWS_STORAGE_BUCKET_NAME="b", AWS_QUERYSTRING_EXPIRE="0")
    assert refused.returncode != 0 and "AWS_QUERYSTRING_EXPIRE must be from 1 to 604800" in refused.stderr


# --- Imports and exports through the API, on the bucket ------------------------------------


@pytest.mark.django_db
def test_an_import_uploaded_through_the_api_is_stored_in_the_bucket_under_the_tenant_and_processed(
    use_s3, s3_endpoint, client_a, tenant_a, django_capture_on_commit_callbacks
):
    local = use_s3()

    job = upload(client_a, django_capture_on_commit_callbacks, "sku,name\nS3-1,From the bucket\nS3-2,Also\n")

    assert job["status"] == "succeeded", job
    assert job["created_count"] == 2
    key = f"imports/{tenant_a.id}/{job['id']}.csv"
    s3 = _client(s3_endpoint)
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"imports/{tenant_a.id}/")
    assert [item["Key"] for item in listed.get("Contents", [])] == [key]
    stored = s3.get_object(Bucket=BUCKET, Key=key)
    assert stored["Body"].read() == b"sku,name\nS3-1,From the bucket\nS3-2,Also\n"
    assert stored["ServerSideEncryption"] == "AES256"
    assert _fetch(f"{s3_endpoint}/{BUCKET}/{key}")[0] == 403  # private: no anonymous read
    assert _files_under(local) == []


@pytest.mark.django_db
def test_an_export_download_redirects_to_a_presigned_url_that_serves_the_csv(
    use_s3, s3_endpoint, client_a, tenant_a, in_a, django_capture_on_commit_callbacks
):
    local = use_s3()
    make_product(sku="EXPORT-S3", name="On the bucket")
    job = _export(client_a, django_capture_on_commit_callbacks, {"kind": "products"})
    key = f"exports/{tenant_a.id}/{job['id']}.csv"
    [item] = _client(s3_endpoint).list_objects_v2(Bucket=BUCKET, Prefix=f"exports/{tenant_a.id}/")["Contents"]
    assert item["Key"] == key

    response = client_a.get(job["download_url"])

    assert response.status_code == 302
    url = response["Location"]
    assert url.startswith(f"{s3_endpoint}/{BUCKET}/{key}?")
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["X-Amz-Expires"] == "300" and query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    status, headers, body = _fetch(url)
    assert status == 200, body
    created = ExportJob.objects.get(pk=job["id"]).created_at
    assert headers["Content-Disposition"] == f'attachment; filename="products-{created:%Y%m%d-%H%M%S}.csv"'
    assert headers["Content-Type"] == "text/csv"
    assert body.decode().splitlines()[0].startswith("sku,name,description,category")
    assert "EXPORT-S3,On the bucket" in body.decode()
    assert _files_under(local) == []

    # The signature covers the key and every parameter: nothing of the URL can be changed.
    tampered = url.replace(f"X-Amz-Signature={query['X-Amz-Signature']}", "X-Amz-Signature=" + "0" * 64)
    assert _fetch(tampered)[0] == 403
    assert _fetch(url.replace(f"/{job['id']}.csv?", "/other.csv?"))[0] == 403
    assert _fetch(url.replace("filename%3D", "filename%3Dx"))[0] == 403
    assert _fetch(url.split("?")[0])[0] == 403  # the object itself is private


@pytest.mark.django_db
def test_a_presigned_download_url_stops_working_after_it_expires(
    use_s3, client_a, in_a, django_capture_on_commit_callbacks
):
    use_s3(AWS_QUERYSTRING_EXPIRE="3")
    make_product(sku="EXPIRES-1")
    job = _export(client_a, django_capture_on_commit_callbacks, {"kind": "products"})

    url = client_a.get(job["download_url"])["Location"]

    assert dict(parse_qsl(urlsplit(url).query))["X-Amz-Expires"] == "3"
    assert _fetch(url)[0] == 200
    time.sleep(4.1)
    status, _, body = _fetch(url)
    assert status == 403 and b"Request has expired" in body
    assert _fetch(client_a.get(job["download_url"])["Location"])[0] == 200  # a new request gets a new URL


@pytest.mark.django_db
def test_another_tenants_download_is_404_and_gives_no_url(
    use_s3, s3_endpoint, client_a, client_b, owner_b, in_a, django_capture_on_commit_callbacks
):
    from web.tests.helpers import console_client

    use_s3()
    make_product(sku="SECRET-1")
    job = _export(client_a, django_capture_on_commit_callbacks, {"kind": "products"})

    api = client_b.get(job["download_url"])
    console = console_client(owner_b).get(f"/app/{owner_b.tenant.slug}/exports/{job['id']}/download/")

    for response in (api, console):
        assert response.status_code == 404
        assert "Location" not in response
        assert s3_endpoint.encode() not in response.content and b"X-Amz-" not in response.content


@pytest.mark.django_db
def test_the_console_download_redirects_to_the_presigned_url_too_under_a_key_prefix(
    use_s3, s3_endpoint, owner_a, client_a, in_a, django_capture_on_commit_callbacks
):
    from web.tests.helpers import console_client

    use_s3(AWS_LOCATION="staging")
    make_product(sku="CONSOLE-S3")
    job = _export(client_a, django_capture_on_commit_callbacks, {"kind": "products"})

    response = console_client(owner_a).get(f"/app/{owner_a.tenant.slug}/exports/{job['id']}/download/")

    assert response.status_code == 302
    key = f"staging/exports/{owner_a.tenant_id}/{job['id']}.csv"
    assert response["Location"].startswith(f"{s3_endpoint}/{BUCKET}/{key}?")
    assert ExportJob.objects.get(pk=job["id"]).storage_key == f"exports/{owner_a.tenant_id}/{job['id']}.csv"
    status, headers, body = _fetch(response["Location"])
    assert status == 200 and headers["Content-Disposition"].startswith('attachment; filename="products-')
    assert b"CONSOLE-S3" in body


# --- Several instances: web uploads, a worker elsewhere reads, web serves the download ------


def _wait_for(client: Any, url: str, worker: subprocess.Popen[bytes], log: Path) -> dict[str, Any]:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        job = client.get(url).json()
        if job["status"] in {"succeeded", "failed"}:
            return job
        assert worker.poll() is None, log.read_text()
        time.sleep(0.2)
    raise AssertionError(f"{url} did not finish; worker log:\n{log.read_text()}")


def test_web_uploads_a_worker_without_its_disk_reads_and_web_serves_the_download(
    committed, use_s3, s3_endpoint, tmp_path
):
    """The worker is a real Celery worker in another process, with its own empty MEDIA_ROOT
    and the same bucket settings (from the environment, as in a container): only S3 can
    carry the files between it and this process (the web app)."""
    from config.celery import app

    web_media = use_s3()
    worker_media, log = tmp_path / "worker-media", tmp_path / "worker.log"
    worker_media.mkdir()
    tenant = make_tenant(slug="s3-flow")
    client = client_for(make_member(tenant, "owner"))
    env = {
        **os.environ,
        **_s3_environment(s3_endpoint),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "TEST_DATABASE_NAME": django_settings.TEST_DATABASE_NAME,
        "REDIS_URL": django_settings.REDIS_URL,
        "TEST_MEDIA_ROOT": str(worker_media),
    }
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--concurrency", "1",
             "--queues", "celery", "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"],
            cwd=django_settings.BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    app.conf.task_always_eager = False
    try:
        posted = client.post(
            "/api/v1/imports/",
            {"file": _named(b"sku,name\nFLOW-1,Carried by S3\n", "flow.csv")},
            format="multipart",
        )
        assert posted.status_code == 202, posted.content
        imported = _wait_for(client, f"/api/v1/imports/{posted.json()['id']}/", worker, log)
        assert imported["status"] == "succeeded", (imported, log.read_text())
        assert imported["created_count"] == 1

        started = client.post("/api/v1/exports/", {"kind": "products"})
        assert started.status_code == 202, started.content
        exported = _wait_for(client, f"/api/v1/exports/{started.json()['id']}/", worker, log)
        assert exported["status"] == "succeeded", (exported, log.read_text())

        download = client.get(exported["download_url"])
        assert download.status_code == 302
        status, headers, body = _fetch(download["Location"])
    finally:
        app.conf.task_always_eager = True
        worker.terminate()
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()

    assert status == 200 and headers["Content-Disposition"].startswith('attachment; filename="products-')
    assert "FLOW-1,Carried by S3" in body.decode()
    assert "run_import" in log.read_text() and "run_export" in log.read_text()  # the worker ran both
    assert _files_under(web_media) == [] and _files_under(worker_media) == []
    keys = [item["Key"] for item in _client(s3_endpoint).list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert f"imports/{tenant.id}/{imported['id']}.csv" in keys and f"exports/{tenant.id}/{exported['id']}.csv" in keys


def _named(content: bytes, name: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)
