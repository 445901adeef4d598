"""Reference data the generator draws from: countries, industries, names.

Phone numbers use ranges reserved for fiction (US 555-01xx, UK 07700 900xxx...) and
e-mail addresses use the reserved ``.example`` top-level domain, so nothing
generated can reach a real person.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    code: str
    currency: str
    time_zone: str
    locale: str
    region: str
    tax_rate: str        # decimal string, applied to the net amount
    phone_prefix: str    # fictional range; three digits (1xx) are appended
    weight: int          # relative share of customers


COUNTRIES: tuple[Country, ...] = (
    Country("US", "USD", "America/New_York", "en-US", "NA-East", "0", "+12025550", 40),
    Country("US", "USD", "America/Chicago", "en-US", "NA-Central", "0", "+13125550", 12),
    Country("US", "USD", "America/Los_Angeles", "en-US", "NA-West", "0", "+12135550", 12),
    Country("CA", "CAD", "America/Toronto", "en-CA", "NA-East", "0.13", "+14165550", 5),
    Country("GB", "GBP", "Europe/London", "en-GB", "EMEA", "0.20", "+447700900", 12),
    Country("DE", "EUR", "Europe/Berlin", "de-DE", "EMEA", "0.19", "+4930555", 8),
    Country("FR", "EUR", "Europe/Paris", "fr-FR", "EMEA", "0.20", "+3319955", 6),
    Country("NL", "EUR", "Europe/Amsterdam", "nl-NL", "EMEA", "0.21", "+3120555", 3),
    Country("IE", "EUR", "Europe/Dublin", "en-IE", "EMEA", "0.23", "+3531555", 2),
    Country("AU", "AUD", "Australia/Sydney", "en-AU", "APAC", "0.10", "+61255500", 3),
)

INDUSTRIES = (
    "manufacturing", "wholesale", "logistics", "software", "construction", "healthcare",
    "retail", "media", "energy", "professional_services",
)

# size -> (share, invoices per month (lo, hi), log-normal mu of the net amount, sigma)
SIZES: dict[str, tuple[int, tuple[int, int], float, float]] = {
    "small": (50, (1, 2), 7.0, 0.6),    # median ~1.1k
    "mid": (35, (2, 4), 8.3, 0.7),      # median ~4k
    "large": (15, (3, 6), 9.6, 0.8),    # median ~15k
}

NAME_FIRST = (
    "Atlas", "Birch", "Cobalt", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Iris", "Juniper",
    "Keystone", "Lumen", "Maple", "Northwind", "Orchid", "Pioneer", "Quarry", "Redwood", "Summit",
    "Tidal", "Umber", "Vantage", "Willow", "Yarrow", "Zenith", "Aurora", "Beacon", "Cedar", "Drift",
)
NAME_SECOND = (
    "Foods", "Freight", "Systems", "Labs", "Supply", "Works", "Health", "Builders", "Media",
    "Energy", "Partners", "Traders", "Components", "Textiles", "Analytics", "Outfitters",
)
NAME_SUFFIX = {"US": "Inc.", "CA": "Ltd.", "GB": "Ltd", "DE": "GmbH", "FR": "SAS", "NL": "B.V.", "IE": "Ltd", "AU": "Pty Ltd"}

GIVEN = (
    "Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn",
    "Priya", "Mateo", "Lena", "Tomás", "Aiko", "Noah", "Elif", "Chloé", "Hannah", "Oskar",
)
FAMILY = (
    "Nguyen", "Smith", "Müller", "Dubois", "Jansen", "Murphy", "Garcia", "Kowalski", "Okafor",
    "Rossi", "Patel", "Schmidt", "Martin", "de Vries", "Kelly", "Brown", "Silva", "Wright",
)

CONTACT_ROLES = ("ap_clerk", "ap_manager", "controller")

COLLECTORS = (
    ("col-1", "Dana Whitfield", "dana.whitfield@rapport-demo.example"),
    ("col-2", "Ravi Menon", "ravi.menon@rapport-demo.example"),
    ("col-3", "Sofia Lindqvist", "sofia.lindqvist@rapport-demo.example"),
)

PAYMENT_METHODS = ("ach", "wire", "card", "check", "sepa_credit_transfer", "bacs")
