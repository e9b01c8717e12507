"""Support's view as a customer on every page of the route table: no page fails (no 5xx), every
change stays refused, and the view is still on afterwards.

The walk reads the table (`portal.routes`), not a list kept by hand, and fills each path
parameter with a real object of the viewed customer: its invoices, credit note, tax ID and
payment from the sandbox and the portal, the Checkout Sessions its own browser opened, and the
tokens of the links e-mailed for it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from starlette.routing import Route

from portal.assets import Assets
from portal.permissions import CHANGES
from portal.principals import Access
from portal.routes import routes
from portal.routing import PortalRoute
from tests.functional.billing.billing_support import (
    at_stripe,
    customer_with_card,
    signed_in,
    start_payment,
)
from tests.functional.portal_support import Browser, link_in
from tests.functional.staff.staff_support import StaffSetup

BANNER = 'class="staff-banner"'
CUSTOMER_PAGES = (Access.CUSTOMER, Access.INVOICE)
TOKEN = r"/{}/([A-Za-z0-9_-]+)"


@dataclass
class Walked:
    """The viewed customer and the values its routes' parameters take."""

    customer: str
    email: str
    pm: str
    by_param: dict[str, str]
    by_route: dict[tuple[str, str], str]

    def params(self, route: Route) -> dict[str, str]:
        found = {}
        for name in route.param_convertors:
            value = self.by_route.get((route.name, name), self.by_param.get(name))
            assert value is not None, f"no real value for {name} of {route.name}: add one"
            found[name] = value
        return found


def _token(mail_text: str, path: str) -> str:
    found = re.search(TOKEN.format(path), mail_text)
    assert found, mail_text
    return found.group(1)


@pytest.fixture(scope="module")
def walked(staff: StaffSetup) -> Walked:
    portal = staff.portal
    email, customer, pm = customer_with_card(portal)
    invoice = portal.invoice(customer, amount=9900).id
    at_stripe_invoice = portal.invoice(customer, amount=4200).id
    credited = portal.invoice(customer, amount=5000).id
    credit_note = portal.sdk.v1.credit_notes.create({"invoice": credited, "amount": 5000}).id
    tax_id = portal.sdk.v1.customers.tax_ids.create(
        customer, {"type": "eu_vat", "value": "DE136695976"}
    ).id
    own = signed_in(portal, email)
    # A payment left on its page, and one the customer went on to pay on Stripe's page.
    payment = start_payment(own, f"/invoices/{invoice}/pay?what=whole")
    payment_id = payment.headers["location"].rsplit("/", 1)[1]
    to_stripe = start_payment(own, f"/invoices/{at_stripe_invoice}/pay?what=whole")
    stripe_payment = to_stripe.headers["location"].rsplit("/", 1)[1]
    own.get(f"/payments/{stripe_payment}")
    paying = at_stripe(own, own.post(f"/payments/{stripe_payment}", {"payment_method": "stripe"}))
    own.get("/payment-methods")
    adding = at_stripe(own, own.post("/payment-methods/add"))
    # An e-mail change, confirmed: its confirmation link and the undo link to the old address.
    new = f"neu-{uuid.uuid4().hex[:8]}@example.de"
    own.get("/account")
    assert own.post("/account/email", {"email": new}).status_code == 200
    confirm = _token(portal.wait_for_mail(new).part("text/plain") or "", "account/email/confirm")
    phone = portal.browser()
    phone.get(f"/account/email/confirm/{confirm}")
    assert phone.post("/account/email/confirm", {"token": confirm}).status_code == 200
    undo = _token(portal.wait_for_mail(email, 2).part("text/plain") or "", "account/email/undo")
    return Walked(
        customer=customer,
        email=new,
        pm=pm,
        by_param={
            "invoice_id": invoice,
            "credit_note_id": credit_note,
            "tax_id": tax_id,
            "payment_id": payment_id,
            "currency": "eur",
        },
        by_route={
            ("billing:credit_note_pdf", "invoice_id"): credited,
            ("billing:payment_checkout", "payment_id"): stripe_payment,
            ("billing:payment_checkout", "session_id"): _cs(paying),
            ("billing:method_checkout", "session_id"): _cs(adding),
            ("account:email_confirm", "token"): confirm,
            ("account:email_undo", "token"): undo,
        },
    )


def _cs(checkout_url: str) -> str:
    found = re.search(r"(cs_[A-Za-z0-9_]+)", checkout_url)
    assert found, checkout_url
    return found.group(1)


def _table() -> list[PortalRoute]:
    return [r for r in routes(assets=Assets(), demo=False) if isinstance(r, PortalRoute)]


def _viewing(staff: StaffSetup, walked: Walked, *, send_sign_in: bool = False) -> Browser:
    """Support's browser viewing as the customer; with `send_sign_in`, it first sent them a
    sign-in e-mail (whose link the walk then opens there)."""
    browser = staff.sign_in("anna")
    if send_sign_in:
        before = len([m for m in staff.portal.mailbox.messages() if walked.email in m.recipients])
        sent = browser.post("/staff/send-sign-in", {"customer_id": walked.customer})
        assert sent.status_code == 303
        sign_in_link = link_in(staff.portal.wait_for_mail(walked.email, before + 1))
        walked.by_route["auth:link", "token"] = sign_in_link.rsplit("/", 1)[1]
    assert browser.post("/staff/view-as", {"customer_id": walked.customer}).status_code == 303
    overview = browser.get("/")
    assert BANNER in overview.text
    static = re.search(r'href="/static/([^"]+)"', overview.text)
    assert static
    walked.by_param["path"] = static.group(1)
    invoice_page = browser.get(f"/invoices/{walked.by_param['invoice_id']}")
    shared = re.search(
        r'id="invoice-link" type="text" readonly value="[^"]*/i/([^"]+)"', invoice_page.text
    )
    assert shared
    walked.by_route["billing:invoice_link", "token"] = shared.group(1)
    return browser


def test_every_get_route_answers_without_a_server_error(staff: StaffSetup, walked: Walked) -> None:
    browser = _viewing(staff, walked, send_sign_in=True)
    gets = [r for r in _table() if "GET" in (r.methods or set())]
    assert len(gets) >= 35
    failed = []
    for route in gets:
        path = str(route.url_path_for(route.name, **walked.params(route)))
        answer = browser.get(path)
        needs = route.needs
        if answer.status_code >= 500:
            failed.append(f"{route.name} {path}: {answer.status_code}")
        elif needs.action in CHANGES and answer.status_code != 403:
            failed.append(f"{route.name} {path}: a change answered {answer.status_code}")
        elif needs.access in CUSTOMER_PAGES and needs.action not in CHANGES:
            if answer.status_code != 200:
                failed.append(f"{route.name} {path}: {answer.status_code}, not the page")
            elif answer.headers["content-type"].startswith("text/html") and (
                BANNER not in answer.text
            ):
                failed.append(f"{route.name} {path}: no support banner")
    assert not failed, "\n".join(failed)
    assert BANNER in browser.get("/").text  # still viewing as the customer


def test_every_post_of_a_customer_page_is_refused_or_harmless(
    staff: StaffSetup, walked: Walked
) -> None:
    """Changes answer 403; the rest (switching accounts) neither fails nor leaves the view."""
    browser = _viewing(staff, walked)
    posts = [
        r for r in _table() if "POST" in (r.methods or set()) and r.needs.access in CUSTOMER_PAGES
    ]
    assert len(posts) >= 13
    form = {"customer": walked.customer, "payment_method": walked.pm, "what": "whole"}
    failed = []
    for route in posts:
        path = str(route.url_path_for(route.name, **walked.params(route)))
        answer = browser.post(path, form)
        if answer.status_code >= 500:
            failed.append(f"{route.name} {path}: {answer.status_code}")
        elif route.needs.action in CHANGES and answer.status_code != 403:
            failed.append(f"{route.name} {path}: a change answered {answer.status_code}")
    assert not failed, "\n".join(failed)
    assert BANNER in browser.get("/").text


def test_the_accounts_page_shows_the_viewed_account_read_only(
    staff: StaffSetup, walked: Walked
) -> None:
    browser = _viewing(staff, walked)
    page = browser.get("/accounts")
    assert page.status_code == 200
    assert BANNER in page.text
    assert "Müller &amp; Söhne GmbH" in page.text  # the viewed account, by name
    assert re.search(r"(99|141)[.,]\d\d", page.text)  # with what it has to pay
    assert 'action="/accounts"' not in page.text  # nothing to switch to
    switched = browser.post("/accounts", {"customer": walked.customer})
    assert switched.status_code == 303
    assert browser.post("/accounts", {"customer": "cus_someone_else"}).status_code == 404
    assert BANNER in browser.get("/").text
