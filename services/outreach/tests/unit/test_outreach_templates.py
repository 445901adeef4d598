"""Default templates in every shipped locale, and the save-time checks of tenants' templates."""
from __future__ import annotations

import pytest

from rapport_outreach.domain import catalog, templates
from rapport_outreach.domain.defaults import LOCALES, TEMPLATE_KEYS
from rapport_outreach.domain.errors import SmsTooLong, TemplateInvalid
from rapport_outreach.domain.templates import TemplateSource

# The sample customer owes 1,250.00 + 430.40 EUR; its first invoice fell due on 4 February 2026.
LOCALISED = {
    "en": ("€1,250.00", "€1,680.40", "February 4, 2026", "Hello Alex Dupont"),
    "fr": ("1\u202f250,00\xa0€", "1\u202f680,40\xa0€", "4 février 2026", "Bonjour Alex Dupont"),
    "de": ("1.250,00\xa0€", "1.680,40\xa0€", "4. Februar 2026", "Guten Tag Alex Dupont"),
    "es": ("1.250,00\xa0€", "1.680,40\xa0€", "4 de febrero de 2026", "Hola Alex Dupont"),
}
INVOICE_KEYS = [k for k in TEMPLATE_KEYS if k != "magic_link"]


@pytest.mark.parametrize("locale", sorted(LOCALES))
@pytest.mark.parametrize("key", INVOICE_KEYS)
def test_every_default_renders_localised_money_and_dates(key: str, locale: str) -> None:
    context = catalog.sample_contexts(key, locale, "friendly", "Acme Supplies")[0]
    rendered = templates.render(catalog.default_source(key, locale), context)
    amount, total, due, greeting = LOCALISED[locale]
    assert rendered.text.startswith(greeting)
    assert amount in rendered.text and amount in rendered.html
    assert due in rendered.text and due in rendered.html
    assert "INV-1043" in rendered.text and "INV-1058" in rendered.html
    assert context["portal_url"] in rendered.text and "&amp;next=pay" in rendered.html
    assert "Camille Martin" in rendered.text
    assert rendered.sms and rendered.sms_length.encoding == "GSM-7" and rendered.sms_length.segments <= 4
    assert rendered.subject and "\n" not in rendered.subject
    if "{{ total }}" in catalog.default_source(key, locale).sms:
        assert total.replace("\u202f", " ").replace("\xa0", " ") in rendered.sms.replace("\xa0", " ")


@pytest.mark.parametrize("locale", sorted(LOCALES))
def test_magic_link_renders_the_link_in_each_locale(locale: str) -> None:
    context = catalog.sample_contexts("magic_link", locale, "neutral", "Acme")[0]
    rendered = templates.render(catalog.default_source("magic_link", locale), context)
    assert context["link_url"] in rendered.text and context["link_url"] in rendered.sms
    assert "2026" in rendered.text


def test_every_default_passes_the_save_time_validation() -> None:
    for locale in LOCALES:
        for key in TEMPLATE_KEYS:
            samples = catalog.sample_contexts(key, locale, "firm", "Acme")
            assert templates.validate(catalog.default_source(key, locale), samples, 4).subject


def test_early_pay_discount_appears_only_when_offered() -> None:
    full, minimal = catalog.sample_contexts("pre_due_friendly", "en", "friendly", "Acme")
    source = catalog.default_source("pre_due_friendly", "en")
    assert "take 2% off (€33.61)" in templates.render(source, full).text
    assert "% off" not in templates.render(source, minimal).text


def test_tone_changes_the_sign_off() -> None:
    source = catalog.default_source("overdue_firm", "de")
    firm = templates.render(source, catalog.sample_contexts("overdue_firm", "de", "firm", "Acme")[0])
    friendly = templates.render(source, catalog.sample_contexts("overdue_firm", "de", "friendly", "Acme")[0])
    assert "Mit freundlichen Grüßen," in firm.text and "Herzliche Grüße," in friendly.text


def _source(**parts: str) -> TemplateSource:
    base = {"subject": "Hi {{ contact_name }}", "text": "{{ total }}", "html": "<p>{{ total }}</p>", "sms": "{{ total }}"}
    return TemplateSource(**{**base, **parts})


def _validate(source: TemplateSource) -> templates.Rendered:
    return templates.validate(source, catalog.sample_contexts("overdue_gentle", "en", "neutral", "Acme"), 4)


def test_an_undefined_variable_is_rejected_naming_it_and_the_part() -> None:
    with pytest.raises(TemplateInvalid) as caught:
        _validate(_source(text="Dear {{ contact_nmae }}"))
    assert caught.value.field == "text" and "contact_nmae" in caught.value.reason


def test_a_syntax_error_is_rejected_with_its_line() -> None:
    with pytest.raises(TemplateInvalid) as caught:
        _validate(_source(html="<p>ok</p>\n{% for inv in invoices %}<p>{{ inv.number }}</p>"))
    assert caught.value.field == "html" and "line" in caught.value.reason


def test_an_unguarded_optional_value_is_rejected() -> None:
    with pytest.raises(TemplateInvalid) as caught:
        _validate(_source(text="Take {{ discount.percent }}% off"))
    assert caught.value.field == "text"


def test_the_sandbox_refuses_reaching_into_python() -> None:
    with pytest.raises(TemplateInvalid) as caught:
        _validate(_source(text="{{ contact_name.__class__.__mro__ }}"))
    assert caught.value.field == "text"


def test_html_escapes_variables_but_text_does_not() -> None:
    context = {**catalog.sample_contexts("overdue_gentle", "en", "neutral", "Acme")[0], "contact_name": "<b>Al & Co</b>"}
    rendered = templates.render(_source(text="{{ contact_name }}", html="{{ contact_name }}"), context)
    assert rendered.text == "<b>Al & Co</b>" and rendered.html == "&lt;b&gt;Al &amp; Co&lt;/b&gt;"


def test_a_long_sms_is_refused_with_its_segment_count() -> None:
    with pytest.raises(SmsTooLong) as caught:
        _validate(_source(sms="{% for i in range(40) %}Please pay {{ total }}. {% endfor %}"))
    assert caught.value.field == "sms" and "segments" in caught.value.reason


def test_overrides_match_the_most_specific_variant() -> None:
    any_tone = catalog.TemplateOverride("due_today", "", "en", "", _source(subject="any"))
    firm = catalog.TemplateOverride("due_today", "firm", "en", "", _source(subject="firm"))
    smb = catalog.TemplateOverride("due_today", "", "en", "smb", _source(subject="smb"))
    overrides = [any_tone, firm, smb]
    assert catalog.choose(overrides, "due_today", "firm", "en", None).subject == "firm"
    assert catalog.choose(overrides, "due_today", "firm", "en", "smb").subject == "smb"
    assert catalog.choose(overrides, "due_today", "friendly", "en", None).subject == "any"
    assert catalog.choose(overrides, "due_today", "friendly", "fr", None) == catalog.default_source("due_today", "fr")


def _one_part(text: str) -> str:
    context = catalog.sample_contexts("overdue_gentle", "en", "friendly", "Acme Supplies")[0]
    return templates.render(TemplateSource("s", text, "<p>h</p>", "sms"), context).text


def test_records_read_as_attributes_or_keys_and_keep_their_dict_methods() -> None:
    # The fast dict path must give what Jinja's own lookup gives: keys, then dict methods.
    assert _one_part("{{ invoices[0].number }}/{{ invoices[0]['number'] }}") == "INV-1043/INV-1043"
    assert _one_part("{{ collector.keys() | sort | join(',') }}") == "email,name,phone,title"
    assert _one_part("{{ collector.get('name') }}") == "Camille Martin"


def test_jinja_globals_and_set_work_in_each_part_without_leaking_between_parts() -> None:
    context = catalog.sample_contexts("overdue_gentle", "en", "friendly", "Acme Supplies")[0]
    source = TemplateSource("{% set n = namespace(c=0) %}{% for i in range(3) %}{% set n.c = n.c + 1 %}"
                            "{% endfor %}{{ n.c }}", "{% set contact_name = 'X' %}{{ contact_name }}",
                            "<p>{{ contact_name }}</p>", "{{ contact_name }}")
    rendered = templates.render(source, context)
    assert rendered.subject == "3" and rendered.text == "X"
    assert rendered.html == f"<p>{context['contact_name']}</p>" and rendered.sms == context["contact_name"]
    assert context["contact_name"] != "X"  # the caller's variables are never written


@pytest.mark.parametrize("text", ["{{ contact_name.__class__ }}", "{{ collector.__class__.__mro__ }}",
                                  "{{ invoices[0].__class__ }}", "{{ (1).__class__.__subclasses__() }}"])
def test_the_sandbox_still_refuses_internals(text: str) -> None:
    with pytest.raises(TemplateInvalid) as caught:
        _one_part(text)
    assert caught.value.field == "text"


def test_an_undefined_key_of_a_record_is_still_an_error_naming_the_part() -> None:
    with pytest.raises(TemplateInvalid, match="undefined|has no attribute") as caught:
        _one_part("{{ collector.fax }}")
    assert caught.value.field == "text"
