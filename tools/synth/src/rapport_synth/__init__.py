"""Synthetic company generator for Rapport: deterministic by seed.

``generate_company(seed=7, customers=50, months=6, today=date(...))`` returns a
:class:`Company` (plain dataclasses); :mod:`rapport_synth.export` turns it into the
ingest API's request bodies and NDJSON/CSV files; :mod:`rapport_synth.loader`
posts it to a running ingest API.
"""
from rapport_synth.generator import generate_company
from rapport_synth.model import (
    Allocation, Behaviour, Collector, Company, Contact, Customer, Invoice, Payment,
)

__all__ = [
    "Allocation", "Behaviour", "Collector", "Company", "Contact", "Customer", "Invoice", "Payment",
    "generate_company",
]
