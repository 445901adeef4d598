"""French defaults: courtois, clairs, faciles à traiter."""

LABELS = {
    "hello": "Bonjour",
    "number": "Facture", "due": "Échéance", "amount": "Montant dû", "overdue": "Jours de retard",
    "total": "Total dû",
    "portal": "Consultez vos factures, téléchargez les PDF ou payez en ligne",
    "pay": "Payer maintenant",
    "discount": "Réglez avant le {{ discount.pay_by }} et bénéficiez de {{ discount.percent }} % "
                "d'escompte ({{ discount.amount }}).",
    "sign_off": {"friendly": "Bien cordialement", "neutral": "Cordialement",
                 "firm": "Salutations", "final": "Veuillez agréer nos salutations distinguées"},
}

TEXTS = {
    "pre_due_friendly": (
        "Petit rappel amical : {{ invoice_count }} facture(s) bientôt à échéance",
        "Merci pour votre confiance. Nous vous signalons simplement que la ou les factures ci-dessous "
        "arrivent bientôt à échéance, afin que vous ayez tout sous la main pour votre prochain règlement.",
        "Si quelque chose vous semble inexact ou s'il vous manque une copie, répondez simplement à cet "
        "e-mail et nous réglerons cela ensemble.",
        "Bonjour {{ contact_name }}, petit rappel : {{ total }} arrive bientôt à échéance pour "
        "{{ customer_name }}. Détails : {{ portal_url }}",
    ),
    "due_today": (
        "Facture(s) à échéance aujourd'hui : {{ total }}",
        "Nous espérons que tout va bien. La ou les factures ci-dessous arrivent à échéance aujourd'hui. "
        "Si le paiement est déjà en route, merci, et ne tenez pas compte de ce message.",
        "Une question sur une facture ? Répondez-nous, nous serons ravis de vous aider.",
        "Bonjour {{ contact_name }}, {{ total }} pour {{ customer_name }} arrive à échéance aujourd'hui. "
        "Déjà réglé ? Merci ! {{ portal_url }}",
    ),
    "overdue_gentle": (
        "Un point rapide sur {{ invoice_count }} facture(s) en attente",
        "Nous constatons que la ou les factures ci-dessous ont dépassé leur échéance. Cela arrive : "
        "le paiement est-il programmé, ou quelque chose le bloque-t-il ?",
        "En cas de question ou de problème sur une facture, dites-le-nous et nous trouverons une "
        "solution avec vous.",
        "Bonjour {{ contact_name }}, {{ total }} pour {{ customer_name }} est échu. "
        "Pouvons-nous vous aider ? {{ portal_url }}",
    ),
    "overdue_firm": (
        "Paiement en retard : {{ total }} pour {{ customer_name }}",
        "La ou les factures ci-dessous restent impayées, avec jusqu'à {{ max_days_overdue }} jours de "
        "retard. Merci de procéder au règlement ou de nous indiquer quand nous pouvons l'attendre.",
        "Si quelque chose empêche le paiement, répondez à cet e-mail ou proposez une date ou un "
        "échéancier sur le portail : nous trouverons une issue.",
        "{{ contact_name }}, {{ total }} pour {{ customer_name }} est en retard. "
        "Merci de payer ou de proposer une date : {{ portal_url }}",
    ),
    "final_notice": (
        "Dernier rappel : {{ total }} en retard",
        "Malgré nos précédents messages, la ou les factures ci-dessous restent impayées, avec jusqu'à "
        "{{ max_days_overdue }} jours de retard. Nous tenons à notre relation et préférons régler cela "
        "ensemble : merci de payer ou de nous contacter sous 7 jours.",
        "Sans paiement ni nouvelles de votre part d'ici là, nous devrons engager d'autres démarches "
        "de recouvrement.",
        "DERNIER RAPPEL {{ customer_name }} : {{ total }} en retard. Merci de payer ou de nous "
        "contacter sous 7 jours : {{ portal_url }}",
    ),
    "plan_instalment": (
        "Votre prochaine échéance de {{ instalment_amount }} est le {{ instalment_due_date }}",
        "Merci de respecter votre échéancier. La prochaine échéance de {{ instalment_amount }} "
        "est fixée au {{ instalment_due_date }}.",
        "Si cette date vous pose une difficulté, prévenez-nous tôt et nous l'examinerons ensemble.",
        "Bonjour {{ contact_name }}, votre échéance de {{ instalment_amount }} est le "
        "{{ instalment_due_date }}. {{ portal_url }}",
    ),
    "promise_reminder": (
        "Rappel : paiement prévu le {{ promised_date }}",
        "Merci de nous avoir indiqué un paiement le {{ promised_date }}. Voici un court rappel "
        "de la ou des factures concernées.",
        "Si vos plans ont changé, répondez simplement et nous nous adapterons.",
        "Bonjour {{ contact_name }}, rappel de votre paiement de {{ total }} prévu le "
        "{{ promised_date }}. {{ portal_url }}",
    ),
    "broken_promise": (
        "Nous n'avons pas reçu le paiement prévu le {{ promised_date }}",
        "Vous nous aviez annoncé un paiement le {{ promised_date }}, mais nous ne l'avons pas encore "
        "reçu. Pourriez-vous vérifier et nous indiquer une nouvelle date ?",
        "En cas d'imprévu, répondez à cet e-mail et nous trouverons une solution ensemble.",
        "Bonjour {{ contact_name }}, le paiement de {{ total }} prévu le {{ promised_date }} n'est pas "
        "arrivé. Nouvelle date ? {{ portal_url }}",
    ),
    "magic_link": (
        "Votre lien de connexion",
        "Voici votre lien pour vous connecter au portail client. Il ne fonctionne qu'une fois et "
        "expire le {{ expires_at }}.",
        "Si vous n'avez pas demandé ce lien, vous pouvez ignorer cet e-mail.",
        "Votre lien de connexion : {{ link_url }}",
    ),
}
