"""The templates' formatting filters write in the format locale, regional variant included:
what an e-mail rendered with `use_locale` for its recipient shows."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime

import jinja2
import pytest

from portal import i18n
from portal.assets import Assets
from portal.templating import create_environment

NB = "\u00a0"


@pytest.fixture(scope="module")
def env() -> jinja2.Environment:
    return create_environment(Assets())


def render(env: jinja2.Environment, source: str, **values: object) -> str:
    # As the reader sees it (an HTML page escapes the Swiss apostrophe as &#39;).
    return html.unescape(env.from_string(source).render(values))


@pytest.mark.parametrize(
    ("locale", "day", "long", "amount", "time"),
    [
        ("en-GB", "3 Jul 2026", "3 July 2026", "€1,234.56", "14:30:00"),
        ("en", "3 Jul 2026", "3 July 2026", "€1,234.56", "14:30:00"),
        ("en-US", "Jul 3, 2026", "July 3, 2026", "€1,234.56", "2:30:00\u202fPM"),
        ("de-AT", "03.07.2026", "3. Juli 2026", f"€{NB}1.234,56", "14:30:00"),
        ("de-CH", "03.07.2026", "3. Juli 2026", f"EUR{NB}1'234.56", "14:30:00"),
        ("nl-BE", "3 jul 2026", "3 juli 2026", f"€{NB}1.234,56", "14:30:00"),
        ("pl", "3.07.2026", "3 lipca 2026", f"1{NB}234,56{NB}€", "14:30:00"),
        ("hr", "03. 07. 2026.", "3. srpnja 2026.", f"1.234,56{NB}€", "14:30:00"),
    ],
)
def test_filters_write_in_the_format_locale(
    env: jinja2.Environment, locale: str, day: str, long: str, amount: str, time: str
) -> None:
    source = '{{ d | date }}|{{ d | date("long") }}|{{ a | money("eur") }}|{{ format_time(t) }}'
    values = {"d": date(2026, 7, 3), "a": 123456, "t": datetime(2026, 7, 3, 14, 30, tzinfo=UTC)}
    with i18n.use_locale(locale):
        assert render(env, source, **values) == f"{day}|{long}|{amount}|{time}"


def test_austrian_january_in_an_email(env: jinja2.Environment) -> None:
    with i18n.use_locale("de-AT"):
        assert render(env, '{{ d | date("long") }}', d=date(2026, 1, 14)) == "14. Jänner 2026"
    with i18n.use_locale("de"):
        assert render(env, '{{ d | date("long") }}', d=date(2026, 1, 14)) == "14. Januar 2026"


def test_translations_escape_what_is_put_into_them_and_keep_their_own_text(
    env: jinja2.Environment,
) -> None:
    page = env.from_string('{% trans name=name %}Hello {{ name }},{% endtrans %} {{ _("Pay") }}')
    with i18n.use_locale("de"):
        assert page.render(name="<b>Anna & Bo</b>") == (
            "Guten Tag &lt;b&gt;Anna &amp; Bo&lt;/b&gt;, Bezahlen"
        )
        # Made once per locale: the same answer again, and another language's after it.
        assert page.render(name="Bo") == "Guten Tag Bo, Bezahlen"
    with i18n.use_locale("nl"):
        assert "Bo" in page.render(name="Bo")
        assert "Bezahlen" not in page.render(name="Bo")


def test_plain_text_templates_get_the_values_as_they_are(env: jinja2.Environment) -> None:
    text = jinja2.Environment(extensions=["jinja2.ext.i18n"], autoescape=False)
    text.globals.update(env.globals)
    text.newstyle_gettext = True  # type: ignore[attr-defined]
    with i18n.use_locale("de"):
        rendered = text.from_string("{% trans name=name %}Hello {{ name }},{% endtrans %}")
        assert rendered.render(name="Müller & Söhne") == "Guten Tag Müller & Söhne,"
