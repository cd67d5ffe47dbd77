"""Browser tests of the vendor admin's training and programme pages (#/admin/training/catalogue,
#/admin/training/connections with CSV imports, #/admin/programme) and the partner's course catalogue on #/training,
with no backend: the stub in tests/support/portal_stub.py answers as the training and tiers APIs do and records every
request (bodies, Idempotency-Key headers)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.browser import PARTNER_NAV, VENDOR_NAV
from tests.support.portal_stub import PARTNER_ID, Stub, error, me, ok, partner_api, raw

pytestmark = pytest.mark.browser

VIEWS = Path(__file__).resolve().parents[2] / "portal" / "js" / "views"
NEW_MODULES = [
    "admin-common.js",
    "training-catalogue-admin.js",
    "training-connections-admin.js",
    "training-imports-admin.js",
    "programme-admin.js",
]
CONNECTION = "lms_01jabcdefghjkmnpqrstvwxyz0"
IMPORT = "imp_01jabcdefghjkmnpqrstvwxyz0"
CERT = "cert_01jcne"


def iso_in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def day_in(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def course(course_id: str, title: str, lms: str, hours: float = 8, language: str = "en") -> dict[str, Any]:
    return {
        "course_id": course_id,
        "title": title,
        "lms_course_id": lms,
        "credit_hours": hours,
        "language": language,
        "created_at": iso_in(-30),
    }


COURSES = [
    course("crs_101", "Network Security Fundamentals", "NET-101"),
    course("crs_201", "Firewall Deployment", "NET-201", 12),
    course("crs_301", "Network Engineer Recertification", "NET-301", 4, "de"),
]
CERTIFICATION = {
    "certification_id": CERT,
    "name": "Certified Network Engineer",
    "required_course_ids": ["crs_101", "crs_201"],
    "validity_months": 24,
    "completion_window_months": 24,
    "renewal_course_id": "crs_301",
    "created_at": iso_in(-29),
}


@pytest.fixture
def stub(portal_url: str) -> Stub:
    api = partner_api()
    api[("GET", "/me")] = ok(me(roles=("vendor-admin",), partner_id=None))
    api[("GET", "/mdf/periods")] = ok({"items": []})
    api[("GET", "/mdf/partners")] = ok({"items": [], "next_cursor": None})
    api[("GET", "/training/courses")] = ok({"items": COURSES})
    api[("GET", "/training/certifications")] = ok({"items": [CERTIFICATION]})
    api[("GET", "/training/connections")] = ok({"items": [], "next_cursor": None})
    api[("GET", "/training/imports")] = ok({"items": [], "next_cursor": None})
    api[("GET", "/programme/partners")] = ok({"items": [], "next_cursor": None})
    return Stub(base=portal_url, api=api)


# ---------------------------------------------------------------------------------------------- the modules


def test_the_new_modules_never_insert_markup() -> None:
    """Data is only ever inserted as text (dom.js `h`), never parsed as HTML."""
    for name in [*NEW_MODULES, "training.js", "programme.js"]:
        source = (VIEWS / name).read_text()
        for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert forbidden not in source, f"{name} uses {forbidden}"


def test_the_new_modules_load_and_their_helpers_compute(page: Page, stub: Stub, portal_url: str) -> None:
    page.goto(f"{portal_url}#/admin/training/catalogue")
    expect(page.get_by_test_id("course-row")).to_have_count(3)
    result = page.evaluate(
        """async () => {
            const programme = await import('./js/views/programme-admin.js');
            const imports = await import('./js/views/training-imports-admin.js');
            const training = await import('./js/views/training.js');
            const catalogue = await import('./js/views/training-catalogue-admin.js');
            const connections = await import('./js/views/training-connections-admin.js');
            const v = (id, day, tiers = []) => ({ version_id: id, effective_from: day, tiers });
            const rows = programme.versionRows(
                [v('v1', '2026-01-01'), v('v2', '2026-06-01'), v('v3', '2027-01-01')],
                [{ version: v('v4', '2026-12-01'), reason: 'typo', withdrawn_at: '2026-11-01T00:00:00Z' }],
                '2026-12-06',
            );
            const file = (name, size) => ({ name, size });
            return {
                statuses: rows.map((r) => [r.version.version_id, r.status, r.replacedBy?.version_id ?? null]),
                lines: programme.criteriaLines({
                    won_revenue: [{ amount_minor: 1500000, currency: 'USD' }],
                    approved_deals: 1,
                    certifications: [{ certification_id: 'c1', label: 'certified engineer', people: 2 }],
                    manual: [{ criterion_id: 'plan', label: 'Signed business plan' }],
                }, (id) => (id === 'c1' ? 'CNE' : id)),
                manual: programme.manualCriteriaOf([
                    v('v1', '2026-01-01', [{ name: 'Gold', criteria: { manual: [{ criterion_id: 'old', label: 'Old' }] } }]),
                    v('v2', '2026-06-01', [{ name: 'Gold', criteria: { manual: [{ criterion_id: 'plan', label: 'Plan' }] } }]),
                    v('v3', '2027-01-01', [{ name: 'Gold', criteria: { manual: [{ criterion_id: 'audit', label: 'Audit' }] } }]),
                ], '2026-12-06').map((m) => [m.criterion_id, m.version]),
                files: [
                    imports.checkCsvFile(null),
                    imports.checkCsvFile(file('a.xlsx', 10)),
                    imports.checkCsvFile(file('a.csv', 0)),
                    imports.checkCsvFile(file('a.CSV', 10)),
                    imports.checkCsvFile(file('a.csv', 6 * 1024 * 1024)),
                ],
                latest: Object.fromEntries(Object.entries(training.latestByCourse([
                    { course_id: 'a', passed: true, completed_at: '2026-01-01' },
                    { course_id: 'a', passed: false, completed_at: '2026-02-01' },
                    { course_id: 'b', passed: false, completed_at: '2026-01-01' },
                    { course_id: 'b', passed: false, completed_at: '2026-03-01' },
                ])).map(([k, c]) => [k, c.completed_at])),
                uses: catalogue.courseUses({ course_id: 'x' }, [
                    { name: 'A', required_course_ids: ['x'] },
                    { name: 'B', required_course_ids: ['y'], renewal_course_id: 'x' },
                ]),
                activities: [
                    '',
                    'https://lms.example.com/a\\n\\n  https://lms.example.com/b  ',
                    'https://lms.example.com/a\\nnot an iri',
                    'https://lms.example.com/a\\nhttps://lms.example.com/a/',
                    'https://lms.example.com/taken/',
                    'urn:lms:net-101',
                    Array.from({ length: 11 }, (_, n) => `https://lms.example.com/${n}`).join('\\n'),
                ].map((text) => catalogue.activityIdsError(text, [
                    { lms_course_id: 'urn:lms:net-101', activity_ids: ['https://lms.example.com/taken'] },
                ])),
                activity_lines: catalogue.activityLines(' https://a.example/x \\r\\n\\nhttps://a.example/y'),
                states: [
                    { secrets: [{ created_at: '2026-01-01T00:00:00Z', retires_at: null }] },
                    { secrets: [{ retires_at: null }, { retires_at: '2999-01-01T00:00:00Z' }] },
                    { secrets: [{ retires_at: null }, { retires_at: '2000-01-01T00:00:00Z' }] },
                    { created_here: true, secrets: [] },
                    { rotated_at: '2026-01-01T00:00:00Z', created_here: true, secrets: [] },
                ].map((c) => connections.connectionState(c)[0]),
            };
        }"""
    )
    assert result["statuses"] == [
        ["v3", "announced", None],
        ["v4", "withdrawn", None],
        ["v2", "in_force", None],
        ["v1", "superseded", "v2"],
    ]
    assert result["lines"] == [
        "Won revenue of $15,000.00 in the trailing window",
        "1 approved deal registration in the trailing window",
        "2 people holding CNE (partners read: certified engineer)",
        "Signed business plan (confirmed by the channel team)",
    ]
    assert result["manual"] == [["plan", "v2"], ["audit", "v3"]]  # in force and announced, never superseded
    assert result["files"][0] == "Choose a CSV file."
    assert result["files"][1] == "Choose a .csv file."
    assert result["files"][2] == "This file is empty."
    assert result["files"][3] == ""
    assert result["files"][4].startswith("Files can be at most 5")
    assert result["latest"] == {"a": "2026-01-01", "b": "2026-03-01"}  # a pass wins over a later failed attempt
    assert result["uses"] == [{"name": "A", "renewal": False}, {"name": "B", "renewal": True}]
    assert result["activities"] == [
        "",
        "",
        "Line 2: enter an absolute IRI without spaces, e.g. https://lms.example.com/xapi/net-101.",
        "Line 2: this activity id is listed twice.",  # one trailing slash is the same activity
        "Line 1: another course already has this activity id.",
        "Line 1: another course already has this activity id.",  # another course's LMS course id, when an IRI
        "Enter at most 10 activity ids, one per line.",
    ]
    assert result["activity_lines"] == ["https://a.example/x", "https://a.example/y"]
    assert result["states"] == ["Active", "Previous secret retiring", "Active", "Created", "Secret rotated"]


def test_partner_users_do_not_get_the_admin_pages(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/me")] = ok(me())
    for route in ("/admin/training/catalogue", "/admin/training/connections", "/admin/programme"):
        page.goto(f"{portal_url}#{route}")
        expect(page.get_by_test_id("not-vendor-admin")).to_be_visible()
        expect(page.get_by_test_id("nav-programme-admin")).to_have_count(0)
    assert stub.requests("GET", "/programme/versions") == []


# ---------------------------------------------------------------------------------------------- the catalogue


def test_vendor_admin_adds_a_course_and_a_certification(page: Page, stub: Stub, portal_url: str) -> None:
    sdwan = "https://lms.example.com/xapi/sd-wan"
    new_course = course("crs_401", "SD-WAN Essentials", "NET-401", 1.5, "pt-BR") | {"activity_ids": [sdwan]}
    stub.api[("POST", "/training/courses")] = [
        error(
            409,
            "duplicate_course",
            "Another course already has this activity id.",
            [{"field": "activity_ids.1", "message": "already used by another course"}],
        ),
        error(
            409,
            "duplicate_course",
            "Another course already has this LMS course id.",
            [{"field": "lms_course_id", "message": "already used by another course"}],
        ),
        ok(new_course, 201),
    ]
    new_cert = {
        "certification_id": "cert_02",
        "name": "SD-WAN Specialist",
        "required_course_ids": ["crs_401"],
        "validity_months": 12,
        "completion_window_months": 6,
        "renewal_course_id": None,
        "created_at": iso_in(0),
    }
    stub.api[("POST", "/training/certifications")] = [
        error(
            400,
            "validation_error",
            "Some courses do not exist.",
            [{"field": "required_course_ids.0", "message": "no such course"}],
        ),
        ok(new_cert, 201),
    ]
    page.goto(f"{portal_url}#/admin/training/catalogue")
    expect(page.locator("#site-nav a")).to_have_text(VENDOR_NAV)
    expect(page.get_by_test_id("nav-training-catalogue")).to_have_attribute("aria-current", "page")
    rows = page.get_by_test_id("course-row")
    expect(rows.get_by_test_id("course-title")).to_have_text(
        ["Firewall Deployment", "Network Engineer Recertification", "Network Security Fundamentals"]
    )
    expect(rows.get_by_test_id("course-uses")).to_have_text(
        [
            "Counts toward Certified Network Engineer",
            "Renews Certified Network Engineer",
            "Counts toward Certified Network Engineer",
        ]
    )
    expect(rows.first.get_by_test_id("course-hours")).to_have_text("12 hours")
    expect(rows.first.get_by_test_id("course-added")).to_have_attribute("datetime", COURSES[1]["created_at"])
    cert = page.get_by_test_id("certification-row")
    expect(cert.get_by_test_id("cert-courses")).to_have_text("Network Security FundamentalsFirewall Deployment")
    expect(cert.get_by_test_id("cert-validity")).to_have_text("24 months")
    expect(cert.get_by_test_id("cert-renewal")).to_have_text("Network Engineer Recertification")

    # the course form validates as you type
    form = page.get_by_test_id("course-form")
    form.get_by_test_id("create-course").click()
    expect(form.locator("#course_title-error")).to_have_text("Enter the course title.")
    expect(form.locator("#course_lms_id-error")).to_have_text("Enter the LMS course id.")
    form.locator("#course_lms_id").fill("NET 401")
    expect(form.locator("#course_lms_id-error")).to_have_text("The LMS course id has no spaces.")
    form.locator("#course_lms_id").fill("NET-101")
    expect(form.locator("#course_lms_id-error")).to_have_text("Another course already has this LMS course id.")
    form.locator("#course_lms_id").fill("NET-401")
    expect(form.locator("#course_lms_id-error")).to_be_hidden()
    form.locator("#course_credit_hours").fill("1,5")
    expect(form.locator("#course_credit_hours-error")).to_have_text("Enter a number of hours such as 8 or 1.5.")
    form.locator("#course_credit_hours").fill("1.5")
    form.locator("#course_language").fill("Portuguese")
    expect(form.locator("#course_language-error")).to_have_text("Enter a language tag such as en, de or pt-BR.")
    form.locator("#course_language").fill("pt-BR")
    activities = form.locator("#course_activity_ids")
    activities.fill("not an iri")  # one activity id per line, checked as you type
    expect(form.locator("#course_activity_ids-error")).to_have_text(
        "Line 1: enter an absolute IRI without spaces, e.g. https://lms.example.com/xapi/net-101."
    )
    activities.fill(f"{sdwan}\n{sdwan}/")
    expect(form.locator("#course_activity_ids-error")).to_have_text("Line 2: this activity id is listed twice.")
    activities.fill(f"{sdwan}\n\nhttps://lms.example.com/xapi/sd-wan-lab")
    expect(form.locator("#course_activity_ids-error")).to_be_hidden()
    form.locator("#course_title").fill("SD-WAN Essentials")
    assert stub.requests("POST", "/training/courses") == []
    form.get_by_test_id("create-course").click()  # the server: another course has the second activity id
    expect(form.locator("#course_activity_ids-error")).to_have_text("Already used by another course")
    activities.fill(sdwan)
    expect(form.locator("#course_activity_ids-error")).to_be_hidden()
    form.get_by_test_id("create-course").click()  # the server: another course has this id (added meanwhile)
    expect(form.locator("#course_lms_id-error")).to_have_text("Already used by another course")
    form.get_by_test_id("create-course").click()
    expect(form.get_by_test_id("admin-result")).to_have_text("Added “SD-WAN Essentials” (NET-401).")
    sent = stub.requests("POST", "/training/courses")
    body = {"title": "SD-WAN Essentials", "lms_course_id": "NET-401", "credit_hours": 1.5, "language": "pt-BR"}
    assert [c.body for c in sent] == [
        body | {"activity_ids": [sdwan, "https://lms.example.com/xapi/sd-wan-lab"]},
        body | {"activity_ids": [sdwan]},
        body | {"activity_ids": [sdwan]},
    ]
    assert sent[1].headers["idempotency-key"] == sent[2].headers["idempotency-key"]  # the same fill: the same key
    assert sent[0].headers["idempotency-key"] != sent[1].headers["idempotency-key"]
    expect(rows).to_have_count(4)
    new_row = page.locator('[data-testid=course-row][data-course-id="crs_401"]')
    expect(new_row.get_by_test_id("course-activity-ids")).to_have_text(sdwan)
    expect(activities).to_have_value("")
    expect(new_row.get_by_test_id("course-uses")).to_have_text("Offered; not part of a certification yet")
    expect(form.locator("#course_title")).to_have_value("")

    # the certification form: the new course is a choice at once
    cert_form = page.get_by_test_id("certification-form")
    cert_form.get_by_test_id("create-certification").click()
    expect(cert_form.locator("#cert_name-error")).to_have_text("Enter the certification\u2019s name.")
    expect(cert_form.locator("#cert_courses-error")).to_have_text("Choose at least one required course.")
    cert_form.locator("#cert_name").fill("certified network engineer")
    expect(cert_form.locator("#cert_name-error")).to_have_text("Another certification has this name.")
    cert_form.locator("#cert_name").fill("SD-WAN Specialist")
    cert_form.get_by_label("SD-WAN Essentials (NET-401)").check()
    expect(cert_form.locator("#cert_courses-error")).to_be_hidden()
    cert_form.locator("#cert_validity").fill("121")
    expect(cert_form.locator("#cert_validity-error")).to_have_text("Enter at most 120.")
    cert_form.locator("#cert_validity").fill("12")
    cert_form.locator("#cert_window").fill("6")
    cert_form.get_by_test_id("create-certification").click()
    expect(cert_form.locator("#cert_courses-error")).to_have_text("No such course")  # required_course_ids.0
    cert_form.get_by_test_id("create-certification").click()
    expect(cert_form.get_by_test_id("admin-result")).to_have_text("Added the certification “SD-WAN Specialist”.")
    assert stub.requests("POST", "/training/certifications")[-1].body == {
        "name": "SD-WAN Specialist",
        "required_course_ids": ["crs_401"],
        "validity_months": 12,
        "completion_window_months": 6,
    }
    expect(page.get_by_test_id("certification-row")).to_have_count(2)
    expect(new_row.get_by_test_id("course-uses")).to_have_text("Counts toward SD-WAN Specialist")
    expect(page.locator("main")).not_to_contain_text(re.compile(r"\b(null|undefined|NaN)\b"))


def test_catalogue_text_is_never_markup_and_a_failure_offers_a_retry(page: Page, stub: Stub, portal_url: str) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    stub.api[("GET", "/training/courses")] = [
        error(503, "unavailable", "Down."),
        ok({"items": [course("crs_x", hostile, "X-1")]}),
    ]
    stub.api[("GET", "/training/certifications")] = ok({"items": []})
    page.goto(f"{portal_url}#/admin/training/catalogue")
    expect(page.get_by_test_id("error-panel")).to_contain_text("We could not load the training catalogue.")
    page.get_by_test_id("retry").click()
    expect(page.get_by_test_id("course-title")).to_have_text(hostile)
    expect(page.get_by_test_id("certifications-empty")).to_be_visible()
    expect(page.locator("main img")).to_have_count(0)


# ---------------------------------------------------------------------------------------------- connections


def test_a_new_connections_secret_is_shown_once_copied_and_rotated(page: Page, stub: Stub, portal_url: str) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=portal_url.rstrip("/"))
    created = iso_in(0)
    stub.api[("POST", "/training/connections")] = ok(
        {
            "connection_id": CONNECTION,
            "name": "Docebo production",
            "secret": "whsec_Zmlyc3Qtc2VjcmV0",
            "created_at": created,
        },
        201,
    )
    stub.api[("POST", f"/training/connections/{CONNECTION}/secrets")] = ok(
        {"connection_id": CONNECTION, "secret": "whsec_c2Vjb25kLXNlY3JldA==", "previous_valid_until": iso_in(1)}, 201
    )
    other = "lms_01jzzzzzzzzzzzzzzzzzzzzzzz"
    stub.api[("POST", f"/training/connections/{other}/secrets")] = error(404, "not_found", "No such connection.")
    page.goto(f"{portal_url}#/admin/training/connections")
    expect(page.get_by_test_id("nav-training-connections")).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("connections-empty")).to_have_text(
        "No LMS connection yet. Create one for each learning system or LRS that sends completions."
    )

    form = page.get_by_test_id("connection-form")
    form.get_by_test_id("create-connection").click()
    expect(form.locator("#connection_name-error")).to_have_text("Enter a name for the connection.")
    form.locator("#connection_name").fill("Docebo production")
    form.get_by_test_id("create-connection").click()
    panel = page.get_by_test_id("secret-panel")
    expect(panel).to_be_focused()
    expect(panel.get_by_test_id("connection-secret")).to_have_text("whsec_Zmlyc3Qtc2VjcmV0")
    expect(panel.get_by_test_id("connection-id")).to_have_text(CONNECTION)
    expect(panel.get_by_test_id("connection-webhook-url")).to_have_text(
        f"{portal_url}api/training/webhooks/{CONNECTION}"
    )
    expect(panel.get_by_test_id("connection-xapi-url")).to_have_text(f"{portal_url}api/xapi/statements")
    panel.get_by_test_id("copy-secret").click()
    expect(panel.get_by_test_id("copy-state")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == "whsec_Zmlyc3Qtc2VjcmV0"
    (sent,) = stub.requests("POST", "/training/connections")
    assert sent.body == {"name": "Docebo production"}
    assert sent.headers["idempotency-key"]
    row = page.locator(f'[data-testid=connection-row][data-connection-id="{CONNECTION}"]')
    expect(row.get_by_test_id("connection-status")).to_have_text("Created")
    expect(row.get_by_test_id("connection-date")).to_have_attribute("datetime", created)
    expect(form.locator("#connection_name")).to_have_value("")

    page.get_by_test_id("dismiss-secret").click()  # once stored, the secret leaves the page
    expect(page.get_by_test_id("secret-panel")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("whsec_")

    # rotate: from the list, the form is filled; the new secret is shown once, the old one kept for a while
    row.get_by_test_id("connection-rotate").click()
    rotate = page.get_by_test_id("rotate-form")
    expect(rotate.locator("#rotate_connection")).to_have_value(CONNECTION)
    expect(rotate.locator("#rotate_connection")).to_be_focused()
    rotate.get_by_test_id("rotate-secret").click()
    panel = page.get_by_test_id("secret-panel")
    expect(panel.get_by_test_id("connection-secret")).to_have_text("whsec_c2Vjb25kLXNlY3JldA==")
    expect(panel.get_by_test_id("previous-valid-until")).to_contain_text("Keeps working until")
    expect(row.get_by_test_id("connection-status")).to_have_text("Secret rotated")
    (rotation,) = stub.requests("POST", f"/training/connections/{CONNECTION}/secrets")
    assert rotation.body == {}
    assert rotation.headers["idempotency-key"] != sent.headers["idempotency-key"]

    rotate.locator("#rotate_connection").fill("lms_nope")
    expect(rotate.locator("#rotate_connection-error")).to_contain_text("lms_ followed by 26 letters and digits")
    rotate.locator("#rotate_connection").fill(other)
    rotate.get_by_test_id("rotate-secret").click()
    expect(rotate.locator("#rotate_connection-error")).to_have_text("No connection has this id.")
    # the failed rotation left the secret shown before untouched
    expect(page.get_by_test_id("connection-secret")).to_have_text("whsec_c2Vjb25kLXNlY3JldA==")


def listed_connection(connection_id: str, name: str, *secrets: tuple[float, float | None]) -> dict[str, Any]:
    return {
        "connection_id": connection_id,
        "name": name,
        "created_at": iso_in(secrets[-1][0]),
        "created_by": "channel@example.com",
        "secrets": [
            {"created_at": iso_in(made), "retires_at": None if ends is None else iso_in(ends)} for made, ends in secrets
        ],
    }


def test_existing_connections_are_listed_a_page_at_a_time_and_rotated_from_their_row(
    page: Page, stub: Stub, portal_url: str
) -> None:
    moodle = "lms_moodlemoodlemoodlemoodlemo"
    docebo = "lms_docebodocebodocebodocebodo"
    pages = {
        "": ok({"items": [listed_connection(moodle, "Moodle", (-1, None), (-40, 0.5))], "next_cursor": "page-2"}),
        "page-2": ok({"items": [listed_connection(docebo, "Docebo", (-90, None))], "next_cursor": None}),
    }
    stub.api[("GET", "/training/connections")] = lambda call: pages[call.query.get("cursor", "")]
    stub.api[("POST", f"/training/connections/{docebo}/secrets")] = ok(
        {"connection_id": docebo, "secret": "whsec_ZG9jZWJvLW5ldw==", "previous_valid_until": iso_in(1)}, 201
    )
    page.goto(f"{portal_url}#/admin/training/connections")
    rows = page.get_by_test_id("connection-row")
    expect(rows).to_have_count(1)
    expect(rows.get_by_test_id("connection-name")).to_have_text("Moodle")
    expect(rows.get_by_test_id("connection-status")).to_have_text("Previous secret retiring")
    expect(rows.get_by_test_id("connection-retires")).to_be_visible()
    expect(rows.get_by_test_id("connection-created-by")).to_have_text("by channel@example.com")
    page.get_by_test_id("connections-more").click()
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("connections-more")).to_have_count(0)
    first, second = stub.requests("GET", "/training/connections")
    assert first.query == {"limit": "50"} and second.query == {"limit": "50", "cursor": "page-2"}
    row = page.locator(f'[data-testid=connection-row][data-connection-id="{docebo}"]')
    expect(row.get_by_test_id("connection-status")).to_have_text("Active")
    expect(row.get_by_test_id("connection-rotate")).to_be_focused()  # the first row of the page just shown
    expect(page.locator("main")).not_to_contain_text("whsec_")  # the list never carries a secret

    row.get_by_test_id("connection-rotate").click()  # no id typed: the row fills the form
    rotate = page.get_by_test_id("rotate-form")
    expect(rotate.locator("#rotate_connection")).to_have_value(docebo)
    rotate.get_by_test_id("rotate-secret").click()
    expect(page.get_by_test_id("secret-panel").get_by_test_id("connection-secret")).to_have_text(
        "whsec_ZG9jZWJvLW5ldw=="
    )
    expect(row.get_by_test_id("connection-status")).to_have_text("Secret rotated")
    expect(row.get_by_test_id("connection-name")).to_have_text("Docebo")
    (rotation,) = stub.requests("POST", f"/training/connections/{docebo}/secrets")
    assert rotation.body == {}


def test_a_connection_list_that_fails_offers_a_retry(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/training/connections")] = [
        error(500, "internal_error", "Something failed."),
        ok({"items": [listed_connection(CONNECTION, "Moodle", (-1, None))], "next_cursor": None}),
    ]
    page.goto(f"{portal_url}#/admin/training/connections")
    panel = page.get_by_test_id("connections-slot").get_by_test_id("error-panel")
    expect(panel).to_contain_text("We could not load the connections.")
    panel.get_by_role("button").click()
    expect(page.get_by_test_id("connection-row")).to_have_count(1)
    expect(page.get_by_test_id("connection-form")).to_be_visible()  # creating never waited for the list


# ---------------------------------------------------------------------------------------------- CSV imports


def import_job(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "import_id": IMPORT,
        "file_name": "weekly.csv",
        "status": status,
        "created_at": iso_in(-0.01),
        "submitted_at": None if status == "awaiting_upload" else iso_in(0),
        "finished_at": iso_in(0) if status in ("completed", "failed") else None,
        "counts": {},
        "failure": None,
        "total_rows": None,
        "ignored_columns": [],
        "rows_processed": 0,
    } | extra


def test_a_csv_import_uploads_submits_and_shows_progress_and_the_report(
    page: Page, stub: Stub, portal_url: str
) -> None:
    bucket_url = portal_url.replace("127.0.0.1", "localhost") + "prm-test-training-imports"
    fields = {
        "key": f"imports/{IMPORT}.csv",
        "Content-Type": "text/csv",
        "policy": "eyJjb25kaXRpb25zIjpbXX0=",
        "x-amz-signature": "abc123",
    }
    stub.api[("POST", "/training/imports")] = ok(
        import_job("awaiting_upload")
        | {"upload": {"url": bucket_url, "fields": fields}, "max_bytes": 5_242_880, "expires_in": 600},
        201,
    )
    stub.external[("POST", bucket_url)] = raw(204)
    stub.api[("POST", f"/training/imports/{IMPORT}/submission")] = ok(import_job("queued"), 202)
    rows = [
        {"row": 2, "status": "accepted", "reason": None},
        {"row": 3, "status": "unknown_learner", "reason": "no partner user has this email address"},
        {"row": 4, "status": "invalid", "reason": "completed_at: is in the future"},
    ]
    counts = {"accepted": 1, "unknown_learner": 1, "invalid": 1}
    stub.api[("GET", f"/training/imports/{IMPORT}")] = [
        ok(import_job("processing", total_rows=3, rows_processed=1, counts={"accepted": 1}, rows=[], offset=0)),
        ok(
            import_job("completed", total_rows=3, rows_processed=3, counts=counts, ignored_columns=["learner_name"])
            | {"rows": rows, "offset": 0}
        ),
    ]
    page.goto(f"{portal_url}#/admin/training/connections")
    form = page.get_by_test_id("import-form")
    form.get_by_test_id("start-import").click()
    expect(form.locator("#import_file-error")).to_have_text("Choose a CSV file.")
    page.set_input_files(
        "#import_file", {"name": "weekly.xlsx", "mimeType": "application/octet-stream", "buffer": b"x"}
    )
    expect(form.locator("#import_file-error")).to_have_text("Choose a .csv file.")
    csv = b"learner_email,lms_course_id,result,completed_at,learner_name\nada@acme.example,NET-101,passed,2026-11-01,Ada\n"
    page.set_input_files("#import_file", {"name": "weekly.csv", "mimeType": "text/csv", "buffer": csv})
    expect(form.locator("#import_file-error")).to_be_hidden()
    form.get_by_test_id("start-import").click()

    card = page.get_by_test_id("import-card")
    expect(card).to_have_attribute("data-status", "processing")
    expect(card.get_by_test_id("import-progress-text")).to_have_text("1 of 3")
    expect(card.get_by_test_id("import-status")).to_have_text("Processing")
    expect(card).to_have_attribute("data-status", "completed", timeout=10_000)
    expect(card.get_by_test_id("import-status")).to_have_text("Completed")
    expect(card.get_by_test_id("import-progress-text")).to_have_text("3 of 3")
    expect(card.get_by_test_id("import-counts").locator("li")).to_have_text(
        ["Accepted: 1", "Unknown learner: 1", "Invalid: 1"]
    )
    expect(card.get_by_test_id("import-ignored")).to_have_text("learner_name")
    expect(card.get_by_test_id("import-next-step")).to_contain_text("unknown learners go to the review list")
    report = card.get_by_test_id("report-row")
    expect(report.get_by_test_id("report-status")).to_have_text(["Accepted", "Unknown learner", "Invalid"])
    expect(report.nth(2).get_by_test_id("report-reason")).to_have_text("completed_at: is in the future")
    expect(page).to_have_url(re.compile(rf"#/admin/training/connections\?import={IMPORT}$"))
    listed = page.locator(f'[data-testid=imports-row][data-import-id="{IMPORT}"]')  # the new import heads the list
    expect(listed).to_have_attribute("data-status", "completed")
    expect(listed.get_by_test_id("imports-row-rows")).to_have_text("3 of 3")

    (opened,) = stub.requests("POST", "/training/imports")
    assert opened.body == {"file_name": "weekly.csv"}
    (upload,) = stub.sent_to("POST", bucket_url)
    parts = upload.multipart()
    assert [p.name for p in parts] == [*fields, "file"]  # every presigned field first, the file last
    assert parts[-1].data == csv
    assert "authorization" not in upload.headers
    (submitted,) = stub.requests("POST", f"/training/imports/{IMPORT}/submission")
    assert submitted.headers["idempotency-key"]
    polls = stub.requests("GET", f"/training/imports/{IMPORT}")
    assert polls[0].query == {"offset": "0", "limit": "100"}

    # a reload follows the import in the hash again
    page.reload()
    expect(page.get_by_test_id("import-card")).to_have_attribute("data-status", "completed")
    expect(page.get_by_test_id("report-row")).to_have_count(3)


def test_recent_imports_are_listed_newest_first_and_one_opens(page: Page, stub: Stub, portal_url: str) -> None:
    older = "imp_01jolderolderolderolderold"
    recent = import_job("completed", total_rows=2, rows_processed=2, counts={"accepted": 2})
    old = import_job("failed", failure="The file is no longer there.") | {
        "import_id": older,
        "file_name": "october.csv",
        "created_at": iso_in(-30),
    }
    pages = {
        "": ok({"items": [recent], "next_cursor": "older"}),
        "older": ok({"items": [old], "next_cursor": None}),
    }
    stub.api[("GET", "/training/imports")] = lambda call: pages[call.query.get("cursor", "")]
    stub.api[("GET", f"/training/imports/{older}")] = ok(old | {"rows": [], "total_rows": None, "offset": 0})
    page.goto(f"{portal_url}#/admin/training/connections")
    rows = page.get_by_test_id("imports-row")
    expect(rows).to_have_count(1)
    expect(rows.get_by_test_id("imports-row-file")).to_have_text("weekly.csv")
    expect(rows.get_by_test_id("imports-row-status")).to_have_text("Completed")
    expect(rows.get_by_test_id("imports-row-rows")).to_have_text("2 of 2")
    page.get_by_test_id("imports-more").click()
    expect(rows.get_by_test_id("imports-row-file")).to_have_text(["weekly.csv", "october.csv"])
    first, second = stub.requests("GET", "/training/imports")
    assert first.query == {"limit": "10"} and second.query == {"limit": "10", "cursor": "older"}
    expect(page.get_by_test_id("import-card")).to_have_count(0)  # nothing opened until asked

    rows.nth(1).get_by_test_id("imports-open").click()
    card = page.get_by_test_id("import-card")
    expect(card).to_have_attribute("data-import-id", older)
    expect(card.get_by_test_id("import-failure")).to_have_text("The file is no longer there.")
    expect(page).to_have_url(re.compile(rf"#/admin/training/connections\?import={older}$"))
    (opened,) = stub.requests("GET", f"/training/imports/{older}")
    assert opened.query == {"offset": "0", "limit": "100"}


# ---------------------------------------------------------------------------------------------- programme


def tier(
    tier_id: str, name: str, criteria: dict[str, Any] | None = None, benefits: list[str] | None = None
) -> dict[str, Any]:
    blank = {"won_revenue": [], "approved_deals": 0, "certifications": [], "manual": []}
    return {"tier_id": tier_id, "name": name, "benefits": benefits or [], "criteria": blank | (criteria or {})}


def engineers(people: int) -> list[dict[str, Any]]:
    return [{"certification_id": CERT, "label": "certified engineer", "people": people}]


def version(version_id: str, effective_from: str, **changes: Any) -> dict[str, Any]:
    return {
        "version_id": version_id,
        "effective_from": effective_from,
        "upgrade_approval": "channel_team",
        "tiers": [
            tier("registered", "Registered", benefits=["Deal registration"]),
            tier(
                "silver",
                "Silver",
                {"won_revenue": [{"currency": "USD", "amount_minor": 500_000}], "certifications": engineers(1)},
            ),
            tier(
                "gold",
                "Gold",
                {
                    "won_revenue": [{"currency": "USD", "amount_minor": 1_500_000}],
                    "approved_deals": 1,
                    "certifications": engineers(2),
                    "manual": [{"criterion_id": "business_plan", "label": "Signed business plan"}],
                },
            ),
        ],
        "created_at": iso_in(-40),
        "created_by": "vendor@example.com",
    } | changes


def standing(company: str, plan_met: bool) -> dict[str, Any]:
    def criterion(
        kind: str, key: str, label: str, value: Any, threshold: Any, met: bool, missing: str | None
    ) -> dict[str, Any]:
        return {
            "kind": kind,
            "key": key,
            "label": label,
            "currency": None,
            "value": value,
            "threshold": threshold,
            "met": met,
            "missing": missing,
        }

    plan = criterion(
        "manual",
        "business_plan",
        "Signed business plan",
        plan_met,
        True,
        plan_met,
        None if plan_met else "Signed business plan (confirmed by the channel team) for Gold",
    )
    gold = [
        criterion("certification", CERT, "certified engineer", 1, 2, False, "1 more certified engineer for Gold"),
        plan,
    ]
    return {
        "partner_id": PARTNER_ID,
        "company_name": company,
        "tier": {"tier_id": "silver", "name": "Silver", "rank": 1, "since": iso_in(-10), "benefits": []},
        "criteria_version": "v1",
        "window_days": 365,
        "current": None,
        "next": {
            "tier": {"tier_id": "gold", "name": "Gold", "rank": 2},
            "benefits": [],
            "met": False,
            "criteria": gold,
            "missing": [c["missing"] for c in gold if c["missing"]],
        },
        "pending_upgrade": None,
        "grace_period": None,
        "history": [],
    }


def control(editor: Locator, name: str) -> Locator:
    """A tier editor's control (or its error) by name: its ids are `tier_<serial>_<name>`."""
    return editor.page.locator(f"#tier_{editor.get_attribute('data-serial')}_{name}")


def test_vendor_admin_sees_versions_creates_one_and_withdraws_an_announced_one(
    page: Page, stub: Stub, portal_url: str
) -> None:
    v1 = version("v1", day_in(-60))
    v2 = version("v2", day_in(30), upgrade_approval="automatic")
    v0 = version("v0", day_in(10))
    stub.api[("GET", "/programme/versions")] = ok(
        {
            "items": [v1, v2],
            "withdrawn": [
                {
                    "version": v0,
                    "reason": "A typo in Gold.",
                    "withdrawn_by": "x@example.com",
                    "withdrawn_at": iso_in(-2),
                }
            ],
        }
    )
    created = version("v3", day_in(90))
    stub.api[("POST", "/programme/versions")] = [
        error(
            400,
            "validation_error",
            "Each tier must demand at least what the tier below it demands.",
            [{"field": "tiers.2.criteria.certifications.0.people", "message": "must be at least the 3 of silver"}],
        ),
        ok(created, 201),
    ]
    stub.api[("POST", "/programme/versions/v2/withdrawal")] = ok(
        {"version": v2, "reason": "Replaced by v3.", "withdrawn_by": "ada@acme.example", "withdrawn_at": iso_in(0)}
    )
    page.goto(f"{portal_url}#/admin/programme")
    expect(page.get_by_test_id("nav-programme-admin")).to_have_attribute("aria-current", "page")
    rows = page.get_by_test_id("version-row")
    expect(rows).to_have_count(3)
    expect(rows.get_by_test_id("version-id")).to_have_text(["v2", "v0", "v1"])  # newest first
    expect(rows.get_by_test_id("version-status")).to_have_text(["Announced", "Withdrawn", "In force"])
    expect(rows.first.get_by_test_id("version-next-step")).to_contain_text("Withdraw it before then to correct it.")
    expect(rows.first.get_by_test_id("version-approval")).to_have_text("Automatic")
    expect(rows.nth(1).get_by_test_id("version-next-step")).to_contain_text("A typo in Gold.")
    expect(rows.nth(2).get_by_test_id("version-tier-names")).to_have_text("Registered → Silver → Gold")
    rows.nth(2).get_by_test_id("version-tier-names").click()
    gold = rows.nth(2).locator('[data-testid=version-tier][data-tier-id="gold"]')
    expect(gold.get_by_test_id("version-criterion")).to_have_text(
        [
            "Won revenue of $15,000.00 in the trailing window",
            "1 approved deal registration in the trailing window",
            "2 people holding Certified Network Engineer (partners read: certified engineer)",
            "Signed business plan (confirmed by the channel team)",
        ]
    )
    expect(rows.nth(2).get_by_test_id("withdraw-version")).to_have_count(0)  # in force: never withdrawn

    # a new version, from the newest one's tiers
    form = page.get_by_test_id("version-form")
    editors = form.get_by_test_id("tier-editor")
    expect(editors).to_have_count(3)
    expect(editors.first.locator("legend")).to_have_text("Tier 1 (entry tier)")
    expect(editors.first.get_by_test_id("tier-criteria")).to_be_hidden()
    gold_editor = editors.nth(2)
    expect(control(gold_editor, "name")).to_have_value("Gold")
    expect(control(gold_editor, "revenue")).to_have_value("15000.00")
    expect(control(gold_editor, "cert_people")).to_have_value("2")
    form.locator("#version_effective_from").fill(day_in(30))
    expect(form.locator("#version_effective_from-error")).to_contain_text("v2 already applies from this day")
    form.locator("#version_effective_from").fill(day_in(-1))
    expect(form.locator("#version_effective_from-error")).to_contain_text("today or a later date")
    form.locator("#version_effective_from").fill(day_in(90))
    expect(form.locator("#version_effective_from-error")).to_be_hidden()
    control(gold_editor, "deals").fill("two")
    expect(control(gold_editor, "deals-error")).to_contain_text("Enter a whole number")
    control(gold_editor, "deals").fill("2")
    # a fourth tier with no criteria is refused before anything is sent
    form.get_by_test_id("add-tier").click()
    platinum = editors.nth(3)
    expect(platinum.locator("legend")).to_have_text("Tier 4")
    expect(control(platinum, "id")).to_be_focused()
    control(platinum, "id").fill("Platinum")
    expect(control(platinum, "id-error")).to_contain_text("Use lower-case letters")
    control(platinum, "id").fill("gold")
    expect(control(platinum, "id-error")).to_have_text("Another tier has this id.")
    control(platinum, "id").fill("platinum")
    control(platinum, "name").fill("Platinum")
    form.get_by_test_id("create-version").click()
    expect(control(platinum, "criteria-error")).to_have_text(
        "A tier above the entry tier needs at least one criterion."
    )
    assert stub.requests("POST", "/programme/versions") == []
    control(platinum, "cert").select_option(CERT)
    # choosing a certification clears the tier's error and asks for what the criterion needs, as you go
    expect(control(platinum, "criteria-error")).to_be_hidden()
    expect(control(platinum, "cert_people-error")).to_have_text("Enter how many people must hold it.")
    expect(control(platinum, "cert_label-error")).to_contain_text("Enter the label partners read")
    control(platinum, "cert_people").fill("4")
    control(platinum, "cert_label").fill("certified engineer")
    control(platinum, "benefits").fill("30% product discount\n\nJoint business planning\n")
    form.get_by_test_id("create-version").click()
    # the server's error by its path lands on the third tier's field (tiers.2 is Gold)
    expect(control(gold_editor, "cert_people-error")).to_have_text("Must be at least the 3 of silver")
    form.get_by_test_id("create-version").click()
    expect(form.get_by_test_id("admin-result")).to_have_text(f"Created v3: it applies from {day_in(90)}.")
    sent = stub.requests("POST", "/programme/versions")
    assert sent[0].headers["idempotency-key"] == sent[1].headers["idempotency-key"]
    body = sent[-1].body
    assert body["effective_from"] == day_in(90)
    assert body["upgrade_approval"] == "automatic"  # copied from v2
    assert [t["tier_id"] for t in body["tiers"]] == ["registered", "silver", "gold", "platinum"]
    assert body["tiers"][0] == {
        "tier_id": "registered",
        "name": "Registered",
        "benefits": ["Deal registration"],
        "criteria": {},
    }
    assert body["tiers"][2]["criteria"] == {
        "won_revenue": [{"amount_minor": 1_500_000, "currency": "USD"}],
        "approved_deals": 2,
        "certifications": [{"certification_id": CERT, "label": "certified engineer", "people": 2}],
        "manual": [{"criterion_id": "business_plan", "label": "Signed business plan"}],
    }
    assert body["tiers"][3] == {
        "tier_id": "platinum",
        "name": "Platinum",
        "benefits": ["30% product discount", "Joint business planning"],
        "criteria": {
            "won_revenue": [],
            "approved_deals": 0,
            "certifications": [{"certification_id": CERT, "label": "certified engineer", "people": 4}],
            "manual": [],
        },
    }
    expect(rows).to_have_count(4)
    expect(rows.first.get_by_test_id("version-id")).to_have_text("v3")
    expect(rows.first.get_by_test_id("version-status")).to_have_text("Announced")

    # withdraw v2 (announced): a reason is required
    page.locator('[data-testid=version-row][data-version-id="v2"]').get_by_test_id("withdraw-version").click()
    withdraw = page.get_by_test_id("withdraw-form")
    expect(withdraw.locator("#withdraw_reason")).to_be_focused()
    withdraw.get_by_test_id("withdraw").click()
    expect(withdraw.locator("#withdraw_reason-error")).to_have_text("Say why the version is withdrawn.")
    withdraw.locator("#withdraw_reason").fill("Replaced by v3.")
    withdraw.get_by_test_id("withdraw").click()
    expect(withdraw.get_by_test_id("admin-result")).to_have_text("Withdrew v2: it will not apply.")
    assert stub.requests("POST", "/programme/versions/v2/withdrawal")[0].body == {"reason": "Replaced by v3."}
    v2_row = page.locator('[data-testid=version-row][data-version-id="v2"]')
    expect(v2_row).to_have_attribute("data-status", "withdrawn")
    expect(v2_row.get_by_test_id("version-next-step")).to_contain_text("Replaced by v3.")
    expect(page.locator("main")).not_to_contain_text(re.compile(r"\b(null|undefined|NaN)\b"))


def test_a_withdrawal_refused_because_the_version_took_effect_offers_a_reload(
    page: Page, stub: Stub, portal_url: str
) -> None:
    stub.api[("GET", "/programme/versions")] = ok(
        {"items": [version("v1", day_in(-60)), version("v2", day_in(1))], "withdrawn": []}
    )
    stub.api[("POST", "/programme/versions/v2/withdrawal")] = error(
        409, "version_in_force", "Version v2 is in force since today: what applied is never withdrawn."
    )
    page.goto(f"{portal_url}#/admin/programme")
    page.get_by_test_id("withdraw-version").click()
    page.fill("#withdraw_reason", "Too late?")
    page.get_by_test_id("withdraw").click()
    notice = page.get_by_test_id("withdraw-form").get_by_test_id("invalid-state")
    expect(notice).to_contain_text("is in force since today")
    expect(notice.get_by_role("button", name="Reload the versions")).to_be_visible()


def test_vendor_admin_sets_a_partners_manual_criterion(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/programme/versions")] = ok({"items": [version("v1", day_in(-60))], "withdrawn": []})
    stub.api[("GET", "/programme/partners")] = ok(
        {
            "items": [
                {
                    "partner_id": PARTNER_ID,
                    "company_name": "Northwind",
                    "tier": {"tier_id": "silver", "name": "Silver", "rank": 1},
                },
                {"partner_id": "prt_02", "company_name": "Contoso", "tier": None},
            ],
            "next_cursor": None,
        }
    )
    stub.api[("GET", f"/programme/partners/{PARTNER_ID}")] = ok(standing("Northwind", False))
    stub.api[("GET", "/programme/partners/prt_02")] = error(404, "not_found", "No such partner in the programme.")
    stub.api[("POST", f"/programme/partners/{PARTNER_ID}/manual-criteria/business_plan")] = ok(
        standing("Northwind", True)
    )
    page.goto(f"{portal_url}#/admin/programme")
    form = page.get_by_test_id("manual-form")
    expect(page.get_by_test_id("partner-standing-hint")).to_be_visible()
    form.get_by_test_id("set-manual").click()
    expect(form.locator("#manual_partner-error")).to_have_text("Choose a partner.")
    # the programme's own partner list (not MDF's), every page, sorted by company, each with its tier
    expect(form.locator("#manual_partner option")).to_have_text(["Choose a partner…", "Contoso", "Northwind (Silver)"])
    (listed,) = stub.requests("GET", "/programme/partners")
    assert listed.query == {"limit": "100"}
    assert stub.requests("GET", "/mdf/partners") == []
    form.locator("#manual_partner").select_option("prt_02")
    expect(page.get_by_test_id("partner-not-in-programme")).to_be_visible()
    form.locator("#manual_partner").select_option(PARTNER_ID)
    shown = page.get_by_test_id("partner-standing")
    expect(shown.get_by_role("heading", level=2).first).to_have_text("Standing of Northwind")
    expect(shown.get_by_test_id("programme-tier")).to_have_text("Silver")
    plan = shown.locator("[data-testid=criterion][data-kind=manual]")
    expect(plan.get_by_test_id("criterion-value")).to_have_text("Not confirmed yet")
    expect(page).to_have_url(re.compile(rf"#/admin/programme\?partner={PARTNER_ID}$"))
    expect(form.locator("#manual_criterion option")).to_have_text(["Signed business plan (Gold, v1)"])
    form.locator("#manual_note").fill("Signed plan filed in the CRM.")
    form.get_by_test_id("set-manual").click()
    expect(form.get_by_test_id("admin-result")).to_have_text("Signed business plan: met for Northwind.")
    expect(plan.get_by_test_id("criterion-value")).to_have_text("Confirmed by the channel team")
    (sent,) = stub.requests("POST", f"/programme/partners/{PARTNER_ID}/manual-criteria/business_plan")
    assert sent.body == {"met": True, "note": "Signed plan filed in the CRM."}
    assert sent.headers["idempotency-key"]
    expect(shown.get_by_test_id("next-missing")).to_contain_text("To reach Gold")
    expect(page.locator("main")).not_to_contain_text("Your organisation")  # vendor staff read the partner's name

    page.reload()  # the partner chosen is kept in the hash
    expect(page.get_by_test_id("partner-standing").get_by_test_id("programme-tier")).to_have_text("Silver")
    expect(page.locator("#manual_partner")).to_have_value(PARTNER_ID)


# ---------------------------------------------------------------------------------------------- the partner's catalogue


def test_partners_see_the_course_catalogue_with_their_own_completions(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/me")] = ok(me())
    passed_at = iso_in(-5)
    stub.api[("GET", "/training/me")] = ok(
        {
            "completions": [
                {
                    "completion_id": "c1",
                    "course_id": "crs_101",
                    "course_title": "Network Security Fundamentals",
                    "passed": True,
                    "score_scaled": 0.9,
                    "completed_at": passed_at,
                    "source": "webhook",
                },
                {
                    "completion_id": "c2",
                    "course_id": "crs_201",
                    "course_title": "Firewall Deployment",
                    "passed": False,
                    "score_scaled": 0.4,
                    "completed_at": iso_in(-1),
                    "source": "xapi",
                },
            ],
            "certifications": [],
        }
    )
    page.goto(f"{portal_url}#/training")
    expect(page.locator("#site-nav a")).to_have_text(PARTNER_NAV)
    catalogue = page.get_by_test_id("course-catalogue")
    expect(catalogue.get_by_role("heading", level=2)).to_have_text("Course catalogue")
    rows = catalogue.get_by_test_id("catalogue-row")
    expect(rows.get_by_test_id("catalogue-title")).to_have_text(
        ["Firewall Deployment", "Network Engineer Recertification", "Network Security Fundamentals"]
    )
    expect(rows.get_by_test_id("catalogue-hours")).to_have_text(["12 hours", "4 hours", "8 hours"])
    expect(rows.nth(1).get_by_test_id("catalogue-language")).to_contain_text("(de)")
    expect(rows.get_by_test_id("catalogue-certifications")).to_have_text(
        ["Certified Network Engineer", "Certified Network Engineer (renewal)", "Certified Network Engineer"]
    )
    expect(rows.get_by_test_id("catalogue-status")).to_have_text(["Not passed yet", "Not taken yet", "Passed"])
    expect(rows.nth(2).get_by_test_id("catalogue-completed-at")).to_have_attribute("datetime", passed_at)
    progress = catalogue.get_by_test_id("catalogue-certification")
    expect(progress.get_by_test_id("catalogue-certification-progress")).to_have_text(": 1 of 2 required courses passed")
    expect(progress.get_by_test_id("catalogue-next-course")).to_have_text(" · next: Firewall Deployment")
    expect(page.get_by_test_id("completion-row")).to_have_count(2)  # my courses, as before


def test_the_catalogue_fails_on_its_own(page: Page, stub: Stub, portal_url: str) -> None:
    stub.api[("GET", "/me")] = ok(me())
    stub.api[("GET", "/training/me")] = ok({"completions": [], "certifications": []})
    stub.api[("GET", "/training/courses")] = [error(503, "unavailable", "Down."), ok({"items": []})]
    page.goto(f"{portal_url}#/training")
    expect(page.get_by_test_id("my-completions-empty")).to_be_visible()
    catalogue = page.get_by_test_id("course-catalogue")
    expect(catalogue.get_by_test_id("error-panel")).to_contain_text("We could not load the course catalogue.")
    catalogue.get_by_test_id("retry").click()
    expect(catalogue.get_by_test_id("course-catalogue-empty")).to_have_text("The vendor offers no courses yet.")


def test_a_refused_submission_is_explained_and_a_retry_reuses_the_import(
    page: Page, stub: Stub, portal_url: str
) -> None:
    bucket_url = portal_url.replace("127.0.0.1", "localhost") + "prm-test-training-imports"
    stub.api[("POST", "/training/imports")] = ok(
        import_job("awaiting_upload") | {"upload": {"url": bucket_url, "fields": {"key": "k"}}, "max_bytes": 5_242_880},
        201,
    )
    stub.external[("POST", bucket_url)] = [raw(500, "<Error><Code>InternalError</Code></Error>"), raw(204)]
    stub.api[("POST", f"/training/imports/{IMPORT}/submission")] = [
        error(400, "validation_error", "The uploaded file is not a CSV file.", []),
        ok(import_job("queued"), 202),
    ]
    stub.api[("GET", f"/training/imports/{IMPORT}")] = ok(import_job("queued", total_rows=None) | {"rows": []})
    page.goto(f"{portal_url}#/admin/training/connections")
    page.set_input_files("#import_file", {"name": "weekly.csv", "mimeType": "text/csv", "buffer": b"a,b\n1,2\n"})
    alert = page.get_by_test_id("import-form").get_by_test_id("form-error")
    page.get_by_test_id("start-import").click()  # the storage fails
    expect(alert).to_contain_text("The storage refused the file (HTTP 500, InternalError)")
    page.get_by_test_id("start-import").click()  # uploaded, but the import refuses the file
    expect(alert).to_have_text("The uploaded file is not a CSV file.")
    expect(page.get_by_test_id("import-card")).to_have_count(0)
    page.get_by_test_id("start-import").click()
    card = page.get_by_test_id("import-card")
    expect(card).to_have_attribute("data-status", "queued")
    expect(card.get_by_test_id("import-progress-text")).to_have_text("Not read yet")
    opened = stub.requests("POST", "/training/imports")
    # a failed upload starts a new import (its link may have expired); a refused submission retries the same one
    keys = [c.headers["idempotency-key"] for c in opened]
    assert len(keys) == 3 and keys[0] != keys[1] and keys[1] == keys[2]
    assert len(stub.sent_to("POST", bucket_url)) == 3


def test_copying_a_version_says_which_criteria_the_form_cannot_hold(page: Page, stub: Stub, portal_url: str) -> None:
    wide = version("v1", day_in(-60))
    gold = wide["tiers"][2]["criteria"]
    gold["won_revenue"].append({"currency": "EUR", "amount_minor": 1_000_000})
    gold["manual"].append({"criterion_id": "audit", "label": "Annual audit"})
    stub.api[("GET", "/programme/versions")] = ok({"items": [wide], "withdrawn": []})
    page.goto(f"{portal_url}#/admin/programme")
    warning = page.get_by_test_id("prefill-warning")
    expect(warning).to_contain_text("v1 has more, so these were not copied")
    expect(warning).to_contain_text("Gold: won revenue of €10,000.00; Gold: Annual audit.")
    page.locator("#version_template").select_option("")
    page.get_by_test_id("prefill-version").click()  # blank tiers: nothing is left out
    expect(warning).to_be_hidden()
    expect(page.get_by_test_id("tier-editor")).to_have_count(2)
