"""English defaults: relationship first, clear about what is due, easy to act on."""

LABELS = {
    "hello": "Hello",
    "number": "Invoice", "due": "Due date", "amount": "Amount open", "overdue": "Days overdue",
    "total": "Total open",
    "portal": "See your invoices, download PDFs or pay online",
    "pay": "Pay now",
    "discount": "Pay by {{ discount.pay_by }} and take {{ discount.percent }}% off ({{ discount.amount }}).",
    "sign_off": {"friendly": "Warm regards", "neutral": "Kind regards", "firm": "Regards", "final": "Sincerely"},
}

TEXTS = {
    "pre_due_friendly": (
        "A friendly heads-up: {{ invoice_count }} invoice(s) due soon",
        "Thank you for working with us. Just a friendly note that the invoice(s) below will fall due "
        "shortly, so you have everything at hand for your next payment run.",
        "If anything looks off or you need a copy, simply reply to this email and we will sort it out together.",
        "Hi {{ contact_name }}, a friendly reminder that {{ total }} is due soon for {{ customer_name }}. "
        "Details: {{ portal_url }}",
    ),
    "due_today": (
        "Invoice(s) due today: {{ total }}",
        "We hope all is well. The invoice(s) below are due today. If the payment is already on its way, "
        "thank you, and please ignore this note.",
        "Questions about an invoice? Just reply; we are happy to help.",
        "Hi {{ contact_name }}, {{ total }} for {{ customer_name }} is due today. "
        "If already paid, thank you! {{ portal_url }}",
    ),
    "overdue_gentle": (
        "A quick check on {{ invoice_count }} open invoice(s)",
        "We noticed the invoice(s) below are now past their due date. These things happen, so we "
        "wanted to check in: has the payment been scheduled, or is there anything holding it up?",
        "If there is a question or a problem with an invoice, let us know and we will work it out with you.",
        "Hi {{ contact_name }}, {{ total }} for {{ customer_name }} is now past due. "
        "Anything we can help with? {{ portal_url }}",
    ),
    "overdue_firm": (
        "Payment overdue: {{ total }} for {{ customer_name }}",
        "The invoice(s) below remain unpaid, now up to {{ max_days_overdue }} days past due. "
        "Please arrange payment, or tell us when we can expect it.",
        "If something prevents payment, reply to this email or propose a date or a payment plan "
        "through the portal, and we will find a way forward.",
        "{{ contact_name }}, {{ total }} for {{ customer_name }} is overdue. "
        "Please pay or propose a date: {{ portal_url }}",
    ),
    "final_notice": (
        "Final notice: {{ total }} overdue",
        "Despite our earlier messages, the invoice(s) below are still unpaid, up to "
        "{{ max_days_overdue }} days past due. We value our relationship and would much rather settle "
        "this together, so please pay or contact us within the next 7 days.",
        "Without payment or a word from you by then, we will have to take further steps to recover the amount.",
        "FINAL NOTICE {{ customer_name }}: {{ total }} overdue. Please pay or contact us within 7 days: "
        "{{ portal_url }}",
    ),
    "plan_instalment": (
        "Your next instalment of {{ instalment_amount }} is due {{ instalment_due_date }}",
        "Thank you for keeping to your payment plan. The next instalment of {{ instalment_amount }} "
        "is due on {{ instalment_due_date }}.",
        "If you expect any difficulty with this date, tell us early and we will look at it together.",
        "Hi {{ contact_name }}, your instalment of {{ instalment_amount }} is due {{ instalment_due_date }}. "
        "{{ portal_url }}",
    ),
    "promise_reminder": (
        "Reminder: payment promised for {{ promised_date }}",
        "Thank you for letting us know you plan to pay on {{ promised_date }}. Here is a short "
        "reminder of the invoice(s) concerned.",
        "If your plans have changed, just reply and we will adjust.",
        "Hi {{ contact_name }}, a reminder of your payment of {{ total }} promised for {{ promised_date }}. "
        "{{ portal_url }}",
    ),
    "broken_promise": (
        "We have not received the payment promised for {{ promised_date }}",
        "You let us know a payment would arrive on {{ promised_date }}, but we have not received it yet. "
        "Could you check on it and let us know a new date?",
        "If something has come up, reply to this email and we will find a solution together.",
        "Hi {{ contact_name }}, the payment of {{ total }} promised for {{ promised_date }} has not "
        "arrived. New date? {{ portal_url }}",
    ),
    "magic_link": (
        "Your sign-in link",
        "Here is your link to sign in to the customer portal. It works once and expires on {{ expires_at }}.",
        "If you did not ask for this link, you can safely ignore this email.",
        "Your sign-in link: {{ link_url }}",
    ),
}
