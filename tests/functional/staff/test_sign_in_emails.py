"""Sign-in e-mails support sends: the link is bound to no browser (the code from the e-mail is
needed wherever it is opened) and never signs in in support's browser; each send is on the
record, and there are a few per customer and some per staff member an hour."""

from __future__ import annotations

import uuid

import httpx

from portal import i18n
from portal.staff.views import SIGN_IN_EMAILS_PER_CUSTOMER, SIGN_IN_EMAILS_PER_STAFF
from tests.functional.portal_support import Browser, code_in, link_in, text_of
from tests.functional.staff.staff_support import StaffSetup

REFUSED_HERE = "Open this link in the customer's own browser"


def _customer(staff: StaffSetup) -> tuple[str, str]:
    email = f"kunde-{uuid.uuid4().hex[:8]}@example.de"
    return staff.portal.customer(email=email), email


def _send(staff: StaffSetup, browser: Browser, customer: str, email: str) -> tuple[str, str]:
    """Support presses "send sign-in e-mail": the link and code the customer receives."""
    before = len([m for m in staff.portal.mailbox.messages() if email in m.recipients])
    answer = browser.post("/staff/send-sign-in", {"customer_id": customer})
    assert answer.status_code == 303, answer.text
    mail = staff.portal.wait_for_mail(email, before + 1)
    return link_in(mail).removeprefix(staff.portal.url), code_in(mail)


def _refused_here(page: httpx.Response) -> None:
    assert page.status_code == 403
    with i18n.use_locale("en"):
        assert i18n.gettext(REFUSED_HERE) in text_of(page)


def _not_signed_in(browser: Browser) -> None:
    assert not any(c.startswith("portal_session") for c in browser.client.cookies)
    after = browser.get("/")
    assert after.status_code == 303
    assert "/sign-in" in after.headers["location"]


def test_the_link_does_not_sign_in_the_browser_that_sent_it(staff: StaffSetup) -> None:
    customer, email = _customer(staff)
    browser = staff.sign_in("anna")
    link, code = _send(staff, browser, customer, email)
    assert browser.get(link).status_code == 303
    _refused_here(browser.get("/sign-in/confirm"))
    assert browser.get(link).status_code == 303  # the refusal took the link's cookie away
    _refused_here(browser.post("/sign-in/confirm"))
    assert browser.get(link).status_code == 303
    _refused_here(browser.post("/sign-in/confirm", {"code": code}))  # not even with the code
    _not_signed_in(browser)
    refused = staff.audit("customer_link_in_staff_browser")
    assert refused[-1] == (
        "customer_link_in_staff_browser",
        customer,
        "refused",
        "anna@example.com",
    )
    # The link was not spent: the customer can still use it.
    own = staff.portal.browser()
    assert own.get(link).status_code == 303
    own.get("/sign-in/confirm")
    assert own.post("/sign-in/confirm", {"code": code}).status_code == 303


def test_the_sending_browser_is_refused_after_signing_out_too(staff: StaffSetup) -> None:
    customer, email = _customer(staff)
    browser = staff.sign_in("anna")
    link, code = _send(staff, browser, customer, email)
    browser.post("/staff/sign-out")
    assert not any(c.startswith("portal_staff") for c in browser.client.cookies)
    assert browser.get(link).status_code == 303
    _refused_here(browser.get("/sign-in/confirm"))
    assert browser.get(link).status_code == 303
    _refused_here(browser.post("/sign-in/confirm", {"code": code}))
    _not_signed_in(browser)


def test_any_browser_with_a_staff_sign_in_is_refused(staff: StaffSetup) -> None:
    """A shared support mailbox, opened by a colleague in their own staff browser."""
    customer, email = _customer(staff)
    link, code = _send(staff, staff.sign_in("anna"), customer, email)
    colleague = staff.sign_in("anna")
    assert colleague.get(link).status_code == 303
    _refused_here(colleague.get("/sign-in/confirm"))
    assert colleague.get(link).status_code == 303
    _refused_here(colleague.post("/sign-in/confirm", {"code": code}))
    _not_signed_in(colleague)


def test_the_code_typed_into_the_sending_browser_signs_nobody_in(staff: StaffSetup) -> None:
    """The link is bound to no browser, so the sending one has no sign-in request to finish."""
    customer, email = _customer(staff)
    browser = staff.sign_in("anna")
    _link, code = _send(staff, browser, customer, email)
    assert browser.get("/sign-in/check-email").status_code == 303  # nothing asked for here
    assert browser.post("/sign-in/code", {"code": code}).status_code == 400
    _not_signed_in(browser)


def test_the_customer_signs_in_in_their_own_browser_with_the_code(staff: StaffSetup) -> None:
    customer, email = _customer(staff)
    link, code = _send(staff, staff.sign_in("anna"), customer, email)
    own = staff.portal.browser()
    assert own.get(link).status_code == 303
    page = own.get("/sign-in/confirm")
    assert page.status_code == 200
    assert 'name="code"' in page.text  # the code is asked for, as in any other browser
    assert own.post("/sign-in/confirm").status_code == 400  # not without it
    assert own.post("/sign-in/confirm", {"code": code}).status_code == 303
    assert own.get("/").status_code == 200


def test_sends_are_limited_per_customer_and_on_the_record(staff: StaffSetup) -> None:
    customer, email = _customer(staff)
    browser = staff.sign_in("anna")
    for _ in range(SIGN_IN_EMAILS_PER_CUSTOMER.count):
        _send(staff, browser, customer, email)
    refused = browser.post("/staff/send-sign-in", {"customer_id": customer})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    with i18n.use_locale("en"):
        assert "This customer has already been sent" in text_of(refused)
    staff.portal.wait_for_mail(email, SIGN_IN_EMAILS_PER_CUSTOMER.count)
    mails = [m for m in staff.portal.mailbox.messages() if email in m.recipients]
    assert len(mails) == SIGN_IN_EMAILS_PER_CUSTOMER.count  # none for the refused one
    sends = [row for row in staff.audit("send_sign_in_email") if row[1] == customer]
    assert [row[2] for row in sends] == ["ok"] * SIGN_IN_EMAILS_PER_CUSTOMER.count + ["refused"]
    trail = browser.get("/staff/audit", params={"customer": customer})
    assert text_of(trail).count("Sign-in e-mail sent") == SIGN_IN_EMAILS_PER_CUSTOMER.count + 1


def test_sends_are_limited_per_staff_member(staff: StaffSetup) -> None:
    browser = staff.sign_in("bert")  # whose sends no other test counts
    sent = 0
    while sent < SIGN_IN_EMAILS_PER_STAFF.count:
        customer, _email = _customer(staff)
        for _ in range(
            min(SIGN_IN_EMAILS_PER_CUSTOMER.count, SIGN_IN_EMAILS_PER_STAFF.count - sent)
        ):
            answer = browser.post("/staff/send-sign-in", {"customer_id": customer})
            assert answer.status_code == 303, sent
            sent += 1
    customer, _email = _customer(staff)
    refused = browser.post("/staff/send-sign-in", {"customer_id": customer})
    assert refused.status_code == 429
    with i18n.use_locale("en"):
        assert "You have already sent" in text_of(refused)
    assert ("send_sign_in_email", customer, "refused", "bert@example.com") in staff.audit()
    # Another staff member may still send.
    assert (
        staff.sign_in("anna").post("/staff/send-sign-in", {"customer_id": customer}).status_code
        == 303
    )


def test_an_address_the_mail_server_cannot_carry_is_said_not_sent(staff: StaffSetup) -> None:
    """Letters beyond ASCII before the @ and a mail server without SMTPUTF8 (the tests'
    server offers none): support is told no e-mail went out, on the record, rather than
    "sent" while the outbox gives it up."""
    mark = uuid.uuid4().hex[:8]
    email = f"jürgen-{mark}@example.de"
    customer = staff.portal.customer(email=email)
    browser = staff.sign_in("anna")
    refused = browser.post("/staff/send-sign-in", {"customer_id": customer})
    assert refused.status_code == 409
    with i18n.use_locale("en"):
        assert i18n.gettext("Sign-in e-mail not sent") in text_of(refused)
    sends = [row for row in staff.audit("send_sign_in_email") if row[1] == customer]
    assert [row[2] for row in sends] == ["refused"]
    assert not [m for m in staff.portal.mailbox.messages() if mark in str(m.recipients)]
