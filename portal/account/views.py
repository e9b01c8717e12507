"""The customer's details page: billing address and phone, e-mail address, language, tax IDs.

Everything typed is checked here, before Stripe sees it; a mistake comes back next to its field
with the input kept. Changes go to the Stripe customer and apply to future invoices: Stripe froze
the details of issued ones when it finalized them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import audit, i18n
from portal.account import addresses, language, tax_ids
from portal.account.addresses import AddressForm, FieldError
from portal.concurrency import at_once
from portal.cookies import set_cookie
from portal.formatting import country_names
from portal.i18n import _, current_locale
from portal.permissions import Action, NotFound, Principal, can
from portal.principals import principal, visitor
from portal.services import services
from portal.stripe.errors import InvalidRequest
from portal.stripe.models import Address, Customer, TaxId
from portal.taxes import tax_id_name
from portal.templating import render
from portal.text import hidden_characters_message

FIELDS = ("name", "line1", "line2", "postal_code", "city", "state", "country", "phone")


def _form_of(customer: Customer) -> AddressForm:
    address = customer.address or Address()
    return AddressForm(
        name=customer.name or "",
        line1=address.line1 or "",
        line2=address.line2 or "",
        postal_code=address.postal_code or "",
        city=address.city or "",
        state=address.state or "",
        country=address.country or "",
        phone=customer.phone or "",
    )


def field_message(field: str, error: FieldError, layout: addresses.Layout) -> str:
    if error == "required":
        return _("Please fill in this field.")
    if error == "too_long":
        return _("This is too long.")
    if error == "hidden_characters":
        return hidden_characters_message()
    if error == "country":
        return _("Please choose a country from the list.")
    if error == "state":
        return _("Please choose a state from the list.")
    if error == "phone":
        return _(
            "Please enter the number in international form, starting with + and the country code, e.g. +49 30 1234567."
        )
    if layout.postal_code_example:
        return _(
            "This is not a postal code of the chosen country. Postal codes there look like %(example)s.",
            example=layout.postal_code_example,
        )
    return _("This is not a postal code of the chosen country.")


def details_page(
    request: Request,
    who: Principal,
    customer: Customer,
    form: AddressForm | None = None,
    *,
    errors: Mapping[str, FieldError] | None = None,
    notice: str | None = None,
    email_value: str = "",
    email_error: str | None = None,
    support_views: Sequence[audit.Entry] = (),
    status: int = 200,
) -> Response:
    """The details page; what was typed (`form`, `email_value`) is shown again with its errors."""
    form = form or _form_of(customer)
    country = form.country.strip().upper()
    layout = addresses.layout(country if country in addresses.COUNTRIES else "")
    context = {
        "customer": customer,
        "form": form,
        "layout": layout,
        "countries": country_names(addresses.COUNTRIES, current_locale()),
        "errors": {
            field: field_message(field, error, layout) for field, error in (errors or {}).items()
        },
        "notice": notice,
        "may_edit": can(who, Action.EDIT_BILLING_DETAILS),
        "stripe_language": customer.preferred_locales[0] if customer.preferred_locales else None,
        "email_value": email_value,
        "email_error": email_error,
        "support_views": support_views,
    }
    return render(request, "pages/billing_details.html", context, status=status)


async def billing_details(request: Request) -> Response:
    who = principal(request)
    svc = services(request)
    customer, support_views = await at_once(
        svc.gateway.get_customer(who.customer_id),
        audit.entries(
            svc.engine, customer_id=who.customer_id, actions=("impersonation_start",), limit=5
        ),
    )

    notice = None
    if request.query_params.get("saved"):
        notice = _("Your billing details have been saved. They apply to your next invoices.")
    elif request.query_params.get("email_changed"):
        notice = _("Your e-mail address has been changed.")
    return details_page(request, who, customer, notice=notice, support_views=support_views)


async def save_billing_details(request: Request) -> Response:
    form_data = await request.form()
    who = principal(request)
    gateway = services(request).gateway
    typed = AddressForm(**{field: str(form_data.get(field, "")) for field in FIELDS})
    customer = await gateway.get_customer(who.customer_id)
    if form_data.get("action") == "country":  # another country chosen: its fields, input kept
        return details_page(request, who, customer, typed)
    address, errors = addresses.validate(typed)
    if address is None:
        return details_page(request, who, customer, typed, errors=errors, status=400)
    await gateway.update_billing_details(
        who.customer_id,
        name=address.name,
        address=Address(
            line1=address.line1,
            line2=address.line2,
            postal_code=address.postal_code,
            city=address.city,
            state=address.state,
            country=address.country,
        ),
        phone=address.phone,
    )
    return RedirectResponse(request.url_for("account:details").include_query_params(saved=1), 303)


# --- tax IDs ---------------------------------------------------------------------------------


def verification_text(tax_id: TaxId) -> str:
    status = tax_id.verification_status
    if status == "verified":
        if tax_id.verified_name:
            return _("Verified: registered to %(name)s.", name=tax_id.verified_name)
        return _("Verified.")
    if status == "pending":
        return _("Being checked with the tax authority.")
    if status == "unverified":
        return _(
            "Could not be verified: the tax authority does not know this number. Please check it."
        )
    return _("Cannot be checked: the tax authority's service is not available for this number.")


def tax_id_message(reason: str) -> str:
    if reason == "country":
        return _("Please choose a country from the list.")
    if reason == "unsupported":
        return _("Please choose the kind of number from the list.")
    if reason == "checksum":
        return _("This number is not valid: its check digit does not match. Please check it.")
    return _("This is not a valid number of this kind. Please check it.")


def _tax_ids_page(
    request: Request,
    who: Principal,
    current: list[TaxId],
    *,
    country: str = "",
    kind: str = "",
    value: str = "",
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    country = country if country in tax_ids.COUNTRIES else ""
    kinds = tax_ids.kinds_for(country) if country else ()
    return render(
        request,
        "pages/tax_ids.html",
        {
            "tax_ids": [(t, tax_id_name(t.type), verification_text(t)) for t in current],
            "countries": country_names(tax_ids.COUNTRIES, current_locale()),
            "country": country,
            "kinds": [(k, tax_id_name(k)) for k in kinds],
            "kind": kind if kind in kinds else (kinds[0] if kinds else ""),
            "value": value,
            "errors": errors or {},
            "may_edit": can(who, Action.EDIT_BILLING_DETAILS),
        },
        status=status,
    )


async def tax_ids_page(request: Request) -> Response:
    who = principal(request)
    gateway = services(request).gateway
    current, customer = await at_once(
        gateway.list_tax_ids(who.customer_id), gateway.get_customer(who.customer_id)
    )
    # The country of the billing address is the likely one: its kinds of number are shown.
    country = customer.address.country if customer.address and customer.address.country else ""
    return _tax_ids_page(request, who, current, country=country.upper())


async def add_tax_id(request: Request) -> Response:
    form_data = await request.form()
    who = principal(request)
    gateway = services(request).gateway
    country = str(form_data.get("country", "")).strip().upper()
    kind = str(form_data.get("kind", ""))
    typed = str(form_data.get("value", ""))
    current = await gateway.list_tax_ids(who.customer_id)

    def again(errors: Mapping[str, str]) -> Response:  # the form as typed, with its problems
        return _tax_ids_page(
            request,
            who,
            current,
            country=country,
            kind=kind,
            value=typed,
            errors=errors,
            status=400 if errors else 200,
        )

    if form_data.get("action") == "country":  # a country chosen: the kinds it offers
        return again({})
    checked = tax_ids.validate(country, kind, typed)
    if checked.value is None:
        return again({field: tax_id_message(p) for field, p in checked.errors.items()})
    kind, value = checked.value.kind, checked.value.value
    if not any(t.type == kind and t.value == value for t in current):  # a resubmitted form
        try:
            await gateway.add_tax_id(who.customer_id, type=kind, value=value)
        except InvalidRequest:
            # Stripe's own check refused it (its message is English and for developers).
            return again(
                {
                    "value": _(
                        "Stripe did not accept this number for this kind of tax ID. Please check the number and the kind."
                    )
                }
            )
    return RedirectResponse(request.url_for("account:tax_ids"), 303)


async def _own_tax_id(request: Request, who: Principal) -> TaxId:
    tax_id = request.path_params["tax_id"]
    current = await services(request).gateway.list_tax_ids(who.customer_id)
    found = next((t for t in current if t.id == tax_id), None)
    if found is None:
        raise NotFound(tax_id)
    return found


async def remove_tax_id_page(request: Request) -> Response:
    """Removing asks first: a removed number is gone from every future invoice."""
    who = principal(request)
    tax_id = await _own_tax_id(request, who)
    return render(
        request, "pages/tax_id_remove.html", {"tax_id": tax_id, "label": tax_id_name(tax_id.type)}
    )


async def remove_tax_id(request: Request) -> Response:
    who = principal(request)
    tax_id = await _own_tax_id(request, who)
    await services(request).gateway.delete_tax_id(who.customer_id, tax_id.id)
    return RedirectResponse(request.url_for("account:tax_ids"), 303)


# --- the language ------------------------------------------------------------------------------


async def choose_language(request: Request) -> Response:
    """The language switcher: remembered in a cookie for a year and, for a signed-in customer,
    in Stripe (`preferred_locales`), so Stripe's own e-mails and PDFs follow it."""
    form = await request.form()
    chosen = i18n.first_supported([str(form.get("lang", ""))]) or i18n.DEFAULT
    target = str(form.get("next", "/"))
    # Only a path on this site, never an open redirect: browsers read "/\host" as "//host" and
    # drop tabs and line breaks from URLs, so none of those pass either.
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target[1:2] in ("/", "\\")
        or any(c in target for c in "\\\t\r\n")
    ):
        target = "/"
    svc = services(request)
    who = visitor(request)
    staff = who.staff
    if staff is not None and staff.impersonation is not None:
        # Support switching the page's language while viewing as the customer: only the page
        # changes (the view is read-only), and it is on the record like every action.
        await audit.record(
            svc.engine,
            request,
            staff.member,
            "choose_language",
            now=datetime.now(UTC),
            customer_id=staff.impersonation.customer_id,
            target=chosen,
            outcome="allowed",
        )
    elif who.principal is not None:
        await language.remember(svc.gateway, who.principal, chosen)
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, svc.settings, "lang", chosen, max_age=365 * 24 * 3600)
    return response
