"""Turns a locale's short texts into complete plain-text and HTML email sources."""
from __future__ import annotations

from types import ModuleType

from rapport_outreach.domain.templates import TemplateSource

_TEXT_TABLE = (
    "{{% for inv in invoices %}}- {L_number} {{{{ inv.number }}}} | {L_due} {{{{ inv.due_date }}}} | "
    "{L_amount} {{{{ inv.amount }}}}{{% if inv.days_overdue > 0 %}} | {L_overdue} {{{{ inv.days_overdue }}}}"
    "{{% endif %}}\n{{% endfor %}}{L_total}: {{{{ totals | join(', ') }}}}\n"
)
_HTML_TABLE = (
    '<table role="presentation" cellpadding="6" style="border-collapse:collapse;margin:16px 0">'
    "<tr><th align=left>{L_number}</th><th align=left>{L_due}</th><th align=right>{L_amount}</th>"
    "<th align=right>{L_overdue}</th></tr>{{% for inv in invoices %}}<tr><td>{{{{ inv.number }}}}</td>"
    "<td>{{{{ inv.due_date }}}}</td><td align=right>{{{{ inv.amount }}}}</td>"
    "<td align=right>{{{{ inv.days_overdue if inv.days_overdue > 0 else '' }}}}</td></tr>{{% endfor %}}"
    "<tr><td colspan=2><strong>{L_total}</strong></td><td align=right colspan=2>"
    "<strong>{{{{ totals | join(', ') }}}}</strong></td></tr></table>\n"
)
_SIGNATURE_TEXT = (
    "{{{{ sign_off }}}},\n{{{{ collector.name }}}}{{% if collector.title %}}, {{{{ collector.title }}}}{{% endif %}}"
    "\n{{{{ company_name }}}}{{% if collector.email %}}\n{{{{ collector.email }}}}{{% endif %}}"
    "{{% if collector.phone %}}\n{{{{ collector.phone }}}}{{% endif %}}\n"
)


def build(locale: ModuleType, key: str) -> TemplateSource:
    subject, opening, closing, sms = locale.TEXTS[key]
    labels = {f"L_{k}": v for k, v in locale.LABELS.items() if isinstance(v, str)}
    greeting = f"{locale.LABELS['hello']} {{{{ contact_name }}}},"
    if key == "magic_link":
        text = f"{greeting}\n\n{opening}\n\n{{{{ link_url }}}}\n\n{closing}\n\n{{{{ company_name }}}}\n"
        html = (f"<p>{greeting}</p><p>{opening}</p><p><a href=\"{{{{ link_url }}}}\">{{{{ link_url }}}}</a></p>"
                f"<p>{closing}</p><p>{{{{ company_name }}}}</p>")
        return TemplateSource(subject=subject, text=text, html=_wrap(html), sms=sms)
    links_text = f"{labels['L_portal']}: {{{{ portal_url }}}}\n{labels['L_pay']}: {{{{ pay_url }}}}\n"
    discount = f"{{% if discount %}}{locale.LABELS['discount']}\n\n{{% endif %}}"
    text = (f"{greeting}\n\n{opening}\n\n{_TEXT_TABLE.format(**labels)}\n{discount}{links_text}\n"
            f"{closing}\n\n{_SIGNATURE_TEXT.format()}")
    html = (f"<p>{greeting}</p><p>{opening}</p>{_HTML_TABLE.format(**labels)}"
            f"{{% if discount %}}<p>{locale.LABELS['discount']}</p>{{% endif %}}"
            f"<p><a href=\"{{{{ pay_url }}}}\">{labels['L_pay']}</a> &middot; "
            f"<a href=\"{{{{ portal_url }}}}\">{labels['L_portal']}</a></p><p>{closing}</p>"
            f"<p>{{{{ sign_off }}}},<br>{{{{ collector.name }}}}{{% if collector.title %}}, "
            f"{{{{ collector.title }}}}{{% endif %}}<br>{{{{ company_name }}}}"
            f"{{% if collector.email %}}<br>{{{{ collector.email }}}}{{% endif %}}"
            f"{{% if collector.phone %}}<br>{{{{ collector.phone }}}}{{% endif %}}</p>")
    return TemplateSource(subject=subject, text=text, html=_wrap(html), sms=sms)


def _wrap(body: str) -> str:
    return ("<!doctype html><html><body style=\"font-family:Arial,sans-serif;font-size:15px;"
            f"line-height:1.5;color:#222\">{body}</body></html>")
