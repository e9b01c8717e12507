"""The six catalogs agree with the code and templates, languages and regional formats are
chosen as promised, and Polish and Croatian plurals pick the right form."""

from __future__ import annotations

import contextvars
import re
from configparser import ConfigParser
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel import Locale, localedata
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from portal import i18n

ROOT = Path(__file__).resolve().parents[2]


def extracted_messages() -> set[str]:
    """What `pybabel extract -F babel.cfg portal templates` finds, computed here."""
    config = ConfigParser()
    config.read(ROOT / "babel.cfg")
    method_map = []
    options_map = {}
    for section in config.sections():
        method, pattern = (part.strip() for part in section.split(":", 1))
        method_map.append((pattern, method))
        options_map[pattern] = dict(config[section])
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2)}
    found: set[str] = set()
    for folder in ("portal", "templates"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map, options_map, keywords=keywords
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("locale", i18n.SUPPORTED)
def test_catalog_matches_the_source_and_is_fully_translated(locale: str) -> None:
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=locale)
    source = extracted_messages()
    in_catalog = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    assert source - in_catalog == set(), "extracted but missing from the catalog"
    assert in_catalog - source == set(), "in the catalog but no longer in the source"
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, f"fuzzy: {message.id!r}"
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"untranslated: {message.id!r}"


def test_polish_and_croatian_have_three_plural_forms() -> None:
    for locale in ("pl", "hr"):
        with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
            assert read_po(po, locale=locale).num_plurals == 3


def test_gettext_follows_the_current_locale() -> None:
    i18n.set_locale("de")
    assert i18n.gettext("Demo mailbox") == "Demo-Postfach"
    i18n.set_locale("hr")
    assert i18n.gettext("Demo mailbox") == "Demo pretinac"
    i18n.set_locale("xx")
    assert i18n.current_locale() == "en"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-AT,de;q=0.9,en;q=0.8", "de"),
        ("fr-FR,fr;q=0.9,nl;q=0.5", "nl"),
        ("en;q=0.2, pl;q=0.8", "pl"),
        ("es-419", "es"),
        ("fr, it", None),
        ("", None),
        ("hr;q=0", None),
    ],
)
def test_accept_language_negotiation(header: str, expected: str | None) -> None:
    assert i18n.negotiate(header) == expected


def test_stripe_preferred_locales_pick_the_first_supported() -> None:
    assert i18n.first_supported(["fr-FR", "nl-BE", "de"]) == "nl"
    assert i18n.first_supported([]) is None


def test_language_names_are_in_their_own_language() -> None:
    assert [i18n.locale_name(code) for code in i18n.SUPPORTED] == [
        "Deutsch",
        "English",
        "Nederlands",
        "Español",
        "Polski",
        "Hrvatski",
    ]


def test_the_language_names_kept_are_babels() -> None:
    assert set(i18n.OWN_NAMES) == set(i18n.SUPPORTED)
    for code, name in i18n.OWN_NAMES.items():
        assert name == str(Locale.parse(code).get_display_name(code)).capitalize()


def test_stripe_preferred_locales_keep_a_region_we_know() -> None:
    assert i18n.first_supported_locale(["fr-FR", "nl-BE", "de"]) == "nl-BE"
    assert i18n.first_supported_locale(["en_gb"]) == "en-GB"
    assert i18n.first_supported_locale(["es-419"]) == "es-419"
    assert i18n.first_supported_locale(["de-IT"]) == "de"  # no such variant of ours
    assert i18n.first_supported_locale(["fr-CH"]) is None


# --- regional variants ------------------------------------------------------------------------


def test_every_language_has_regional_variants_that_cldr_knows() -> None:
    assert set(i18n.REGIONS) == set(i18n.SUPPORTED)
    for language, variants in i18n.REGIONS.items():
        for variant in variants:
            assert localedata.exists(variant), variant
            parsed = Locale.parse(variant)
            assert (parsed.language, parsed.territory) == (language, variant.split("_")[1])


@pytest.mark.parametrize(
    ("tag", "language", "formats"),
    [
        ("en", "en", "en_GB"),  # plain English is British (see REGIONS)
        ("en-GB", "en", "en_GB"),
        ("en-US", "en", "en_US"),
        ("en_us", "en", "en_US"),
        ("de", "de", "de_DE"),
        ("de-AT", "de", "de_AT"),
        ("de-CH", "de", "de_CH"),
        ("de-IT", "de", "de_DE"),  # a region we do not list: the language's default
        ("nl-BE", "nl", "nl_BE"),
        ("es-MX", "es", "es_MX"),
        ("es-419", "es", "es_419"),
        ("pl-PL", "pl", "pl_PL"),
        ("hr-BA", "hr", "hr_BA"),
        ("sr-Latn-RS", "en", "en_GB"),  # a language we do not speak: the default
        ("xx", "en", "en_GB"),
    ],
)
def test_a_locale_sets_the_language_and_the_formats(tag: str, language: str, formats: str) -> None:
    with i18n.use_locale(tag):
        assert (i18n.current_locale(), i18n.format_locale()) == (language, formats)


def test_use_locale_restores_both_afterwards() -> None:
    before = i18n.current_locale(), i18n.format_locale()
    with i18n.use_locale("de-AT"):
        with i18n.use_locale("en-US"):
            assert i18n.format_locale() == "en_US"
        assert (i18n.current_locale(), i18n.format_locale()) == ("de", "de_AT")
    assert (i18n.current_locale(), i18n.format_locale()) == before


def test_set_locale_takes_a_regional_tag() -> None:
    def run() -> tuple[str, str]:
        i18n.set_locale("nl-BE")
        return i18n.current_locale(), i18n.format_locale()

    assert contextvars.copy_context().run(run) == ("nl", "nl_BE")


def request_locale(
    accept_language: str | None = None,
    cookie: str | None = None,
    stripe: tuple[str, ...] | None = None,
) -> tuple[str, str, bool]:
    """(language, format locale, chosen) as a request with this Accept-Language and language
    cookie ends up with, the customer's Stripe `preferred_locales` applied as the route guard
    does."""

    def request() -> tuple[str, str, bool]:
        i18n.use_request_locale(cookie, accept_language)
        if stripe is not None:
            i18n.set_customer_locale(stripe)
        return i18n.current_locale(), i18n.format_locale(), i18n.chosen_by_visitor()

    return contextvars.copy_context().run(request)


@pytest.mark.parametrize(
    ("accept_language", "cookie", "expected"),
    [
        (None, None, ("en", "en_GB", False)),
        ("en-GB,en;q=0.9", None, ("en", "en_GB", False)),
        ("en-US,en;q=0.9", None, ("en", "en_US", False)),
        ("en", None, ("en", "en_GB", False)),
        ("de-CH,de;q=0.9,en;q=0.8", None, ("de", "de_CH", False)),
        # A region named for the language wins over none, wherever it stands.
        ("de,de-AT;q=0.9", None, ("de", "de_AT", False)),
        ("fr-BE,nl-BE;q=0.8", None, ("nl", "nl_BE", False)),
        ("es-MX", None, ("es", "es_MX", False)),
        # The switcher's language keeps a region the browser asked for in that language ...
        ("de-AT,en;q=0.5", "de", ("de", "de_AT", True)),
        ("en-US,de-CH;q=0.5", "de", ("de", "de_CH", True)),
        # ... else the language's default region, not the browser's other language's.
        ("en-GB", "de", ("de", "de_DE", True)),
        ("en-US", "pl", ("pl", "pl_PL", True)),
        # A cookie that is no language of ours is no choice.
        ("en-US", "xx", ("en", "en_US", False)),
    ],
)
def test_a_request_gets_language_and_formats(
    accept_language: str | None, cookie: str | None, expected: tuple[str, str, bool]
) -> None:
    assert request_locale(accept_language, cookie) == expected


@pytest.mark.parametrize(
    ("accept_language", "cookie", "stripe", "expected"),
    [
        # Stripe's language wins over the browser's, with Stripe's region ...
        ("en-US", None, ("de-CH",), ("de", "de_CH")),
        ("en-US", None, ("en-GB", "de"), ("en", "en_GB")),
        # ... or, where Stripe names none, the browser's for that language, else the default.
        ("de-AT,en;q=0.5", None, ("de",), ("de", "de_AT")),
        ("en-GB", None, ("de",), ("de", "de_DE")),
        # The switcher's language stands; Stripe's region for it comes before the browser's.
        ("en-US", "en", ("de-AT", "en-IE"), ("en", "en_IE")),
        ("en-US", "en", ("de-AT",), ("en", "en_US")),
        # Nothing in Stripe that we speak: the browser's choice stands.
        ("nl-BE", None, ("fr-FR",), ("nl", "nl_BE")),
        ("nl-BE", None, (), ("nl", "nl_BE")),
    ],
)
def test_the_customers_stripe_locales_come_between_switcher_and_browser(
    accept_language: str, cookie: str | None, stripe: tuple[str, ...], expected: tuple[str, str]
) -> None:
    assert request_locale(accept_language, cookie, stripe)[:2] == expected


def test_accept_language_preferences_are_ranked_by_quality() -> None:
    assert i18n.preferences("de;q=0.5, en-GB, fr;q=0, nl;q=x, es;q=0.8") == ("en-GB", "es", "de")
    assert i18n.preferences(None) == ()


# --- plural forms ------------------------------------------------------------------------------

NUMBERS = (1, 2, 4, 5, 12, 21, 22, 25, 101)
MINUTES = (
    "For your security, nothing was sent. Please try again in %(num)d minute.",
    "For your security, nothing was sent. Please try again in %(num)d minutes.",
)


@pytest.mark.parametrize(
    ("locale", "forms", "words"),
    [
        # Polish: 1 "minutę", 2-4 (not 12-14) "minuty", else "minut" (5, 12, 21, 25, 101).
        ("pl", (0, 1, 1, 2, 2, 2, 1, 2, 2), ("minutę", "minuty", "minut")),
        # Croatian: 1, 21, 101 (n%10 == 1, not 11) "minutu", 2-4 (not 12-14) "minute", else
        # "minuta".
        ("hr", (0, 1, 1, 2, 2, 0, 1, 2, 0), ("minutu", "minute", "minuta")),
    ],
)
def test_polish_and_croatian_plurals_pick_the_right_form(
    locale: str, forms: tuple[int, ...], words: tuple[str, str, str]
) -> None:
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=locale)
    message = catalog[MINUTES[0]]
    assert message is not None
    assert len(message.string) == 3
    assert all(message.string)
    cldr = {"one": 0, "few": 1, "many": 2, "other": 2}  # CLDR's categories as the catalogs' forms
    plural = i18n.translations(locale).plural  # the catalog's own Plural-Forms
    with i18n.use_locale(locale):
        for n, form in zip(NUMBERS, forms, strict=True):
            assert plural(n) == form, n
            assert cldr[Locale.parse(locale).plural_form(n)] == form, n
            text = i18n.ngettext(*MINUTES, n)
            assert text == message.string[form] % {"num": n}
            assert f" {n} {words[form]}." in text


def _catalog_entry_with(locale: str, letters: str) -> tuple[str, str]:
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=locale)
    return next(
        (m.id, m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and isinstance(m.string, str) and letters in m.string
    )


def test_swiss_and_liechtenstein_german_write_ss_where_german_writes_sharp_s() -> None:
    msgid, german = _catalog_entry_with("de", "ß")
    with i18n.use_locale("de-AT"):
        assert i18n.gettext(msgid) == german
    for swiss in ("de-CH", "de-LI"):
        with i18n.use_locale(swiss):
            assert i18n.gettext(msgid) == german.replace("ß", "ss")
            assert "ß" not in i18n.gettext(msgid)


def test_a_regions_own_words_lie_over_its_languages_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "en" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "en_GB" / "LC_MESSAGES").mkdir(parents=True)
    header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
    (tmp_path / "en" / "LC_MESSAGES" / "messages.po").write_text(
        header + 'msgid "Installment"\nmsgstr "Installment"\n\nmsgid "Pay"\nmsgstr "Pay"\n'
    )
    (tmp_path / "en_GB" / "LC_MESSAGES" / "messages.po").write_text(
        header + 'msgid "Installment"\nmsgstr "Instalment"\n'
    )
    monkeypatch.setattr(i18n, "LOCALES", tmp_path)
    i18n.translations.cache_clear()
    i18n.catalog_name.cache_clear()
    try:
        for tag, word in (
            ("en-GB", "Instalment"),
            ("en-IE", "Instalment"),
            ("en-US", "Installment"),
        ):
            with i18n.use_locale(tag):
                assert (i18n.gettext("Installment"), i18n.gettext("Pay")) == (word, "Pay"), tag
    finally:
        i18n.translations.cache_clear()
        i18n.catalog_name.cache_clear()


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        (
            "Verified: registered to %(name)s.",
            "Nowak sp. z o.o.",
            "Verified: registered to Nowak sp. z o.o.",
        ),
        ("Dospijeće: %(date)s.", "6. 12. 2026.", "Dospijeće: 6. 12. 2026."),
        ("Due on %(date)s. Thank you.", "6 Dec 2026", "Due on 6 Dec 2026. Thank you."),
        ("%(name)s.%(name)s", "S.L.", "S.L.S.L."),
    ],
)
def test_a_value_ending_in_a_full_stop_does_not_double_the_sentences(
    text: str, value: str, expected: str
) -> None:
    variable = "date" if "date" in text else "name"
    assert i18n.interpolate(text, {variable: value}) == expected


def test_croatian_sentences_ending_in_a_date_end_in_one_full_stop() -> None:
    # Croatian dates end in a full stop of their own ("6. 12. 2026."): a sentence that ends
    # with one must not add a second, whatever the catalog's wording.
    from portal.formatting import format_date

    date = format_date(datetime(2026, 12, 6, tzinfo=UTC), "hr_HR")
    assert date.endswith(".")
    with (ROOT / "locales" / "hr" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale="hr")
    checked = 0
    with i18n.use_locale("hr"):
        for message in catalog:
            if not isinstance(message.id, str) or "%(date)s" not in message.id:
                continue
            names = set(re.findall(r"%\((\w+)\)s", message.id)) - {"date"}
            text = i18n.gettext(message.id, date=date, **{name: "X" for name in names})
            assert ".." not in text.replace("...", ""), text
            checked += 1
    assert checked >= 5
