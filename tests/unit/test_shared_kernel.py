"""Shared kernel without AWS: domains, links, ids, settings, event envelope."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import Field, ValidationError

from shared.clock import iso
from shared.domains import registrable_domain
from shared.ids import new_id
from shared.links import LinkClaim, LinkRejected, Purpose, link_query, sign, verify
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("https://WWW.Sales.Acme.co.uk/x", "acme.co.uk"),
        ("acme.com", "acme.com"),
        ("ACME.COM.", "acme.com"),
        ("http://user:pw@eu.shop.acme.com:8443/path?q=1#top", "acme.com"),
        ("www.acme.com.au", "acme.com.au"),
        ("example.github.io", "github.io"),  # ICANN suffixes only: private suffixes are not registrable boundaries
    ],
)
def test_registrable_domain(address: str, expected: str) -> None:
    assert registrable_domain(address) == expected


@pytest.mark.parametrize("address", ["localhost", "co.uk", "1.2.3.4", "-bad-.com", "a..b.com", "", "https://"])
def test_registrable_domain_refuses_non_domains(address: str) -> None:
    with pytest.raises(ValueError):
        registrable_domain(address)


KEY = b"k" * 64
CLAIM = LinkClaim("onboarding-app_1", "approve", "approver@example.com", 2_000_000_000, purpose=Purpose.APPROVAL)


def test_link_signature_round_trip_and_tampering() -> None:
    signature = sign(KEY, CLAIM)
    verify(KEY, CLAIM, signature, now=1_900_000_000)
    tampered = [
        LinkClaim("onboarding-app_2", "approve", CLAIM.approver, CLAIM.expires, purpose=CLAIM.purpose),
        LinkClaim(CLAIM.approval_id, "reject", CLAIM.approver, CLAIM.expires, purpose=CLAIM.purpose),
        LinkClaim(CLAIM.approval_id, "approve", "mallory@example.com", CLAIM.expires, purpose=CLAIM.purpose),
        LinkClaim(CLAIM.approval_id, "approve", CLAIM.approver, CLAIM.expires + 1, purpose=CLAIM.purpose),
        LinkClaim(CLAIM.approval_id, "approve", CLAIM.approver, CLAIM.expires, purpose=Purpose.PROOF_DOWNLOAD),
    ]
    for claim in tampered:
        with pytest.raises(LinkRejected) as refused:
            verify(KEY, claim, signature, now=1_900_000_000)
        assert refused.value.reason == "invalid"
    with pytest.raises(LinkRejected):
        verify(b"other-key" * 8, CLAIM, signature, now=1_900_000_000)
    with pytest.raises(LinkRejected) as expired:
        verify(KEY, CLAIM, signature, now=CLAIM.expires)
    assert expired.value.reason == "expired"


def test_link_query_carries_no_task_token() -> None:
    query = link_query(KEY, CLAIM)
    assert set(part.split("=")[0] for part in query.split("&")) == {"decision", "approver", "expires", "signature"}


def test_ids_are_prefixed_unique_and_time_ordered() -> None:
    ids = [new_id("app") for _ in range(200)]
    assert len(set(ids)) == 200
    assert all(i.startswith("app_") and len(i) == 30 for i in ids)


class ExampleSettings(Settings):
    table_name: str = Field(min_length=3)
    reminder_seconds: int = Field(ge=1)


def test_settings_validate_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "prm-test")
    monkeypatch.setenv("REMINDER_SECONDS", "30")
    assert ExampleSettings.from_env() == ExampleSettings(table_name="prm-test", reminder_seconds=30)
    monkeypatch.delenv("REMINDER_SECONDS")
    with pytest.raises(ValidationError, match="reminder_seconds"):
        ExampleSettings.from_env()
    monkeypatch.setenv("REMINDER_SECONDS", "soon")
    with pytest.raises(ValidationError):
        ExampleSettings.from_env()


def test_iso_is_utc_with_z() -> None:
    assert iso(datetime(2026, 11, 26, 16, 0, tzinfo=UTC)) == "2026-11-26T16:00:00.000Z"


def test_link_page_forms_are_bounded_and_unreadable_ones_refused() -> None:
    from shared.http import FormRefused, read_form

    assert read_form(b"decision=approve&note=ok&note=twice", max_bytes=64, max_fields=5) == {
        "decision": "approve",
        "note": "ok",
    }
    for raw, status in [(b"x=" + b"a" * 64, 413), (b"x=\xff\xfe", 400), (b"a=1&b=2&c=3", 400)]:
        with pytest.raises(FormRefused) as refused:
            read_form(raw, max_bytes=64, max_fields=2)
        assert refused.value.status == status


def test_domain_errors_carry_no_http_status_and_the_edge_maps_each_kind() -> None:
    from shared.errors import Conflict, DomainError, Forbidden, IdempotencyKeyReused, NotFound, ValidationFailed
    from shared.http import status_of
    from shared.identity import IdentityRevoked, IdentityUnavailable

    class Specific(Conflict):
        pass

    cases = [
        (ValidationFailed("bad"), 400),
        (IdentityRevoked("gone"), 401),
        (Forbidden(), 403),
        (NotFound(), 404),
        (Specific("taken"), 409),
        (IdempotencyKeyReused(), 422),
        (IdentityUnavailable(), 503),
        (DomainError("other"), 400),
    ]
    assert [status_of(error) for error, _ in cases] == [status for _, status in cases]
    assert not any(hasattr(error, "status") for error, _ in cases)


def test_retries_back_off_with_jitter_up_to_a_cap() -> None:
    from shared.retry import attempts

    slept: list[float] = []
    tried = list(attempts(5, base=0.1, cap=0.3, sleep=slept.append, rng=lambda: 1.0))
    assert tried == [0, 1, 2, 3, 4]
    assert slept == [0.2, 0.3, 0.3, 0.3]  # none before the first attempt; doubling, capped
    assert list(attempts(3, sleep=slept.append, rng=lambda: 0.0)) == [0, 1, 2]


def test_country_codes_are_upper_cased_and_must_be_assigned() -> None:
    from pydantic import TypeAdapter, ValidationError

    from shared.countries import CountryCode

    adapter = TypeAdapter(CountryCode)
    assert adapter.validate_python("de") == "DE"
    for bad in ("XX", "D", "DEU"):
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)


def test_a_settings_error_names_the_environment_variables_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "prm-test")
    monkeypatch.delenv("REMINDER_SECONDS", raising=False)
    with pytest.raises(ValidationError, match=r"ExampleSettings \(environment variables REMINDER_SECONDS\)"):
        ExampleSettings.from_env()
    monkeypatch.setenv("TABLE_NAME", "x")
    monkeypatch.setenv("REMINDER_SECONDS", "0")
    with pytest.raises(ValidationError, match=r"environment variables TABLE_NAME, REMINDER_SECONDS\)") as refused:
        ExampleSettings.from_env()
    assert [e["loc"] for e in refused.value.errors()] == [("table_name",), ("reminder_seconds",)]


def test_settings_read_json_and_comma_separated_variables_and_share_field_groups(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typing import Annotated

    from shared.settings import ApprovalTimings, FromJson, PartnerMail, SecondsList

    class Consumer(PartnerMail, ApprovalTimings):
        limits: Annotated[dict[str, Annotated[int, Field(ge=0)]], FromJson]
        offsets: SecondsList

    env = {
        "MAIL_FROM": "No-Reply@PRM.example.com",
        "PORTAL_URL": "https://partners.example.com",
        "REMINDER_SECONDS": "60",
        "ESCALATION_SECONDS": "120",
        "EXPIRY_SECONDS": "180",
        "LIMITS": '{"EUR": 100000}',
        "OFFSETS": "864000, 259200,",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Consumer.from_env()
    assert settings.mail_from == "no-reply@prm.example.com" and str(settings.portal_url).startswith("https://partners.")
    assert (settings.reminder_seconds, settings.escalation_seconds, settings.expiry_seconds) == (60, 120, 180)
    assert settings.limits == {"EUR": 100000} and settings.offsets == [864000, 259200]
    for name, bad in [("LIMITS", "{EUR: 1}"), ("LIMITS", '{"EUR": -1}'), ("OFFSETS", "60,0"), ("OFFSETS", "soon")]:
        monkeypatch.setenv(name, bad)
        with pytest.raises(ValidationError, match=name):
            Consumer.from_env()
        monkeypatch.setenv(name, env[name])


def _import_notices(programme: str | None) -> subprocess.CompletedProcess[str]:
    """shared.notices imported as a function's cold start imports it, with PROGRAMME_NAME set to `programme`."""
    env = {k: v for k, v in os.environ.items() if k != "PROGRAMME_NAME"}
    if programme is not None:
        env["PROGRAMME_NAME"] = programme
    code = "from shared.notices import notice; print(notice('a@example.com', 'S', ['Hi'], 'https://p', 'Open').html)"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )


def test_notices_are_signed_with_the_configured_programme_and_start_without_it_fails() -> None:
    signed = _import_notices("Globex Partner Alliance")
    assert signed.returncode == 0, signed.stderr
    assert "<p>— Globex Partner Alliance</p>" in signed.stdout and "Example Vendor" not in signed.stdout
    for refused in (None, "", "<b>Globex</b>", "Globex\nBcc: x"):
        failed = _import_notices(refused)
        assert failed.returncode != 0 and "PROGRAMME_NAME" in failed.stderr, refused


def test_links_emailed_before_purposes_were_signed_still_work_but_never_for_another_purpose() -> None:
    import hashlib
    import hmac

    def old(subject: str, decision: str, holder: str, expires: int) -> str:  # release 0.1's signed message
        message = "\n".join([subject, decision, holder.lower(), str(expires)]).encode()
        return hmac.new(KEY, message, hashlib.sha256).hexdigest()

    expires = 2_000_000_000
    approval = LinkClaim("deal-d_1", "approve", "cm@example.com", expires, purpose=Purpose.APPROVAL)
    proof = LinkClaim("r_1:f_1", "download", "cm@example.com", expires, purpose=Purpose.PROOF_DOWNLOAD)
    confirm = LinkClaim("app_1", "confirm", "ada@example.com", expires, purpose=Purpose.APPLICATION_CONFIRMATION)
    verify(KEY, approval, old("deal-d_1", "approve", "cm@example.com", expires), now=1)
    verify(KEY, proof, old("proof:r_1:f_1", "download", "cm@example.com", expires), now=1)
    verify(KEY, confirm, old("application-confirmation:app_1", "confirm", "ada@example.com", expires), now=1)
    # an old approval signature over "proof:r_1:f_1"-like subjects cannot be turned into a proof download
    crafted = LinkClaim("proof:r_1:f_1", "download", "cm@example.com", expires, purpose=Purpose.APPROVAL)
    with pytest.raises(LinkRejected):
        verify(KEY, proof, sign(KEY, crafted), now=1)
    with pytest.raises(LinkRejected):
        verify(KEY, approval, old("proof:deal-d_1", "approve", "cm@example.com", expires), now=1)
    with pytest.raises(LinkRejected, match="expired"):
        verify(KEY, approval, old("deal-d_1", "approve", "cm@example.com", expires), now=expires)


def test_query_and_path_rules_of_the_http_edge_name_the_field() -> None:
    import re

    from shared.errors import NotFound, ValidationFailed
    from shared.http import bounded_int, id_or_400, id_or_404

    assert bounded_int({}, "limit", 20, 1, 50) == 20 and bounded_int({"limit": "50"}, "limit", 20, 1, 50) == 50
    for raw in ("0", "51", "x", ""):
        with pytest.raises(ValidationFailed) as bad:
            bounded_int({"limit": raw}, "limit", 20, 1, 50)
        assert [e.field for e in bad.value.errors] == ["limit"]
    shape = re.compile(r"r_[0-9a-z]{4}")
    assert id_or_400("r_ab12", shape, "reward_id") == "r_ab12" == id_or_404("r_ab12", shape, "reward")
    with pytest.raises(ValidationFailed) as odd:
        id_or_400("r_" + "x" * 2000, shape, "reward_id")
    assert [e.field for e in odd.value.errors] == ["reward_id"]
    with pytest.raises(NotFound):
        id_or_404(None, shape, "reward")
