"""Card brands: every value the SDK declares has a name and a logo; the logos are clean SVG."""

from __future__ import annotations

import ast
import importlib.util
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from portal.assets import Assets
from portal.resources import STATIC
from portal.stripe.brands import GENERIC_LOGO, brand_logo, brand_name

# Stripe's words for "no brand we can name": the page says "Card" in the reader's language.
NOT_A_BRAND = {"unknown", "other"}


def sdk_values(field: str) -> list[str]:
    """The values the installed SDK lists for `PaymentMethod.Card.<field>`.

    The SDK types `brand` and `display_brand` as `str` and lists their values in the field's
    docstring ("Can be `amex`, ..."): read from its source, so an SDK that adds a brand fails
    these tests until the brand is mapped.
    """
    spec = importlib.util.find_spec("stripe._payment_method")
    assert spec is not None
    assert spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text())
    method = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "PaymentMethod")
    card = next(n for n in method.body if isinstance(n, ast.ClassDef) and n.name == "Card")
    for node, doc in zip(card.body, card.body[1:], strict=False):
        if isinstance(node, ast.AnnAssign) and ast.unparse(node.target) == field:
            assert isinstance(doc, ast.Expr)
            assert isinstance(doc.value, ast.Constant)
            return re.findall(r"`([a-z0-9_]+)`", doc.value.value)
    raise AssertionError(f"PaymentMethod.Card.{field} not found in the SDK")


SDK_BRANDS = sorted({*sdk_values("brand"), *sdk_values("display_brand")})


def test_the_sdk_lists_the_brands_where_we_read_them() -> None:
    assert {"visa", "mastercard", "unknown"} <= set(sdk_values("brand"))
    assert {"american_express", "other"} <= set(sdk_values("display_brand"))


@pytest.mark.parametrize("value", SDK_BRANDS)
def test_every_brand_the_sdk_declares_is_named_or_plain_card(value: str) -> None:
    if value in NOT_A_BRAND:
        assert brand_name(value) is None
        assert brand_logo(value) == GENERIC_LOGO
    else:
        assert brand_name(value), f"Stripe's brand {value!r} has no name: add it to BRANDS"


@pytest.mark.parametrize(
    ("values", "name"),
    [
        (("amex", "american_express"), "American Express"),
        (("cartes_bancaires",), "Cartes Bancaires"),
        (("diners", "diners_club"), "Diners Club"),
        (("discover",), "Discover"),
        (("eftpos_au", "eftpos_australia"), "eftpos Australia"),
        (("interac",), "Interac"),
        (("jcb",), "JCB"),
        (("link",), "Link"),
        (("mastercard",), "Mastercard"),
        (("unionpay", "union_pay"), "UnionPay"),
        (("visa",), "Visa"),
    ],
)
def test_brands_go_by_their_own_names_in_both_of_stripes_spellings(
    values: tuple[str, ...], name: str
) -> None:
    assert {brand_name(v) for v in values} == {name}
    assert len({brand_logo(v) for v in values}) == 1


@pytest.mark.parametrize("value", [None, "", "girocard_of_tomorrow"])
def test_a_missing_or_unknown_brand_has_no_name_and_the_generic_card(value: str | None) -> None:
    assert brand_name(value) is None
    assert brand_logo(value) == GENERIC_LOGO


def test_the_marked_brands_have_logos_of_their_own() -> None:
    for value in ("amex", "cartes_bancaires", "diners", "discover", "jcb", "mastercard"):
        assert brand_logo(value) == f"brands/{value}.svg"
    assert brand_logo("unionpay") == "brands/unionpay.svg"
    assert brand_logo("visa") == "brands/visa.svg"


def test_every_logo_is_a_static_file_under_a_hashed_name() -> None:
    logos = {brand_logo(v) for v in SDK_BRANDS} | {GENERIC_LOGO, "brands/sepa.svg"}
    names = Assets().names
    for logo in logos:
        assert (STATIC / logo).is_file(), logo
        assert re.fullmatch(r"brands/\w+\.[0-9a-f]{12}\.svg", names[logo]), names[logo]


LOGO_FILES = sorted((STATIC / "brands").glob("*.svg"))
SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize("path", LOGO_FILES, ids=[p.name for p in LOGO_FILES])
def test_logos_are_self_contained_svg_the_csp_allows(path: Path) -> None:
    text = path.read_text()
    root = ET.fromstring(text)  # our own files: well-formed XML
    assert root.tag == f"{SVG}svg"
    assert re.fullmatch(r"0 0 \d+ \d+", root.get("viewBox", "")), "no viewBox"
    for low in ("<script", "<style", "<foreignobject", "@import", "url(", "<!doctype", "<!entity"):
        assert low not in text.lower(), f"{low} in {path.name}"
    assert not re.search(r"\s(style|[\w:]*href)\s*=", text), f"inline style or link in {path.name}"
    for element in root.iter():
        assert element.tag.startswith(SVG), f"foreign element {element.tag} in {path.name}"
        for attribute, value in element.attrib.items():
            assert not attribute.lower().startswith("on"), f"event handler in {path.name}"
            assert "://" not in value, f"external reference in {path.name}"


def sdk_method_types() -> set[str]:
    """The payment method types the installed SDK declares for `PaymentMethod.type`."""
    spec = importlib.util.find_spec("stripe._payment_method")
    assert spec is not None
    assert spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text())
    method = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "PaymentMethod")
    field = next(
        n for n in method.body if isinstance(n, ast.AnnAssign) and ast.unparse(n.target) == "type"
    )
    return set(re.findall(r"'([a-z0-9_]+)'", ast.unparse(field.annotation)))


def test_named_payment_method_types_are_stripes() -> None:
    from portal.stripe.brands import METHOD_NAMES, method_name

    declared = sdk_method_types()
    assert {"card", "ideal", "blik", "sepa_debit"} <= declared  # the SDK is read right
    assert set(METHOD_NAMES) <= declared
    assert method_name("ideal") == "iDEAL"
    assert method_name("p24") == "Przelewy24"
    assert method_name("card") is None  # cards are named by their brand
    assert method_name(None) is None
