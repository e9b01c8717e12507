"""Viewing the portal as a customer: read-only through the one permission check, a banner on
every customer page, 30 minutes at most, nothing left behind, everything on the record."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from starlette.routing import Route

from portal import i18n
from portal.assets import Assets
from portal.permissions import CHANGES
from portal.routes import routes
from portal.routing import PortalRoute
from portal.storage.tables import charge_claims, payment_charges, payments, staff_sessions
from tests.functional.billing.billing_support import customer_with_card, signed_in, start_payment
from tests.functional.portal_support import Browser, text_of
from tests.functional.staff.staff_support import StaffSetup

BANNER = 'class="staff-banner"'


def viewing_as(staff: StaffSetup, customer: str) -> Browser:
    browser = staff.sign_in("anna")
    answer = browser.post("/staff/view-as", {"customer_id": customer})
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("/")
    return browser


@pytest.fixture(scope="module")
def account(staff: StaffSetup) -> dict[str, str]:
    """A customer with everything a page can show: an invoice, a card, a tax ID, a payment, and
    a credit note (on an invoice of its own, credited whole, so what is open stays 99.00)."""
    portal = staff.portal
    email, customer, pm = customer_with_card(portal)
    invoice = portal.invoice(customer, amount=9900).id
    credited = portal.invoice(customer, amount=5000).id
    credit_note = portal.sdk.v1.credit_notes.create({"invoice": credited, "amount": 5000}).id
    tax_id = portal.sdk.v1.customers.tax_ids.create(
        customer, {"type": "eu_vat", "value": "DE136695976"}
    ).id
    own = signed_in(portal, email)  # the customer starts a payment (left unpaid)
    started = start_payment(own, f"/invoices/{invoice}/pay?what=whole")
    payment = started.headers["location"].rsplit("/", 1)[1]
    return {
        "email": email,
        "customer": customer,
        "pm": pm,
        "invoice_id": invoice,
        "credit_note_id": credit_note,
        "credited_invoice_id": credited,
        "tax_id": tax_id,
        "payment_id": payment,
        "currency": "eur",
        "session_id": "cs_test_none",
    }


def customer_pages() -> list[Route]:
    """Every GET route a customer sees (not staff, sign-in, links, assets, health)."""
    table = [r for r in routes(assets=Assets(), demo=False) if isinstance(r, Route)]
    return [
        r
        for r in table
        if "GET" in (r.methods or set())
        and (r.name or "").split(":")[0] in ("billing", "account")
        # Links from e-mails: the token is the proof, not the session.
        and r.name not in ("billing:invoice_link", "account:email_confirm", "account:email_undo")
    ]


def test_every_customer_page_carries_the_banner(staff: StaffSetup, account: dict[str, str]) -> None:
    browser = viewing_as(staff, account["customer"])
    overview = browser.get("/")
    assert '<html lang="en">' in overview.text  # the staff member's language, not the customer's
    assert 'name="lang" value="de"' in overview.text  # with a switch to the customer's
    pages = customer_pages()
    assert len(pages) >= 12
    for route in pages:
        params = {p: account[p] for p in route.param_convertors}
        if route.name == "billing:credit_note_pdf":
            params["invoice_id"] = account["credited_invoice_id"]
        path = route.url_path_for(route.name, **params)
        answer = browser.get(str(path))
        if answer.headers.get("content-type", "").startswith("text/html"):
            assert BANNER in answer.text, f"{route.name} ({answer.status_code}) has no banner"
            assert "Anna Support" in answer.text
        elif answer.status_code in (302, 303):
            pytest.fail(f"{route.name} redirected to {answer.headers['location']}")
        else:
            # The PDFs: allowed, no page.
            assert route.name in ("billing:invoice_pdf", "billing:credit_note_pdf"), route.name


# Every action that changes something, as a request while viewing as the customer.
ACTIONS = [
    ("GET", "/invoices/{invoice_id}/pay?what=whole", {}),
    ("GET", "/pay-overdue/eur", {}),
    ("POST", "/invoices/{invoice_id}/pay", {"what": "whole"}),
    ("POST", "/pay-overdue/eur", {}),
    ("POST", "/payments/{payment_id}/check", {}),
    ("POST", "/payments/{payment_id}", {"payment_method": "{pm}"}),
    ("POST", "/payments/{payment_id}", {"payment_method": "new"}),
    ("POST", "/payments/{payment_id}", {"payment_method": "stripe"}),
    ("GET", "/payments/{payment_id}/paid-at-stripe?session_id=cs_test", {}),
    ("POST", "/payments/{payment_id}/another-way", {}),
    ("GET", "/payments/{payment_id}/method-added?session_id=cs_test", {}),
    ("GET", "/payments/{payment_id}/authenticate", {}),
    ("GET", "/payments/{payment_id}/authenticated", {}),
    ("GET", "/payments/{payment_id}/checkout/{session_id}", {}),
    ("GET", "/payment-methods/checkout/{session_id}", {}),
    ("GET", "/payment-methods/added?session_id=cs_test", {}),
    ("POST", "/payment-methods/add", {}),
    ("POST", "/payment-methods/default", {"payment_method": "{pm}"}),
    ("POST", "/payment-methods/remove", {"payment_method": "{pm}"}),
    (
        "POST",
        "/account",
        {"name": "X", "line1": "Y 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
    ),
    ("POST", "/account/email", {"email": "new@example.de"}),
    ("POST", "/account/tax-ids", {"country": "AT", "kind": "eu_vat", "value": "ATU13585627"}),
    ("GET", "/account/tax-ids/{tax_id}/remove", {}),
    ("POST", "/account/tax-ids/{tax_id}/remove", {}),
]


def test_the_actions_cover_every_route_that_changes_something() -> None:
    """Read from the route table: each route asking an action that changes something at Stripe
    is among the requests below."""
    sample = {
        "invoice_id": "in_1",
        "payment_id": "pay_1",
        "session_id": "cs_1",
        "tax_id": "txi_1",
        "pm": "pm_1",
    }
    listed = [(m, path.split("?")[0].format(**sample)) for m, path, _data in ACTIONS]
    for route in routes(assets=Assets(), demo=False):
        if not isinstance(route, PortalRoute) or route.needs.action not in CHANGES:
            continue
        method = "POST" if "POST" in (route.methods or set()) else "GET"
        assert any(m == method and route.path_regex.fullmatch(path) for m, path in listed), (
            f"{method} {route.path} ({route.name}) is not tried read-only"
        )


@pytest.mark.parametrize(("method", "path", "data"), ACTIONS)
def test_every_change_is_refused_and_recorded(
    staff: StaffSetup, account: dict[str, str], method: str, path: str, data: dict[str, str]
) -> None:
    browser = viewing_as(staff, account["customer"])
    url = path.format(**account)
    before = len(staff.audit())
    if method == "GET":
        answer = browser.get(url)
    else:
        answer = browser.post(url, {k: v.format(**account) for k, v in data.items()})
    assert answer.status_code == 403, (url, answer.status_code)
    assert BANNER in answer.text
    refused = [row for row in staff.audit()[before:] if row[2] == "refused"]
    assert refused, url
    assert refused[0][1] == account["customer"]
    assert refused[0][3] == "anna@example.com"


def test_a_read_only_view_of_an_interrupted_payment_charges_nothing(staff: StaffSetup) -> None:
    """A GET never moves money: the support person sees that the payment is being checked,
    with no button to go on, Stripe's records stay as they were, and the audit has the view."""
    portal = staff.portal
    email, customer, pm = customer_with_card(portal)
    invoice = portal.invoice(customer, amount=5000).id
    own = signed_in(portal, email)
    started = start_payment(own, f"/invoices/{invoice}/pay?what=whole")
    payment_id = started.headers["location"].rsplit("/", 1)[1]
    # As if the customer had pressed "Pay" and the process had stopped before Stripe was
    # asked: the charge is interrupted, its claim held; repeating it would charge now.
    now = datetime.now(UTC)
    with portal.db.begin() as conn:
        conn.execute(
            update(payments)
            .where(payments.c.id == payment_id)
            .values(status="processing", payment_method_id=pm, updated_at=now)
        )
        conn.execute(
            update(payment_charges)
            .where(payment_charges.c.payment_id == payment_id)
            .values(status="interrupted", sent_at=now, updated_at=now)
        )
        conn.execute(
            charge_claims.insert().values(
                invoice_id=invoice,
                payment_id=payment_id,
                position=0,
                claimed_at=now,
                lease_until=now + timedelta(minutes=5),
            )
        )
    intents = portal.sdk.v1.payment_intents.list({"customer": customer}).data
    browser = viewing_as(staff, customer)
    before = len(staff.audit("view"))
    page = browser.get(f"/payments/{payment_id}")
    assert page.status_code == 200
    with i18n.use_locale("en"):
        assert i18n.gettext("We are checking whether your payment went through") in text_of(page)
    assert f"/payments/{payment_id}/check" not in page.text  # only the customer may go on
    assert browser.post(f"/payments/{payment_id}/check").status_code == 403
    assert portal.sdk.v1.payment_intents.list({"customer": customer}).data == intents
    assert portal.sdk.v1.invoices.retrieve(invoice).amount_paid == 0
    with portal.db.connect() as conn:
        status = conn.execute(
            select(payment_charges.c.status).where(payment_charges.c.payment_id == payment_id)
        ).scalar_one()
    assert status == "interrupted"
    assert [row[1] for row in staff.audit("view")[before:]] == [customer]
    # The customer's own page offers to go on; pressing it charges once.
    mine = own.get(f"/payments/{payment_id}")
    assert f"/payments/{payment_id}/check" in mine.text
    assert own.post(f"/payments/{payment_id}/check").status_code == 303
    paid = portal.sdk.v1.payment_intents.list({"customer": customer}).data
    assert [i.amount for i in paid if i.status == "succeeded"] == [5000]


def test_staff_may_copy_the_invoice_link_and_download_the_pdf(
    staff: StaffSetup, account: dict[str, str]
) -> None:
    browser = viewing_as(staff, account["customer"])
    page = browser.get(f"/invoices/{account['invoice_id']}")
    link = re.search(r'id="invoice-link" type="text" readonly value="([^"]+)"', page.text)
    assert link
    assert link.group(1).startswith(f"{staff.portal.url}/i/")
    assert browser.get(f"/invoices/{account['invoice_id']}/pdf").status_code == 200
    assert staff.audit("view")[-1][1] == account["customer"]


def test_nothing_changed_in_stripe(staff: StaffSetup, account: dict[str, str]) -> None:
    sdk = staff.portal.sdk
    customer = sdk.v1.customers.retrieve(account["customer"])
    assert customer.address is None
    assert customer.email == account["email"]
    assert [t.id for t in sdk.v1.customers.tax_ids.list(account["customer"]).data] == [
        account["tax_id"]
    ]
    assert sdk.v1.invoices.retrieve(account["invoice_id"]).status == "open"
    browser = viewing_as(staff, account["customer"])
    browser.post("/language", {"lang": "pl", "next": "/"})  # the page's language only
    assert sdk.v1.customers.retrieve(account["customer"]).preferred_locales == ["de"]
    assert staff.audit("choose_language")[-1][1:3] == (account["customer"], "allowed")


def test_the_view_ends_after_30_minutes(staff: StaffSetup, account: dict[str, str]) -> None:
    browser = viewing_as(staff, account["customer"])
    with staff.portal.db.begin() as conn:
        conn.execute(
            update(staff_sessions)
            .where(staff_sessions.c.customer_id == account["customer"])
            .values(impersonation_ends_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    answer = browser.get("/")
    assert answer.status_code == 303
    assert "/staff?ended=1" in answer.headers["location"]
    assert staff.audit("impersonation_end")[-1][1:3] == (account["customer"], "expired")
    assert BANNER not in browser.get("/staff").text


def test_ending_leaves_no_customer_session_behind(
    staff: StaffSetup, account: dict[str, str]
) -> None:
    browser = viewing_as(staff, account["customer"])
    assert BANNER in browser.get("/").text
    assert browser.post("/staff/view-as/end").status_code == 303
    assert staff.audit("impersonation_end")[-1][1:3] == (account["customer"], "ok")
    after = browser.get("/")
    assert after.status_code == 303  # the customer pages want a sign-in now
    assert "/sign-in" in after.headers["location"]
    assert not any(c.startswith("portal_session") for c in browser.client.cookies)


def test_staff_sign_out_ends_the_view(staff: StaffSetup, account: dict[str, str]) -> None:
    browser = viewing_as(staff, account["customer"])
    browser.post("/staff/sign-out")
    assert browser.get("/").status_code == 303
    assert staff.audit("impersonation_end")[-1][2] == "signed_out"


def test_a_staff_member_who_no_longer_passes_the_rule_is_out(
    staff: StaffSetup, account: dict[str, str]
) -> None:
    browser = viewing_as(staff, account["customer"])
    with staff.portal.db.begin() as conn:  # as if the allow-list no longer covered them
        conn.execute(
            update(staff_sessions)
            .where(staff_sessions.c.customer_id == account["customer"])
            .values(email="anna@elsewhere.example", groups="[]")
        )
    assert browser.get("/").status_code == 303
    assert staff.audit("staff_rule_failed")


def test_a_customer_signing_in_on_that_browser_does_not_inherit_the_view(
    staff: StaffSetup, account: dict[str, str]
) -> None:
    other_email, _, _ = customer_with_card(staff.portal)
    browser = viewing_as(staff, account["customer"])
    assert browser.sign_in(other_email).status_code == 303
    page = browser.get("/")
    assert BANNER not in page.text
    assert page.status_code == 200


def test_search_sign_in_email_audit_trail_and_csv(
    staff: StaffSetup, account: dict[str, str]
) -> None:
    browser = staff.sign_in("anna")
    for query in (account["email"], account["customer"]):
        page = browser.get("/staff", params={"q": query})
        assert account["customer"] in page.text, query
        assert re.search(r"99[.,]00", page.text)  # the open amount
    number = staff.portal.sdk.v1.invoices.retrieve(account["invoice_id"]).number
    assert number
    assert account["customer"] in browser.get("/staff", params={"q": number}).text
    sent = browser.post("/staff/send-sign-in", {"customer_id": account["customer"]})
    assert sent.status_code == 303
    staff.portal.wait_for_mail(account["email"])
    trail = browser.get("/staff/audit", params={"customer": account["customer"]})
    assert "send_sign_in_email" in trail.text
    csv = browser.get("/staff/audit", params={"staff": "anna@example.com", "format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("at,staff_email,")
    assert any(",search," in line for line in lines)
    assert not re.search(r"(sk_test|whsec_|pm_card|csrf)", csv.text)  # nothing secret


def test_customers_see_when_support_viewed_their_account(
    staff: StaffSetup, account: dict[str, str]
) -> None:
    viewing_as(staff, account["customer"])
    own = signed_in(staff.portal, account["email"])
    page = own.get("/account")
    assert 'id="support-heading"' in page.text
    section = page.text.split('id="support-heading"', 1)[1].split("</section>", 1)[0]
    assert "<li>" in section


def test_the_trail_is_append_only_in_the_code() -> None:
    """No module of the portal updates or deletes audit rows."""
    from pathlib import Path

    source = Path(__file__).parents[3] / "portal"
    for path in source.rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"(update|delete)\(\s*audit_log", text), path


def test_change_buttons_are_switched_off_with_the_reason(
    staff: StaffSetup, account: dict[str, str]
) -> None:
    """Support sees every button that would change something, switched off and described by
    the banner's reason, instead of a "not allowed" page after pressing it."""
    browser = viewing_as(staff, account["customer"])
    changing = [
        r
        for r in routes(assets=Assets(), demo=False)
        if isinstance(r, PortalRoute) and r.needs.action in CHANGES and "POST" in (r.methods or ())
    ]
    pages = ["/", f"/invoices/{account['invoice_id']}", "/payment-methods", "/account"]
    pages.append("/account/tax-ids")
    seen = 0
    for path in pages:
        html = browser.get(path).text
        assert 'id="read-only-reason"' in html, path
        for action, form in re.findall(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', html, re.S):
            if not any(r.path_regex.fullmatch(action) for r in changing):
                continue
            for button in re.findall(r"<button[^>]*>", form):
                seen += 1
                assert " disabled" in button, (path, action, button)
                assert 'aria-describedby="read-only-reason"' in button
    assert seen >= 6
