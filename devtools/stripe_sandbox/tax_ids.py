"""Tax ID rules: which types exist, a light format check per type, and test-mode verification.

Verification follows Stripe's documented test values (https://docs.stripe.com/billing/customer/
tax-ids#testing, for `eu_vat`, `gb_vat` and `au_abn`): a value containing `000000000` is verified,
`111111111` unverified, `222222222` stays pending. The sandbox adds `333333333` for `unavailable`
(the tax authority could not be reached), which Stripe has no test value for. Other values of those
types stay `pending`; types Stripe does not verify are `unavailable` from the start.
"""

from __future__ import annotations

import re
from typing import Literal

VerificationStatus = Literal["pending", "verified", "unverified", "unavailable"]

VERIFIABLE = frozenset({"eu_vat", "gb_vat", "au_abn"})

# Stripe's tax ID types (https://docs.stripe.com/api/tax_ids/object#tax_id_object-type), plus
# `pl_nip` which the portal's README lists.
TYPES = frozenset(
    [
        "ad_nrt",
        "ae_trn",
        "al_tin",
        "am_tin",
        "ao_tin",
        "ar_cuit",
        "au_abn",
        "au_arn",
        "aw_tin",
        "az_tin",
        "ba_tin",
        "bb_tin",
        "bd_bin",
        "bf_ifu",
        "bg_uic",
        "bh_vat",
        "bj_ifu",
        "bo_tin",
        "br_cnpj",
        "br_cpf",
        "bs_tin",
        "by_tin",
        "ca_bn",
        "ca_gst_hst",
        "ca_pst_bc",
        "ca_pst_mb",
        "ca_pst_sk",
        "ca_qst",
        "cd_nif",
        "ch_uid",
        "ch_vat",
        "cl_tin",
        "cm_niu",
        "cn_tin",
        "co_nit",
        "cr_tin",
        "cv_nif",
        "de_stn",
        "do_rcn",
        "ec_ruc",
        "eg_tin",
        "es_cif",
        "et_tin",
        "eu_oss_vat",
        "eu_vat",
        "gb_vat",
        "ge_vat",
        "gn_nif",
        "hk_br",
        "hr_oib",
        "hu_tin",
        "id_npwp",
        "il_vat",
        "in_gst",
        "is_vat",
        "jp_cn",
        "jp_rn",
        "jp_trn",
        "ke_pin",
        "kg_tin",
        "kh_tin",
        "kr_brn",
        "kz_bin",
        "la_tin",
        "li_uid",
        "li_vat",
        "ma_vat",
        "md_vat",
        "me_pib",
        "mk_vat",
        "mr_nif",
        "mx_rfc",
        "my_frp",
        "my_itn",
        "my_sst",
        "ng_tin",
        "no_vat",
        "no_voec",
        "np_pan",
        "nz_gst",
        "om_vat",
        "pe_ruc",
        "ph_tin",
        "pl_nip",
        "ro_tin",
        "rs_pib",
        "ru_inn",
        "ru_kpp",
        "sa_vat",
        "sg_gst",
        "sg_uen",
        "si_tin",
        "sn_ninea",
        "sr_fin",
        "sv_nit",
        "th_vat",
        "tj_tin",
        "tr_tin",
        "tw_vat",
        "tz_vat",
        "ua_vat",
        "ug_tin",
        "us_ein",
        "uy_ruc",
        "uz_tin",
        "uz_vat",
        "ve_rif",
        "vn_tin",
        "za_vat",
        "zm_tin",
        "zw_tin",
    ]
)

_EU_VAT = {
    "AT": r"U\d{8}", "BE": r"[01]\d{9}", "BG": r"\d{9,10}", "CY": r"\d{8}[A-Z]",
    "CZ": r"\d{8,10}", "DE": r"\d{9}", "DK": r"\d{8}", "EE": r"\d{9}", "EL": r"\d{9}",
    "ES": r"[A-Z0-9]\d{7}[A-Z0-9]", "FI": r"\d{8}", "FR": r"[A-Z0-9]{2}\d{9}", "HR": r"\d{11}",
    "HU": r"\d{8}", "IE": r"\d[A-Z0-9+*]\d{5}[A-Z]{1,2}", "IT": r"\d{11}", "LT": r"\d{9}|\d{12}",
    "LU": r"\d{8}", "LV": r"\d{11}", "MT": r"\d{8}", "NL": r"\d{9}B\d{2}", "PL": r"\d{10}",
    "PT": r"\d{9}", "RO": r"\d{2,10}", "SE": r"\d{12}", "SI": r"\d{8}", "SK": r"\d{10}",
    "XI": r"\d{9}|\d{12}",
}  # fmt: skip

_FORMATS = {
    "gb_vat": r"GB(\d{9}|\d{12}|GD\d{3}|HA\d{3})",
    "ch_vat": r"CHE-?\d{3}\.?\d{3}\.?\d{3} ?(MWST|TVA|IVA)",
    "ch_uid": r"CHE-?\d{3}\.?\d{3}\.?\d{3}",
    "li_uid": r"CHE\d{9}",
    "no_vat": r"\d{9}MVA",
    "de_stn": r"[\d/ ]{10,16}",
    "es_cif": r"[A-Z]\d{7}[A-Z0-9]",
    "hr_oib": r"\d{11}",
    "pl_nip": r"\d{3}-?\d{3}-?\d{2}-?\d{2}",
    "au_abn": r"\d{11}",
    "us_ein": r"\d{2}-?\d{7}",
    "ca_bn": r"\d{9}",
    "eu_oss_vat": r"EU\d{9}",
}

_GENERIC = r"[A-Za-z0-9][A-Za-z0-9 .\-/]{2,29}"

_COUNTRY_FIXES = {"EL": "GR", "XI": "GB"}


def normalize(tax_type: str, value: str) -> str:
    if tax_type in ("eu_vat", "gb_vat", "no_vat", "eu_oss_vat"):
        return "".join(value.split()).upper()
    return value.strip()


def is_well_formed(tax_type: str, value: str) -> bool:
    if tax_type == "eu_vat":
        pattern = _EU_VAT.get(value[:2])
        return pattern is not None and re.fullmatch(pattern, value[2:]) is not None
    return re.fullmatch(_FORMATS.get(tax_type, _GENERIC), value) is not None


def country_of(tax_type: str, value: str) -> str | None:
    if tax_type == "eu_vat":
        return _COUNTRY_FIXES.get(value[:2], value[:2])
    if tax_type == "eu_oss_vat":
        return None
    return tax_type.split("_", 1)[0].upper()


def initial_status(tax_type: str) -> VerificationStatus:
    return "pending" if tax_type in VERIFIABLE else "unavailable"


def resolved_status(tax_type: str, value: str) -> VerificationStatus | None:
    """The status test-mode verification ends in, or None if it stays pending."""
    if tax_type not in VERIFIABLE:
        return None
    if "000000000" in value:
        return "verified"
    if "111111111" in value:
        return "unverified"
    if "333333333" in value:
        return "unavailable"
    return None
