"""Category trees have a maximum depth and name length, in the API and in the CSV import."""

import pytest

from inventory.imports import parse
from inventory.models import CATEGORY_MAX_LEVELS, CATEGORY_NAME_MAX_LENGTH, Category, Product
from inventory.tests.csvjobs import upload

pytestmark = pytest.mark.django_db


def _chain(client, levels, parent=None, prefix="L"):
    made = []
    for n in range(levels):
        response = client.post("/api/v1/categories/", {"name": f"{prefix}{n}", "parent": parent})
        assert response.status_code == 201, response.json()
        parent = response.json()["id"]
        made.append(response.json())
    return made


def test_create_category_at_the_maximum_depth_works_and_one_deeper_is_refused(client_a, in_a):
    chain = _chain(client_a, CATEGORY_MAX_LEVELS)
    assert chain[-1]["depth"] == CATEGORY_MAX_LEVELS - 1

    response = client_a.post("/api/v1/categories/", {"name": "Too deep", "parent": chain[-1]["id"]})

    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["fields"]["parent"][0]["code"] == "category_too_deep"
    assert f"{CATEGORY_MAX_LEVELS} levels" in body["fields"]["parent"][0]["message"]
    assert Category.objects.count() == CATEGORY_MAX_LEVELS


def test_create_category_82_levels_deep_is_a_400_not_a_500(client_a, in_a):
    parent = None
    statuses = []
    for n in range(82):
        response = client_a.post("/api/v1/categories/", {"name": f"N{n}", "parent": parent})
        statuses.append(response.status_code)
        if response.status_code != 201:
            break
        parent = response.json()["id"]

    assert statuses == [201] * CATEGORY_MAX_LEVELS + [400]


def test_create_category_with_a_name_over_the_limit_is_refused(client_a, in_a):
    longest = client_a.post("/api/v1/categories/", {"name": "x" * CATEGORY_NAME_MAX_LENGTH})
    too_long = client_a.post("/api/v1/categories/", {"name": "y" * (CATEGORY_NAME_MAX_LENGTH + 1)})

    assert longest.status_code == 201
    assert too_long.status_code == 400 and too_long.json()["fields"]["name"][0]["code"] == "max_length"
    assert Category.objects.count() == 1


def test_move_category_that_would_make_its_subtree_too_deep_is_refused(client_a, in_a):
    trunk = _chain(client_a, CATEGORY_MAX_LEVELS - 2, prefix="T")  # depths 0..7
    subtree = _chain(client_a, 3, prefix="S")  # depths 0..2
    paths = dict(Category.objects.values_list("id", "path"))

    too_deep = client_a.patch(f"/api/v1/categories/{subtree[0]['id']}/", {"parent": trunk[-1]["id"]})

    assert too_deep.status_code == 400
    assert too_deep.json()["fields"]["parent"][0]["code"] == "category_too_deep"
    assert dict(Category.objects.values_list("id", "path")) == paths  # nothing moved
    fits = client_a.patch(f"/api/v1/categories/{subtree[0]['id']}/", {"parent": trunk[-2]["id"]})
    assert fits.status_code == 200, fits.json()
    assert Category.objects.get(pk=subtree[-1]["id"]).depth == CATEGORY_MAX_LEVELS - 1


def test_rename_category_in_a_tree_deeper_than_the_limit_still_works(client_a, in_a):
    """Trees made before the limit are not broken: only going deeper is refused."""
    chain = _chain(client_a, 2)
    Category.objects.filter(pk=chain[1]["id"]).update(depth=CATEGORY_MAX_LEVELS + 5)

    response = client_a.patch(f"/api/v1/categories/{chain[1]['id']}/", {"name": "Renamed"})

    assert response.status_code == 200, response.json()


def test_import_category_path_of_300_levels_is_a_row_error_and_leaves_nothing(
    client_a, in_a, wh, django_capture_on_commit_callbacks
):
    deep = " > ".join(f"C{n}" for n in range(300))
    content = f'sku,name,category\nOK-1,Fine,Tools > Saws\nDEEP-1,Deep,"{deep}"\n'

    job = upload(client_a, django_capture_on_commit_callbacks, content)

    assert job["status"] == "failed"
    assert job["errors"] == [
        {"row": 3, "column": "category", "message": f"Categories nest at most {CATEGORY_MAX_LEVELS} levels deep."}
    ]
    assert Category.objects.count() == 0 and Product.objects.count() == 0


def test_import_category_name_over_the_limit_is_a_row_error(client_a, in_a, wh, django_capture_on_commit_callbacks):
    content = f"sku,name,category\nLONG-1,Long,Tools > {'n' * (CATEGORY_NAME_MAX_LENGTH + 1)}\n"

    job = upload(client_a, django_capture_on_commit_callbacks, content, skip_invalid_rows="true")

    assert job["status"] == "succeeded" and job["error_count"] == 1
    assert job["errors"][0]["column"] == "category" and "longer than 120" in job["errors"][0]["message"]
    assert Category.objects.count() == 0 and Product.objects.count() == 0


def test_import_path_at_the_maximum_depth_is_imported(client_a, in_a, wh, django_capture_on_commit_callbacks):
    path = " > ".join(f"C{n}" for n in range(CATEGORY_MAX_LEVELS))

    job = upload(client_a, django_capture_on_commit_callbacks, f"sku,name,category\nOK-1,Fine,{path}\n")

    assert job["status"] == "succeeded", job
    assert Product.objects.get().category.depth == CATEGORY_MAX_LEVELS - 1


def test_failed_import_removes_the_categories_it_created(
    client_a, in_a, wh, django_capture_on_commit_callbacks, monkeypatch
):
    """The categories of the first batch are made before a later batch turns out invalid."""
    monkeypatch.setattr(parse, "BATCH", 2)
    kept = client_a.post("/api/v1/categories/", {"name": "Hardware"}).json()
    content = (
        "sku,name,category\n"
        "A-1,A,Hardware > Bolts > Small\n"
        "A-2,B,Garden > Hoses\n"
        "A-3,C,Tools\n"
        "A-4,,Tools\n"  # a new product without a name
    )

    job = upload(client_a, django_capture_on_commit_callbacks, content)

    assert job["status"] == "failed" and job["errors"][0]["row"] == 5
    assert [str(pk) for pk in Category.objects.values_list("id", flat=True)] == [kept["id"]]
    assert Product.objects.count() == 0
