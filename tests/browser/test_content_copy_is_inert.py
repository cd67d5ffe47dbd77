"""A co-branded copy and a sanitised logo in a real browser (Chromium, no stack): script-injection attempts in every
brand field and in the vendor's own markup, rendered by content.domain.render, run nothing; a hostile SVG logo,
sanitised by content.domain.logo and opened on its own, runs nothing either. The unit tests check the markup; this
checks what a browser does with it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route

from content.domain.logo import SVG, CheckedLogo, check_logo
from content.domain.render import LogoImage, PartnerValues, render_html

pytestmark = [pytest.mark.browser]

PAYLOADS = [
    "<script>window.__pwned='script'</script>",
    '"><img src=x onerror="window.__pwned=\'img\'">',
    "' onmouseover='window.__pwned=1' autofocus onfocus='window.__pwned=\"focus\"' x='",
    "javascript:window.__pwned='href'",
    "<svg onload=\"window.__pwned='svg'\">",
    "</title><script>window.__pwned='title'</script>",
    "</style><script>window.__pwned='style'</script>",
    "<iframe srcdoc=\"<script>parent.__pwned='frame'</script>\"></iframe>",
]
HOSTILE_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="alert(1)">'
    b"<script>window.__pwned='svg-script'; alert(2)</script>"
    b"<foreignObject><body xmlns='http://www.w3.org/1999/xhtml'><img src='x' onerror='alert(3)'/></body>"
    b"</foreignObject><a xlink:href='javascript:alert(4)'><rect id='r' width='10' height='10'/></a>"
    b"<animate xlink:href='#r' attributeName='onclick' to='alert(5)'/>"
    b"<set attributeName='onmouseover' to='alert(6)'/></svg>"
)
TEMPLATE = (
    "<!DOCTYPE html><html><head><title>{{partner.name}}</title>"
    "<style>h1 { color: #036 }</style></head><body onload=\"window.__pwned='vendor-onload'\">"
    "<div>{{partner.logo}}</div><h1 title='{{partner.name}}'>{{partner.name}}</h1>"
    "<a id=site href='{{partner.website}}'>site</a> <a id=name href='{{partner.name}}'>name</a>"
    "<a id=mail href='mailto:{{partner.contact_email}}'>{{partner.contact_name}}</a>"
    "<p style='color: {{partner.phone}}'>{{partner.phone}}</p><address>{{partner.address}}</address>"
    "<img src=x onerror=\"window.__pwned='vendor-img'\"><script>window.__pwned='vendor-script'</script>"
    "<a id=vendor href='javascript:window.__pwned=\"vendor-href\"'>v</a></body></html>"
)


@pytest.fixture
def blank(chromium: Browser) -> Iterator[Page]:
    page = chromium.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs  # type: ignore[attr-defined]
    page.route("**/*", lambda route: route.abort())  # nothing may load from anywhere
    yield page
    page.close()


def assert_nothing_ran(page: Page) -> None:
    for selector in ("a#site", "a#name", "a#mail", "a#vendor", "h1", "p"):
        if page.locator(selector).count():
            page.locator(selector).first.hover()
            page.locator(selector).first.click(no_wait_after=True, force=True)
    page.wait_for_timeout(200)
    assert page.evaluate("window.__pwned") is None
    assert page.dialogs == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_copy_with_injections_in_every_field_runs_nothing(blank: Page, payload: str) -> None:
    logo = check_logo(HOSTILE_SVG, SVG)
    assert isinstance(logo, CheckedLogo)
    values = PartnerValues(
        name=payload,
        website=payload,
        contact_name=payload,
        contact_email=payload,
        phone=payload,
        address=(payload, payload),
        logo=LogoImage(logo.content_type, logo.data),
    )
    blank.set_content(render_html(TEMPLATE, values))
    assert blank.locator("h1").inner_text() == payload  # shown as text, not dropped
    assert blank.locator("img.partner-logo").count() == 1
    assert_nothing_ran(blank)


def test_a_sanitised_svg_opened_on_its_own_runs_nothing(blank: Page) -> None:
    logo = check_logo(HOSTILE_SVG, SVG)
    assert isinstance(logo, CheckedLogo)

    def serve(route: Route) -> None:
        route.fulfill(status=200, body=logo.data, content_type="image/svg+xml")

    blank.unroute("**/*")
    blank.route("http://logo.test/**", serve)
    blank.goto("http://logo.test/logo.svg")
    blank.locator("rect").first.click(force=True)
    blank.locator("rect").first.hover()
    blank.wait_for_timeout(200)
    assert blank.evaluate("window.__pwned") is None
    assert blank.dialogs == []  # type: ignore[attr-defined]
