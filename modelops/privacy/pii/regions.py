"""Which countries' formats the scrubber reads for a tenant: the tenant's own country first, then
the countries its records most often mention (neighbours, shared markets). A tenant with no
country gets every country the platform serves."""
from __future__ import annotations

import functools

# The countries the platform serves, whose national formats are known without a tenant country.
SERVED = ("US", "GB", "DE", "FR", "ES", "NL", "IE", "CA", "AU", "IT", "BE", "AT", "CH", "PT", "NZ", "PL", "LU", "DK")
NEIGHBOURS = {
    "US": ("CA", "MX"), "CA": ("US",), "MX": ("US",),
    "GB": ("IE", "FR"), "IE": ("GB",),
    "DE": ("AT", "CH", "NL", "BE", "LU", "FR", "PL", "DK", "CZ"), "AT": ("DE", "CH", "IT"), "CH": ("DE", "FR", "IT", "AT", "LI"),
    "FR": ("BE", "CH", "LU", "DE", "ES", "IT", "MC"), "BE": ("NL", "FR", "LU", "DE"), "LU": ("BE", "FR", "DE"),
    "ES": ("PT", "FR", "AD"), "PT": ("ES",), "IT": ("CH", "FR", "AT", "SM"),
    "NL": ("BE", "DE"), "DK": ("DE", "SE", "NO"), "SE": ("NO", "DK", "FI"), "NO": ("SE", "DK"), "PL": ("DE", "CZ"),
    "AU": ("NZ",), "NZ": ("AU",),
}


@functools.lru_cache(maxsize=None)
def regions_for(country: str | None) -> tuple[str, ...]:
    """The regions to read phone numbers in, the tenant's first. ValueError for a malformed code."""
    if country is None:
        return SERVED
    code = normalise(country)
    return (code, *NEIGHBOURS.get(code, ()))


def normalise(country: str) -> str:
    if not isinstance(country, str) or len(country.strip()) != 2 or not country.strip().isalpha():
        raise ValueError(f"country must be an ISO 3166-1 alpha-2 code such as DE or US, got {country!r}")
    code = country.strip().upper()
    return "GB" if code == "UK" else code
