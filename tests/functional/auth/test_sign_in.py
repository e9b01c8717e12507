"""Sign-in by e-mail against the real portal, sandbox and SMTP server: the flow and every way
it refuses."""

from __future__ import annotations

import concurrent.futures
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from portal_dev.mailbox import ReceivedMail
from tests.functional.portal_support import Browser, Portal, code_in, link_in, text_of


def new_email() -> str:
    return f"kunde-{uuid.uuid4().hex[:8]}@example.de"


def requested(portal: Portal) -> tuple[str, Browser, ReceivedMail]:
    """A new customer who has asked for a sign-in e-mail in a browser, and that e-mail."""
    email = new_email()
    portal.customer(email=email)
    browser = portal.browser()
    browser.request_link(email)
    return email, browser, portal.wait_for_mail(email)


def test_link_confirmed_in_the_same_browser_opens_the_overview(portal: Portal) -> None:
    email = new_email()
    portal.customer(email=email, name="Schmidt Haustechnik GmbH")
    browser = portal.browser()

    requested = browser.request_link(email)
    assert requested.status_code == 303
    assert requested.headers["location"].endswith("/sign-in/check-email")
    mail = portal.wait_for_mail(email)
    assert mail.message["Date"]
    assert mail.message["Message-ID"]
    assert mail.part("text/plain")
    assert mail.part("text/html")
    link = link_in(mail)
    assert link.startswith(portal.settings.base_url + "/sign-in/link/")

    # Opening the link signs nobody in: it only leads to a page with a button.
    opened = browser.get(link)
    assert opened.status_code == 303
    assert opened.headers["location"].endswith("/sign-in/confirm")
    assert browser.get("/").status_code == 303
    page = browser.get("/sign-in/confirm")
    assert page.status_code == 200
    assert email in page.text
    assert "<script" not in page.text
    assert "http-equiv" not in page.text

    done = browser.post("/sign-in/confirm")
    assert done.status_code == 303
    assert done.headers["location"].endswith("/")
    overview = browser.get("/")
    assert overview.status_code == 200
    assert "Schmidt Haustechnik GmbH" in text_of(overview)


def test_sign_in_email_is_in_the_customers_language(portal: Portal) -> None:
    email = new_email()
    portal.customer(email=email, locale="pl")
    portal.browser(**{"Accept-Language": "de"}).request_link(email)
    mail = portal.wait_for_mail(email)
    assert mail.message["Content-Language"] == "pl"
    assert 'lang="pl"' in (mail.part("text/html") or "")


def test_unknown_and_known_addresses_get_the_same_answer(portal: Portal) -> None:
    known = new_email()
    portal.customer(email=known)
    answers = []
    for email in (known, new_email(), "jemand+test@sub.example.org"):
        browser = portal.browser()
        response = browser.request_link(email)
        check = browser.get(response.headers["location"])
        answers.append(
            (
                response.status_code,
                response.headers["location"],
                text_of(check).replace(email, "<e>"),
            )
        )
    assert answers[0] == answers[1] == answers[2]
    portal.wait_for_mail(known)
    time.sleep(0.3)
    assert [m for m in portal.mailbox.messages() if "sub.example.org" in m.recipients[0]] == []


def test_an_address_that_cannot_be_one_gets_a_form_error_and_keeps_the_input(
    portal: Portal,
) -> None:
    browser = portal.browser()
    browser.get("/sign-in")
    response = browser.post("/sign-in", {"email": "anna.schmidt(at)example"})
    assert response.status_code == 400
    assert 'value="anna.schmidt(at)example"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert "field-error" in response.text


def test_code_signs_in_a_second_browser_that_opened_the_link(portal: Portal) -> None:
    email = new_email()
    portal.customer(email=email)
    portal.browser().request_link(email)
    mail = portal.wait_for_mail(email)
    phone = portal.browser()
    phone.get(link_in(mail))
    page = phone.get("/sign-in/confirm")
    assert 'name="code"' in page.text
    assert phone.post("/sign-in/confirm").status_code == 400  # no code: not signed in
    done = phone.post("/sign-in/confirm", {"code": code_in(mail).lower().replace("-", " ")})
    assert done.status_code == 303
    assert phone.get("/").status_code == 200


def test_code_typed_into_the_browser_that_asked(portal: Portal) -> None:
    _email, browser, mail = requested(portal)
    code = code_in(mail)
    browser.get("/sign-in/check-email")
    assert browser.post("/sign-in/code", {"code": code}).status_code == 303
    assert browser.get("/").status_code == 200


def test_a_used_link_is_refused(portal: Portal) -> None:
    email = new_email()
    portal.customer(email=email)
    browser = portal.browser()
    browser.sign_in(email)
    link = link_in(portal.wait_for_mail(email))
    again = portal.browser()
    again.get(link)
    page = again.get("/sign-in/confirm")
    assert page.status_code == 400
    assert "already been used" in page.text


def test_an_expired_link_is_refused(portal: Portal) -> None:
    email, browser, mail = requested(portal)
    link = link_in(mail)
    with portal.db.begin() as conn:
        conn.execute(
            text("UPDATE login_tokens SET expires_at = :t WHERE email = :e"),
            {"t": datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1), "e": email},
        )
    browser.get(link)
    page = browser.get("/sign-in/confirm")
    assert page.status_code == 400
    assert "expired" in page.text
    assert browser.post("/sign-in/confirm").status_code == 400


def test_a_newer_request_replaces_the_earlier_link(portal: Portal) -> None:
    email, browser, mail = requested(portal)
    first = link_in(mail)
    browser.request_link(email)
    portal.wait_for_mail(email, count=2)
    browser.get(first)
    assert browser.post("/sign-in/confirm").status_code == 400
    assert browser.get("/").status_code == 303


def test_a_tampered_link_is_refused(portal: Portal) -> None:
    _email, browser, mail = requested(portal)
    link = link_in(mail)
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    browser.get(tampered)
    page = browser.get("/sign-in/confirm")
    assert page.status_code == 400
    assert "not valid" in page.text
    assert browser.post("/sign-in/confirm").status_code == 400


def test_five_wrong_codes_lock_the_code_even_for_the_right_one(portal: Portal) -> None:
    _email, browser, mail = requested(portal)
    code = code_in(mail)
    browser.get("/sign-in/check-email")
    answers = [browser.post("/sign-in/code", {"code": "ZZZZ-ZZZZ"}) for _ in range(5)]
    assert [a.status_code for a in answers] == [400] * 5
    assert "4 more times" in text_of(answers[0])
    assert "too often" in text_of(answers[4])
    assert browser.post("/sign-in/code", {"code": code}).status_code == 400
    assert browser.get("/").status_code == 303


def test_two_simultaneous_confirmations_sign_in_once(portal: Portal) -> None:
    email, browser, mail = requested(portal)
    link = link_in(mail)
    browser.get(link)
    browser.get("/sign-in/confirm")
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: browser.post("/sign-in/confirm").status_code, range(4)))
    assert sorted(results) == [303, 400, 400, 400]
    with portal.db.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM sessions WHERE email = :e"), {"e": email}
            ).scalar()
            == 1
        )


def test_requests_over_the_limit_get_429_and_send_nothing(portal: Portal) -> None:
    email = new_email()
    portal.customer(email=email)
    statuses = [portal.browser().request_link(email).status_code for _ in range(6)]
    assert statuses == [303] * 5 + [429]
    time.sleep(0.5)
    assert len([m for m in portal.mailbox.messages() if email in m.recipients]) == 5


def test_tokens_are_stored_only_as_hashes(portal: Portal) -> None:
    email = new_email()
    portal.customer(email=email)
    portal.browser().request_link(email)
    mail = portal.wait_for_mail(email)
    token = link_in(mail).rsplit("/", 1)[1]
    code = code_in(mail)
    with portal.db.connect() as conn:
        row = (
            conn.execute(text("SELECT * FROM login_tokens WHERE email = :e"), {"e": email})
            .mappings()
            .one()
        )
    stored = " ".join(str(v) for v in row.values())
    assert token not in stored
    assert code.replace("-", "") not in stored


def test_sign_out_ends_the_session_on_the_server(portal: Portal) -> None:
    email = new_email()
    portal.customer(email=email)
    browser = portal.browser()
    browser.sign_in(email)
    cookie = dict(browser.client.cookies)
    browser.get("/")
    assert browser.post("/sign-out").status_code == 303
    # The page says so with its icon and offers the one next step.
    done = browser.get("/signed-out").text
    assert "result__icon--ok" in done
    assert done.count('class="button"') == 1
    replay = portal.browser()
    replay.client.cookies.update(cookie)
    assert replay.get("/").status_code == 303


def test_sessions_end_after_30_idle_minutes_and_after_12_hours(portal: Portal) -> None:
    email = new_email()
    portal.customer(email=email)
    browser = portal.browser()
    browser.sign_in(email)
    now = datetime.now(UTC).replace(tzinfo=None)
    with portal.db.begin() as conn:
        conn.execute(
            text("UPDATE sessions SET last_seen_at = :t WHERE email = :e"),
            {"t": now - timedelta(minutes=31), "e": email},
        )
    assert browser.get("/").status_code == 303

    browser.sign_in(email)
    with portal.db.begin() as conn:
        conn.execute(
            text("UPDATE sessions SET expires_at = :t WHERE email = :e"),
            {"t": now - timedelta(seconds=1), "e": email},
        )
    assert browser.get("/").status_code == 303


def test_session_id_changes_at_sign_in(portal: Portal) -> None:
    email = new_email()
    portal.customer(email=email)
    browser = portal.browser()
    browser.client.cookies.set("portal_session", "planted-by-an-attacker", domain="127.0.0.1")
    browser.sign_in(email)
    assert browser.client.cookies.get("portal_session") != "planted-by-an-attacker"
    assert browser.get("/").status_code == 200


def test_code_tries_on_one_address_are_limited_across_new_emails(portal: Portal) -> None:
    email = new_email()
    portal.customer(email=email)
    statuses = []
    for round_ in range(3):
        browser = portal.browser()
        browser.request_link(email)
        portal.wait_for_mail(email, count=round_ + 1)
        browser.get("/sign-in/check-email")
        statuses += [
            browser.post("/sign-in/code", {"code": "ZZZZ-ZZZZ"}).status_code for _ in range(4)
        ]
    assert statuses == [400] * 10 + [429] * 2


def test_the_email_greets_the_person_never_the_company(portal: Portal) -> None:
    email = new_email()
    portal.sdk.v1.customers.create(
        {
            "email": email,
            "business_name": "Schmidt Haustechnik GmbH",
            "individual_name": "Anna Schmidt",
            "preferred_locales": ["en"],
        }
    )
    portal.browser().request_link(email)
    assert "Hello Anna Schmidt," in (portal.wait_for_mail(email).part("text/plain") or "")

    company_only = new_email()
    portal.customer(email=company_only, name="Schmidt Immobilien AG", locale="en")
    portal.browser().request_link(company_only)
    mail = portal.wait_for_mail(company_only).part("text/plain") or ""
    assert "Hello," in mail
    assert "Schmidt Immobilien AG," not in mail
