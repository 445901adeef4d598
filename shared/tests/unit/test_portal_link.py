from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest

from rapport_shared.contracts.portal_link import InvalidPortalToken, mint, verify

NOW = datetime(2026, 3, 1, tzinfo=timezone.utc)


def test_token_round_trips_with_a_fresh_nonce():
    ids = uuid4(), uuid4(), uuid4()
    a = mint("s3cret", *ids, NOW + timedelta(days=7))
    b = mint("s3cret", *ids, NOW + timedelta(days=7))
    claims = verify("s3cret", a, NOW)
    assert (claims.tenant_id, claims.customer_id, claims.contact_id) == ids
    assert claims.nonce != verify("s3cret", b, NOW).nonce


@pytest.mark.parametrize("mutate, reason", [
    (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), "bad signature"),
    (lambda t: "x" + t, "bad signature"),
    (lambda t: "nodot", "malformed"),
])
def test_forged_or_broken_tokens_are_refused(mutate, reason):
    token = mint("s3cret", uuid4(), uuid4(), uuid4(), NOW + timedelta(days=1))
    with pytest.raises(InvalidPortalToken, match=reason):
        verify("s3cret", mutate(token), NOW)


def test_other_secret_and_expiry_are_refused():
    token = mint("s3cret", uuid4(), uuid4(), uuid4(), NOW + timedelta(hours=1))
    with pytest.raises(InvalidPortalToken, match="bad signature"):
        verify("other", token, NOW)
    with pytest.raises(InvalidPortalToken, match="expired"):
        verify("s3cret", token, NOW + timedelta(hours=2))
