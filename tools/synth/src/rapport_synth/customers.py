"""Customers and their accounts-payable contacts."""
from __future__ import annotations

import random
import unicodedata

from rapport_synth.model import Behaviour, Collector, Contact, Customer
from rapport_synth.world import (
    COLLECTORS, CONTACT_ROLES, COUNTRIES, FAMILY, GIVEN, INDUSTRIES, NAME_FIRST, NAME_SECOND, NAME_SUFFIX,
    SIZES, Country,
)

BEHAVIOUR_WEIGHTS: dict[Behaviour, int] = {
    Behaviour.PROMPT: 35,
    Behaviour.HABITUAL_LATE: 20,
    Behaviour.CHRONIC_LATE: 10,
    Behaviour.ONE_TIME_SLIP: 15,
    Behaviour.DISPUTER: 10,
    Behaviour.PARTIAL: 10,
}
TERMS_WEIGHTS = {15: 10, 30: 55, 45: 20, 60: 15}


def behaviours(rng: random.Random, count: int) -> list[Behaviour]:
    """Every behaviour at least once (when there is room), the rest by weight."""
    every = list(Behaviour)
    rng.shuffle(every)
    head = every[:count]
    tail = rng.choices(list(BEHAVIOUR_WEIGHTS), weights=list(BEHAVIOUR_WEIGHTS.values()), k=max(0, count - len(every)))
    mixed = head + tail
    rng.shuffle(mixed)
    return mixed


def make_customers(rng: random.Random, count: int) -> list[Customer]:
    taken: set[str] = set()
    return [_customer(rng, n, behaviour, taken) for n, behaviour in enumerate(behaviours(rng, count), start=1)]


def _customer(rng: random.Random, n: int, behaviour: Behaviour, taken: set[str]) -> Customer:
    country = rng.choices(COUNTRIES, weights=[c.weight for c in COUNTRIES])[0]
    size = rng.choices(list(SIZES), weights=[s[0] for s in SIZES.values()])[0]
    name = _company_name(rng, country, taken)
    external_id = f"CUST-{n:04d}"
    collector = Collector(*COLLECTORS[(n - 1) % len(COLLECTORS)])
    customer = Customer(
        external_id=external_id, name=name, behaviour=behaviour, currency=_currency(rng, country),
        country=country.code, time_zone=country.time_zone, locale=country.locale,
        payment_terms_days=rng.choices(list(TERMS_WEIGHTS), weights=list(TERMS_WEIGHTS.values()))[0],
        size=size, industry=rng.choice(INDUSTRIES), region=country.region,
        tags=_tags(rng, size), collector=collector,
    )
    customer.contacts = _contacts(rng, customer, country)
    return customer


def _company_name(rng: random.Random, country: Country, taken: set[str]) -> str:
    while True:
        base = f"{rng.choice(NAME_FIRST)} {rng.choice(NAME_SECOND)}"
        if base not in taken:
            taken.add(base)
            return f"{base} {NAME_SUFFIX[country.code]}"
        if len(taken) >= len(NAME_FIRST) * len(NAME_SECOND):
            base = f"{base} {len(taken)}"
            taken.add(base)
            return f"{base} {NAME_SUFFIX[country.code]}"


def _currency(rng: random.Random, country: Country) -> str:
    # A few North American customers are billed in EUR or GBP (European subsidiaries' contracts).
    if country.currency in ("USD", "CAD") and rng.random() < 0.06:
        return rng.choice(("EUR", "GBP"))
    return country.currency


def _tags(rng: random.Random, size: str) -> list[str]:
    tags = ["key-account"] if size == "large" and rng.random() < 0.5 else []
    if rng.random() < 0.15:
        tags.append("reseller")
    if rng.random() < 0.1:
        tags.append("public-sector")
    return tags


def _contacts(rng: random.Random, customer: Customer, country: Country) -> list[Contact]:
    count = {"small": 1, "mid": 2, "large": 3}[customer.size]
    domain = _slug(customer.name.rsplit(" ", 1)[0]) + ".example"
    contacts = []
    for i, role in enumerate(CONTACT_ROLES[:count]):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        contacts.append(Contact(
            external_id=f"{customer.external_id}-C{i + 1}",
            name=f"{given} {family}",
            email=f"{_slug(given)}.{_slug(family)}@{domain}" if i else f"ap@{domain}",
            phone=f"{country.phone_prefix}{rng.randrange(100, 200)}",
            role=role,
            preferred_channel=rng.choices(("email", "sms", "call"), weights=(80, 12, 8))[0],
            locale=customer.locale, time_zone=customer.time_zone, is_primary=i == 0,
        ))
    return contacts


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower().replace(" ", "-") if ch.isalnum() or ch == "-").strip("-")
