"""The floor (portal_dev/bench/bare.py): a page of the portal's shape, brought to its size, and
rendered the way a framework page is (autoescape on)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from portal_dev.bench import bare

PORTAL_LIKE = """<!doctype html><html><body><header><form method="post" action="/sign-out"></form>
</header><main><h1>Invoices</h1><form method="post" action="/pay-all"></form>
<table><thead><tr><th>Invoice</th></tr></thead><tbody>
<tr><td>1</td><td><form method="post" action="/invoices/1/pay"></form></td></tr>
<tr><td>2</td></tr><tr class="x"><td>3</td></tr></tbody></table></main>
<footer><form method="post" action="/language"></form></footer></body></html>"""


def test_the_shape_counts_body_rows_and_the_forms_of_the_main_content() -> None:
    shape = bare.shape_of(PORTAL_LIKE)
    assert (shape.rows, shape.forms) == (3, 2)
    assert shape.size == len(PORTAL_LIKE.encode())


def test_the_floor_page_has_the_portal_pages_rows_forms_and_size() -> None:
    shape = bare.PageShape(rows=11, forms=4, size=9_348)
    page = bare.matching(shape)
    html = bare.render(page)
    assert len(html.encode()) == shape.size
    found = bare.shape_of(html)
    assert found.rows == 11
    # the header's and the footer's forms are outside <main>, as in the portal
    assert found.forms == 4
    assert html.count('name="csrf_token"') == 4 + 2


def test_a_portal_page_smaller_than_the_bare_rows_gets_no_filler() -> None:
    page = bare.matching(bare.PageShape(rows=30, forms=30, size=100))
    assert page.filler == 0
    assert (page.rows, page.forms) == (30, 30)


def test_the_floor_app_serves_each_page_at_its_name_escaped() -> None:
    pages = {"overview": bare.FloorPage(rows=3, forms=1, filler=200)}
    with TestClient(bare.create_app(pages)) as client:
        answer = client.get("/overview")
        assert client.get("/").status_code == 200
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.text == bare.render(pages["overview"])
    assert "Bennett &amp; Hale" in answer.text


def test_the_pages_travel_to_the_floor_process_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    pages = {"invoice-page": bare.FloorPage(rows=5, forms=1, filler=1_205)}
    assert bare.decode_pages(bare.encode_pages(pages)) == pages
    monkeypatch.setenv(bare.PAGES_ENV, bare.encode_pages(pages))
    with TestClient(bare.create_app()) as client:
        assert client.get("/invoice-page").text == bare.render(pages["invoice-page"])
