"""The front page and the API docs in a real browser, offline."""
import pytest

from extensions import db
from tests.factories import VolunteerFactory

pytestmark = pytest.mark.browser


def test_index_shows_district_figures(page, live_server, tree):
    for i in range(3):
        VolunteerFactory(home_grid_id=tree.grid_a1.id, identity_flags=1 if i == 0 else 0)
    db.session.commit()
    page.goto(live_server + "/")
    assert page.locator("#district-name").inner_text() == "滨江区"
    assert page.locator("tr[data-level='2'] td").inner_text() == "2"
    assert page.locator("#volunteer-count td").inner_text() == "3"
    assert page.locator("#party-count").count() == 0  # staff only (issue #11)
    assert all(url.startswith(live_server) for url in page.requests_seen), page.requests_seen


def test_index_empty_state_tells_how_to_seed(page, live_server):
    page.goto(live_server + "/")
    assert "demo seed" in page.locator("#empty-state").inner_text()


def test_api_docs_render_without_internet(page, live_server):
    page.goto(live_server + "/")
    page.click("#docs-link")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15000)
    assert "Gridmuster" in page.locator(".swagger-ui .info .title").inner_text()
    page.wait_for_selector("#operations-tag-volunteers", timeout=15000)
    assert all(url.startswith(live_server) for url in page.requests_seen), page.requests_seen
