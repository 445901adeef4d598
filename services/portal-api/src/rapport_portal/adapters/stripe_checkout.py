"""Stripe Checkout through the official SDK; ``api_base`` can point at a local fake in tests."""
from __future__ import annotations

import stripe

from rapport_portal.domain.errors import PaymentProviderError
from rapport_portal.domain.checkout import CheckoutRequest, CheckoutSession


class StripeCheckout:
    def __init__(self, api_key: str, api_base: str | None = None, timeout_s: float = 15.0) -> None:
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=stripe.HTTPXClient(timeout=timeout_s),
            max_network_retries=2,
        )

    @staticmethod
    def params(request: CheckoutRequest) -> dict:
        """The session to create; metadata lets ingest's webhook link the payment back to the invoices."""
        metadata = {
            "rapport_tenant_id": str(request.tenant_id),
            "rapport_customer_id": str(request.customer_id),
            "rapport_invoice_ids": ",".join(str(i) for i in request.invoice_ids),
            "rapport_request_id": str(request.request_id),
        }
        params: dict = {
            "mode": "payment",
            "line_items": [
                {"quantity": 1, "price_data": {"currency": request.currency.lower(), "unit_amount": amount,
                                               "product_data": {"name": label}}}
                for label, amount in request.lines
            ],
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "client_reference_id": str(request.request_id),
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
        }
        if request.customer_email:
            params["customer_email"] = request.customer_email
        return params

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        try:
            session = await self._client.v1.checkout.sessions.create_async(
                self.params(request), {"idempotency_key": f"rapport-portal-{request.request_id}"})
        except stripe.StripeError as exc:
            raise PaymentProviderError(f"the payment processor refused: {exc.user_message or type(exc).__name__}") from None
        return CheckoutSession(id=session.id, url=session.url)
