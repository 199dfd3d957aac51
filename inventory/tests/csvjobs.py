"""Running CSV imports and exports through the API, with Celery eager on commit."""

from django.core.files.uploadedfile import SimpleUploadedFile


def upload(client, capture, content, name="products.csv", **fields):
    """POSTs a file to /imports/, runs the job on commit, and returns the job as the API shows it."""
    data = {"file": SimpleUploadedFile(name, content.encode() if isinstance(content, str) else content), **fields}
    with capture(execute=True):
        response = client.post("/api/v1/imports/", data, format="multipart")
    assert response.status_code == 202, response.content
    return client.get(f"/api/v1/imports/{response.json()['id']}/").json()


def export(client, capture, body):
    """POSTs an export, runs it on commit, and returns the job and the downloaded CSV text."""
    with capture(execute=True):
        response = client.post("/api/v1/exports/", body)
    assert response.status_code == 202, response.content
    job = client.get(f"/api/v1/exports/{response.json()['id']}/").json()
    assert job["status"] == "succeeded", job
    download = client.get(job["download_url"])
    assert download.status_code == 200 and download["Content-Type"] == "text/csv"
    return job, b"".join(download.streaming_content).decode()
