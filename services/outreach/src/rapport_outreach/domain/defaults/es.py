"""Spanish defaults: cordiales, claros, fáciles de resolver."""

LABELS = {
    "hello": "Hola",
    "number": "Factura", "due": "Vencimiento", "amount": "Importe pendiente", "overdue": "Días de retraso",
    "total": "Total pendiente",
    "portal": "Consulte sus facturas, descargue los PDF o pague en línea",
    "pay": "Pagar ahora",
    "discount": "Pague antes del {{ discount.pay_by }} y obtenga un {{ discount.percent }} % de descuento "
                "({{ discount.amount }}).",
    "sign_off": {"friendly": "Un cordial saludo", "neutral": "Saludos cordiales",
                 "firm": "Atentamente", "final": "Atentamente"},
}

TEXTS = {
    "pre_due_friendly": (
        "Un recordatorio amable: {{ invoice_count }} factura(s) vencen pronto",
        "Gracias por confiar en nosotros. Solo queríamos avisarle de que la(s) factura(s) siguiente(s) "
        "vencen en breve, para que lo tenga todo a mano en su próximo ciclo de pagos.",
        "Si algo no cuadra o necesita una copia, responda a este correo y lo resolveremos juntos.",
        "Hola {{ contact_name }}, un recordatorio amable: {{ total }} de {{ customer_name }} vence pronto. "
        "Detalles: {{ portal_url }}",
    ),
    "due_today": (
        "Factura(s) con vencimiento hoy: {{ total }}",
        "Esperamos que todo vaya bien. La(s) factura(s) siguiente(s) vencen hoy. Si el pago ya está en "
        "camino, muchas gracias y no tenga en cuenta este mensaje.",
        "¿Alguna pregunta sobre una factura? Responda y le ayudaremos con gusto.",
        "Hola {{ contact_name }}, {{ total }} de {{ customer_name }} vence hoy. "
        "¿Ya pagado? ¡Gracias! {{ portal_url }}",
    ),
    "overdue_gentle": (
        "Una consulta rápida sobre {{ invoice_count }} factura(s) pendiente(s)",
        "Hemos visto que la(s) factura(s) siguiente(s) han superado su fecha de vencimiento. Son cosas "
        "que pasan: ¿está ya programado el pago o hay algo que lo esté frenando?",
        "Si hay alguna duda o problema con una factura, díganoslo y lo resolveremos con usted.",
        "Hola {{ contact_name }}, {{ total }} de {{ customer_name }} está vencido. "
        "¿Podemos ayudarle? {{ portal_url }}",
    ),
    "overdue_firm": (
        "Pago vencido: {{ total }} de {{ customer_name }}",
        "La(s) factura(s) siguiente(s) siguen sin pagar, con hasta {{ max_days_overdue }} días de retraso. "
        "Le rogamos que realice el pago o nos indique cuándo podemos esperarlo.",
        "Si algo impide el pago, responda a este correo o proponga una fecha o un plan de pagos en el "
        "portal y encontraremos una salida.",
        "{{ contact_name }}, {{ total }} de {{ customer_name }} está vencido. "
        "Pague o proponga una fecha: {{ portal_url }}",
    ),
    "final_notice": (
        "Último aviso: {{ total }} vencido",
        "A pesar de nuestros mensajes anteriores, la(s) factura(s) siguiente(s) siguen sin pagar, con "
        "hasta {{ max_days_overdue }} días de retraso. Valoramos nuestra relación y preferimos resolverlo "
        "juntos: le rogamos que pague o se ponga en contacto con nosotros en los próximos 7 días.",
        "Si para entonces no recibimos el pago ni noticias suyas, tendremos que iniciar otras gestiones "
        "de cobro.",
        "ÚLTIMO AVISO {{ customer_name }}: {{ total }} vencido. Pague o contáctenos en 7 días: "
        "{{ portal_url }}",
    ),
    "plan_instalment": (
        "Su próxima cuota de {{ instalment_amount }} vence el {{ instalment_due_date }}",
        "Gracias por cumplir con su plan de pagos. La próxima cuota de {{ instalment_amount }} "
        "vence el {{ instalment_due_date }}.",
        "Si prevé alguna dificultad con esta fecha, avísenos con tiempo y lo veremos juntos.",
        "Hola {{ contact_name }}, su cuota de {{ instalment_amount }} vence el {{ instalment_due_date }}. "
        "{{ portal_url }}",
    ),
    "promise_reminder": (
        "Recordatorio: pago comprometido para el {{ promised_date }}",
        "Gracias por indicarnos que pagará el {{ promised_date }}. Le recordamos brevemente la(s) "
        "factura(s) correspondiente(s).",
        "Si sus planes han cambiado, responda y nos adaptaremos.",
        "Hola {{ contact_name }}, le recordamos su pago de {{ total }} previsto para el "
        "{{ promised_date }}. {{ portal_url }}",
    ),
    "broken_promise": (
        "No hemos recibido el pago previsto para el {{ promised_date }}",
        "Nos indicó que el pago llegaría el {{ promised_date }}, pero todavía no lo hemos recibido. "
        "¿Podría comprobarlo y darnos una nueva fecha?",
        "Si ha surgido algún imprevisto, responda a este correo y buscaremos una solución juntos.",
        "Hola {{ contact_name }}, el pago de {{ total }} previsto para el {{ promised_date }} no ha "
        "llegado. ¿Nueva fecha? {{ portal_url }}",
    ),
    "magic_link": (
        "Su enlace de acceso",
        "Aquí tiene su enlace para acceder al portal de clientes. Funciona una sola vez y caduca el "
        "{{ expires_at }}.",
        "Si no ha solicitado este enlace, puede ignorar este correo.",
        "Su enlace de acceso: {{ link_url }}",
    ),
}
