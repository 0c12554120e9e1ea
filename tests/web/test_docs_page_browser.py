"""Does the API docs page render under the content security policy, with nothing blocked?"""
import pytest

pytestmark = pytest.mark.browser


def _console(page) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.on("pageerror", lambda error: messages.append(str(error)))
    return messages


def _csp_violations(messages: list[str]) -> list[str]:
    return [text for text in messages if "Content Security Policy" in text or "Refused to" in text]


def test_docs_page_renders_operations_under_csp(page, live_server):
    messages = _console(page)
    response = page.goto(live_server + "/api/v1/docs")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "'unsafe-inline'" not in policy
    page.wait_for_selector("#operations-tag-campaigns", timeout=15000)
    assert "Gridmuster" in page.locator(".swagger-ui .info .title").inner_text()
    operation = page.locator("#operations-campaigns-get_api_v1_campaigns")
    assert operation.locator(".opblock-summary-path").get_attribute("data-path") == "/api/v1/campaigns"
    # Opening an operation renders parameters and highlighted examples: the parts that style themselves.
    operation.locator(".opblock-summary-control").click()
    page.wait_for_selector("#operations-campaigns-get_api_v1_campaigns .opblock-body .parameters", timeout=15000)
    page.click(".auth-wrapper .authorize")
    page.wait_for_selector(".modal-ux", timeout=15000)
    assert _csp_violations(messages) == [], messages
    assert all(url.startswith(live_server) for url in page.requests_seen), page.requests_seen


def test_docs_page_stylesheet_is_in_force(page, live_server):
    """A blocked stylesheet would leave the browser's defaults: the method badge would not be green."""
    messages = _console(page)
    page.goto(live_server + "/api/v1/docs")
    page.wait_for_selector(".opblock-get .opblock-summary-method", timeout=15000)
    colour = page.eval_on_selector(".opblock-get .opblock-summary-method",
                                   "node => getComputedStyle(node).backgroundColor")
    assert colour == "rgb(97, 175, 254)"
    assert _csp_violations(messages) == [], messages
