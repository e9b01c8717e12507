"""Tax IDs: the types offered per country, normalization, and python-stdnum's check.

Valid and invalid numbers are python-stdnum's own doctest examples (the module is named next to
each), so a wrong check digit here is one its authors verified.
"""

from __future__ import annotations

import pytest

from portal.account.tax_ids import COUNTRIES, InvalidTaxId, check, kinds_for, normalize
from stripe_sandbox import tax_ids as sandbox

# (kind, country, typed, what Stripe is sent)
VALID = [
    ("eu_vat", "DE", "DE136695976", "DE136695976"),  # stdnum/de/vat.py
    ("eu_vat", "NL", "NL4495445B01", "NL004495445B01"),  # stdnum/nl/btw.py
    ("eu_vat", "NL", "004495445B01", "NL004495445B01"),  # stdnum/nl/btw.py
    ("eu_vat", "ES", "B64717838", "ESB64717838"),  # stdnum/es/nif.py (stdnum.es.vat)
    ("eu_vat", "PL", "PL 8567346215", "PL8567346215"),  # stdnum/pl/nip.py (stdnum.pl.vat)
    ("eu_vat", "HR", "HR 33392005961", "HR33392005961"),  # stdnum/hr/oib.py (stdnum.hr.vat)
    ("eu_vat", "AT", "AT U13585627", "ATU13585627"),  # stdnum/at/uid.py (stdnum.at.vat)
    ("eu_vat", "AT", "U13585627", "ATU13585627"),  # stdnum/at/uid.py
    ("eu_vat", "GR", "EL 094259216 ", "EL094259216"),  # stdnum/gr/vat.py
    ("eu_vat", "GR", "094259216", "EL094259216"),  # stdnum/gr/vat.py
    ("eu_vat", "GR", "GR094259216", "EL094259216"),  # stdnum/gr/vat.py
    ("eu_vat", "BE", "BE697449992", "BE0697449992"),  # stdnum/eu/vat.py
    ("eu_vat", "FR", "FR 61 954 506 077", "FR61954506077"),  # stdnum/eu/vat.py
    ("gb_vat", "GB", "GB 980 7806 84", "GB980780684"),  # stdnum/gb/vat.py
    ("gb_vat", "GB", "980 7806 84", "GB980780684"),  # stdnum/gb/vat.py
    ("ch_vat", "CH", "CHE-107.787.577 IVA", "CHE-107.787.577 IVA"),  # stdnum/ch/vat.py
    ("ch_vat", "CH", "che107787577iva", "CHE-107.787.577 IVA"),  # stdnum/ch/vat.py
    ("ch_vat", "CH", "CHE-107.787.577 TPV", "CHE-107.787.577 MWST"),  # stdnum/ch/vat.py
    ("no_vat", "NO", "NO 995 525 828 MVA", "995525828MVA"),  # stdnum/no/mva.py
    ("de_stn", "DE", " 181/815/0815 5", "18181508155"),  # stdnum/de/stnr.py
    ("de_stn", "DE", "4151081508156", "4151081508156"),  # stdnum/de/stnr.py
    ("es_cif", "ES", "J99216582", "J99216582"),  # stdnum/es/cif.py
    ("es_cif", "ES", "ES-J99216582", "J99216582"),  # stdnum/es/cif.py
    ("hr_oib", "HR", "HR 33392005961", "33392005961"),  # stdnum/hr/oib.py
    ("pl_nip", "PL", "PL 8567346215", "8567346215"),  # stdnum/pl/nip.py
    ("pl_nip", "PL", "856-734-62-15", "8567346215"),  # stdnum/pl/nip.py (its format())
]

# (kind, country, typed, reason)
INVALID = [
    ("eu_vat", "DE", "136695978", "checksum"),  # stdnum/de/vat.py
    ("eu_vat", "NL", "123456789B90", "checksum"),  # stdnum/nl/btw.py
    ("eu_vat", "ES", "B64717839", "checksum"),  # stdnum/es/nif.py
    ("eu_vat", "PL", "PL 8567346216", "checksum"),  # stdnum/pl/nip.py
    ("eu_vat", "HR", "33392005962", "checksum"),  # stdnum/hr/oib.py
    ("eu_vat", "AT", "U13585626", "checksum"),  # stdnum/at/uid.py
    ("eu_vat", "GR", "EL 123456781", "checksum"),  # stdnum/gr/vat.py
    ("gb_vat", "GB", "802311781", "checksum"),  # stdnum/gb/vat.py
    ("ch_vat", "CH", "CHE-107.787.578 IVA", "checksum"),  # stdnum/ch/vat.py
    ("no_vat", "NO", "NO 995 525 829 MVA", "checksum"),  # stdnum/no/mva.py
    ("es_cif", "ES", "J99216583", "checksum"),  # stdnum/es/cif.py
    ("es_cif", "ES", "J992165831", "format"),  # stdnum/es/cif.py: too long
    ("es_cif", "ES", "M-1234567-L", "format"),  # stdnum/es/cif.py: a NIF, not a CIF
    ("hr_oib", "HR", "33392005962", "checksum"),  # stdnum/hr/oib.py
    ("pl_nip", "PL", "PL 8567346216", "checksum"),  # stdnum/pl/nip.py
    ("de_stn", "DE", "136695978", "format"),  # stdnum/de/stnr.py: too short
    ("eu_vat", "DE", "DE 1366", "format"),
    ("eu_vat", "AT", "13585627", "format"),  # the U left out
    ("eu_vat", "DE", "ATU13585627", "format"),  # another country's number
    ("ch_vat", "CH", "CHE-107.787.577", "format"),  # a UID: no VAT suffix
    ("ch_vat", "CH", "CHE-107.787.577 VAT", "format"),
    ("no_vat", "NO", "995525828", "format"),  # no MVA suffix
    ("gb_vat", "GB", "GB 980 7806", "format"),
]


def test_countries_are_the_eu_with_gb_ch_and_no_sorted() -> None:
    assert len(COUNTRIES) == 30
    assert list(COUNTRIES) == sorted(COUNTRIES)
    assert {"DE", "GR", "GB", "CH", "NO"} <= set(COUNTRIES)
    assert not {"EL", "US", "LI", "IS"} & set(COUNTRIES)


@pytest.mark.parametrize(
    ("country", "kinds"),
    [
        ("DE", ("eu_vat", "de_stn")),
        ("ES", ("eu_vat", "es_cif")),
        ("HR", ("eu_vat", "hr_oib")),
        ("PL", ("eu_vat", "pl_nip")),
        ("AT", ("eu_vat",)),
        ("GR", ("eu_vat",)),
        ("NL", ("eu_vat",)),
        ("GB", ("gb_vat",)),
        ("CH", ("ch_vat",)),
        ("NO", ("no_vat",)),
        ("de", ("eu_vat", "de_stn")),
        ("US", ()),
        ("EL", ()),
        ("", ()),
    ],
)
def test_kinds_offered_per_country(country: str, kinds: tuple[str, ...]) -> None:
    assert kinds_for(country) == kinds


def test_every_country_offers_its_vat_number_first() -> None:
    for country in COUNTRIES:
        assert kinds_for(country)[0] in ("eu_vat", "gb_vat", "ch_vat", "no_vat")


@pytest.mark.parametrize(
    ("kind", "country", "typed", "normalized"),
    [
        ("eu_vat", "DE", "de 123 456 789", "DE123456789"),
        ("eu_vat", "DE", "123.456.789", "DE123456789"),
        ("eu_vat", "DE", "123/456-789", "DE123456789"),
        ("eu_vat", "AT", "u12345678", "ATU12345678"),
        ("eu_vat", "GR", "123456789", "EL123456789"),
        ("eu_vat", "GR", "GR 123456789", "EL123456789"),
        ("eu_vat", "GR", "el123456789", "EL123456789"),
        ("eu_vat", "IE", "IE 1234567WA", "IE1234567WA"),
        ("gb_vat", "GB", "123 4567 89", "GB123456789"),
        ("ch_vat", "CH", "che 123 456 789 mwst", "CHE-123.456.789 MWST"),
        ("ch_vat", "CH", "123.456.789 TVA", "CHE-123.456.789 TVA"),
        ("no_vat", "NO", "NO 123 456 789 mva", "123456789MVA"),
        ("de_stn", "DE", "12/345/67890", "1234567890"),
        ("es_cif", "ES", "es a-1234567-8", "A12345678"),
        ("hr_oib", "HR", "HR 123 456 789 01", "12345678901"),
        ("pl_nip", "PL", "PL 123-456-78-90", "1234567890"),
    ],
)
def test_normalize(kind: str, country: str, typed: str, normalized: str) -> None:
    assert normalize(kind, country, typed) == normalized


@pytest.mark.parametrize(("kind", "country", "typed", "sent"), VALID)
def test_valid_numbers_are_sent_in_stripes_form(
    kind: str, country: str, typed: str, sent: str
) -> None:
    assert check(kind, country, typed) == sent


@pytest.mark.parametrize(("kind", "country", "typed", "sent"), VALID)
def test_what_is_sent_passes_the_sandboxs_format_check(
    kind: str, country: str, typed: str, sent: str
) -> None:
    # As the sandbox's POST /v1/customers/{id}/tax_ids does (devtools/stripe_sandbox/customers.py).
    value = check(kind, country, typed)
    assert sandbox.is_well_formed(kind, sandbox.normalize(kind, value))


@pytest.mark.parametrize(("kind", "country", "typed", "reason"), INVALID)
def test_invalid_numbers_are_refused_with_a_reason(
    kind: str, country: str, typed: str, reason: str
) -> None:
    with pytest.raises(InvalidTaxId) as refused:
        check(kind, country, typed)
    assert refused.value.reason == reason


@pytest.mark.parametrize(
    ("kind", "country"),
    [
        ("de_stn", "AT"),
        ("gb_vat", "DE"),
        ("eu_vat", "GB"),
        ("eu_vat", "CH"),
        ("pl_nip", "DE"),
        ("eu_vat", "US"),
        ("eu_vat", "EL"),
        ("ch_uid", "CH"),  # a Stripe type, but not offered
        ("", "DE"),
    ],
)
def test_types_not_offered_for_the_country_are_unsupported(kind: str, country: str) -> None:
    with pytest.raises(InvalidTaxId) as refused:
        check(kind, country, "DE136695976")
    assert refused.value.reason == "unsupported"
    with pytest.raises(InvalidTaxId):
        normalize(kind, country, "DE136695976")


def test_invalid_tax_id_is_a_value_error() -> None:
    assert isinstance(InvalidTaxId("format"), ValueError)
