"""German defaults: freundlich, klar, leicht zu erledigen."""

LABELS = {
    "hello": "Guten Tag",
    "number": "Rechnung", "due": "Fällig am", "amount": "Offener Betrag", "overdue": "Tage überfällig",
    "total": "Offen gesamt",
    "portal": "Rechnungen ansehen, PDFs herunterladen oder online bezahlen",
    "pay": "Jetzt bezahlen",
    "discount": "Bei Zahlung bis {{ discount.pay_by }} gewähren wir {{ discount.percent }} % Skonto "
                "({{ discount.amount }}).",
    "sign_off": {"friendly": "Herzliche Grüße", "neutral": "Freundliche Grüße",
                 "firm": "Mit freundlichen Grüßen", "final": "Hochachtungsvoll"},
}

TEXTS = {
    "pre_due_friendly": (
        "Freundlicher Hinweis: {{ invoice_count }} Rechnung(en) bald fällig",
        "Vielen Dank für die gute Zusammenarbeit. Nur ein kurzer Hinweis, dass die folgende(n) "
        "Rechnung(en) bald fällig werden, damit Sie für Ihren nächsten Zahlungslauf alles zur Hand haben.",
        "Falls etwas nicht stimmt oder Sie eine Kopie brauchen, antworten Sie einfach auf diese E-Mail; "
        "wir klären das gemeinsam.",
        "Guten Tag {{ contact_name }}, kurzer Hinweis: {{ total }} für {{ customer_name }} wird bald "
        "fällig. Details: {{ portal_url }}",
    ),
    "due_today": (
        "Heute fällig: {{ total }}",
        "Wir hoffen, es geht Ihnen gut. Die folgende(n) Rechnung(en) sind heute fällig. Falls die "
        "Zahlung bereits unterwegs ist: vielen Dank, dann betrachten Sie diese Nachricht als erledigt.",
        "Fragen zu einer Rechnung? Antworten Sie einfach, wir helfen gern.",
        "Guten Tag {{ contact_name }}, {{ total }} für {{ customer_name }} ist heute fällig. "
        "Schon bezahlt? Danke! {{ portal_url }}",
    ),
    "overdue_gentle": (
        "Kurze Nachfrage zu {{ invoice_count }} offenen Rechnung(en)",
        "Uns ist aufgefallen, dass die folgende(n) Rechnung(en) das Fälligkeitsdatum überschritten haben. "
        "Das kann passieren. Ist die Zahlung schon eingeplant, oder gibt es etwas, das sie aufhält?",
        "Wenn es eine Frage oder ein Problem mit einer Rechnung gibt, sagen Sie uns Bescheid; wir finden "
        "gemeinsam eine Lösung.",
        "Guten Tag {{ contact_name }}, {{ total }} für {{ customer_name }} ist überfällig. "
        "Können wir helfen? {{ portal_url }}",
    ),
    "overdue_firm": (
        "Zahlung überfällig: {{ total }} für {{ customer_name }}",
        "Die folgende(n) Rechnung(en) sind weiterhin offen, bis zu {{ max_days_overdue }} Tage "
        "überfällig. Bitte veranlassen Sie die Zahlung oder teilen Sie uns mit, wann wir damit rechnen können.",
        "Falls etwas die Zahlung verhindert, antworten Sie auf diese E-Mail oder schlagen Sie im Portal "
        "einen Termin oder eine Ratenzahlung vor.",
        "{{ contact_name }}, {{ total }} für {{ customer_name }} ist überfällig. "
        "Bitte zahlen oder Termin nennen: {{ portal_url }}",
    ),
    "final_notice": (
        "Letzte Mahnung: {{ total }} überfällig",
        "Trotz unserer bisherigen Nachrichten sind die folgende(n) Rechnung(en) noch offen, bis zu "
        "{{ max_days_overdue }} Tage überfällig. Uns liegt an einer guten Geschäftsbeziehung, daher "
        "bitten wir Sie, innerhalb von 7 Tagen zu zahlen oder uns zu kontaktieren.",
        "Ohne Zahlung oder Rückmeldung bis dahin müssen wir weitere Schritte zur Beitreibung einleiten.",
        "LETZTE MAHNUNG {{ customer_name }}: {{ total }} überfällig. Bitte innerhalb von 7 Tagen zahlen "
        "oder melden: {{ portal_url }}",
    ),
    "plan_instalment": (
        "Ihre nächste Rate über {{ instalment_amount }} ist am {{ instalment_due_date }} fällig",
        "Vielen Dank, dass Sie Ihren Ratenplan einhalten. Die nächste Rate über {{ instalment_amount }} "
        "ist am {{ instalment_due_date }} fällig.",
        "Falls dieser Termin schwierig wird, sagen Sie uns früh Bescheid; wir schauen gemeinsam darauf.",
        "Guten Tag {{ contact_name }}, Ihre Rate über {{ instalment_amount }} ist am "
        "{{ instalment_due_date }} fällig. {{ portal_url }}",
    ),
    "promise_reminder": (
        "Erinnerung: Zahlung zugesagt für {{ promised_date }}",
        "Danke für Ihre Zusage, am {{ promised_date }} zu zahlen. Hier eine kurze Erinnerung an die "
        "betroffene(n) Rechnung(en).",
        "Falls sich Ihre Planung geändert hat, antworten Sie einfach; wir passen uns an.",
        "Guten Tag {{ contact_name }}, Erinnerung an Ihre Zahlung über {{ total }}, zugesagt für "
        "{{ promised_date }}. {{ portal_url }}",
    ),
    "broken_promise": (
        "Die für {{ promised_date }} zugesagte Zahlung ist nicht eingegangen",
        "Sie hatten uns eine Zahlung zum {{ promised_date }} angekündigt, sie ist bei uns aber noch "
        "nicht eingegangen. Könnten Sie das prüfen und uns einen neuen Termin nennen?",
        "Falls etwas dazwischengekommen ist, antworten Sie auf diese E-Mail; wir finden gemeinsam eine Lösung.",
        "Guten Tag {{ contact_name }}, die für {{ promised_date }} zugesagte Zahlung über {{ total }} "
        "fehlt noch. Neuer Termin? {{ portal_url }}",
    ),
    "magic_link": (
        "Ihr Anmeldelink",
        "Hier ist Ihr Link zur Anmeldung im Kundenportal. Er funktioniert einmal und läuft am "
        "{{ expires_at }} ab.",
        "Wenn Sie diesen Link nicht angefordert haben, können Sie diese E-Mail ignorieren.",
        "Ihr Anmeldelink: {{ link_url }}",
    ),
}
