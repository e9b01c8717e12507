"""POST /_sandbox/bulk: the bench's many customers and invoices, made by the /v1 handlers."""

from __future__ import annotations

import httpx

from tests.functional.sandbox.sandbox_helpers import Sandbox


def _bulk(sandbox: Sandbox, body: dict[str, object]) -> httpx.Response:
    return httpx.post(f"{sandbox.url}/_sandbox/bulk", json=body, timeout=30)


def test_customers_and_finalized_invoices_as_the_api_makes_them(sandbox: Sandbox) -> None:
    sandbox.control("POST", "stats/reset")
    answer = _bulk(
        sandbox,
        {
            "customers": [
                {
                    "params": {"email": f"bulk{n}@example.com", "preferred_locales": ["de-DE"]},
                    "invoices": [
                        {
                            "item": {"amount": 12_000, "currency": "eur", "description": "Wartung"},
                            "invoice": {"collection_method": "send_invoice", "days_until_due": 14},
                            "finalize": True,
                            "repeat": 3,
                        },
                        {
                            "item": {"amount": 5_000, "currency": "eur"},
                            "invoice": {"collection_method": "send_invoice", "days_until_due": 14},
                            "finalize": True,
                            "pay": {"paid_out_of_band": True},
                        },
                    ],
                }
                for n in range(2)
            ]
        },
    )
    assert answer.status_code == 200, answer.text
    made = answer.json()["customers"]
    assert [len(c["invoices"]) for c in made] == [4, 4]
    # Not counted as API requests: the bench's Stripe-call figures start clean.
    assert sandbox.control("GET", "stats").json()["requests"] == 0
    invoice = sandbox.client.v1.invoices.retrieve(made[1]["invoices"][2])
    assert invoice.customer == made[1]["id"]
    assert invoice.status == "open"
    assert invoice.amount_due == 12_000
    assert invoice.lines.data[0].description == "Wartung"
    listed = sandbox.client.v1.invoices.list({"customer": made[0]["id"], "status": "open"})
    assert len(listed.data) == 3
    paid = sandbox.client.v1.invoices.retrieve(made[0]["invoices"][3])
    assert (paid.status, paid.amount_paid) == ("paid", 5_000)


def test_a_parameter_stripe_refuses_is_refused_here_too(sandbox: Sandbox) -> None:
    answer = _bulk(
        sandbox,
        {
            "customers": [
                {"params": {"email": "fine@example.com"}},
                {
                    "params": {"email": "bad@example.com"},
                    "invoices": [
                        {
                            "item": {"amount": 100, "currency": "eur"},
                            # Stripe: days_until_due only with send_invoice.
                            "invoice": {"days_until_due": 14},
                        }
                    ],
                },
            ]
        },
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["customer_index"] == 1
    assert len(error["made"]) == 1


def test_invoices_added_to_a_customer_made_before(sandbox: Sandbox) -> None:
    customer = sandbox.client.v1.customers.create({"email": "known@example.com"})
    invoice = {
        "item": {"amount": 700, "currency": "eur"},
        "invoice": {"collection_method": "send_invoice", "days_until_due": 3},
        "finalize": True,
    }
    answer = _bulk(sandbox, {"customers": [{"customer": customer.id, "invoices": [invoice]}]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["customers"][0]["id"] == customer.id
    missing = _bulk(sandbox, {"customers": [{"customer": "cus_missing", "invoices": [invoice]}]})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "resource_missing"
