"""Country names for the access package, in English and Finnish (others: the ISO code)."""

from __future__ import annotations

from projections.export.words import Lang

COUNTRIES: dict[Lang, dict[str, str]] = {
    "en": {
        "FI": "Finland",
        "AX": "Åland",
        "SE": "Sweden",
        "NO": "Norway",
        "DK": "Denmark",
        "IS": "Iceland",
        "EE": "Estonia",
        "DE": "Germany",
        "IE": "Ireland",
        "NL": "Netherlands",
        "FR": "France",
        "BE": "Belgium",
        "LU": "Luxembourg",
        "PL": "Poland",
        "ES": "Spain",
        "IT": "Italy",
        "AT": "Austria",
        "US": "United States",
        "GB": "United Kingdom",
        "CH": "Switzerland",
        "CA": "Canada",
        "JP": "Japan",
        "IN": "India",
    },
    "fi": {
        "FI": "Suomi",
        "AX": "Ahvenanmaa",
        "SE": "Ruotsi",
        "NO": "Norja",
        "DK": "Tanska",
        "IS": "Islanti",
        "EE": "Viro",
        "DE": "Saksa",
        "IE": "Irlanti",
        "NL": "Alankomaat",
        "FR": "Ranska",
        "BE": "Belgia",
        "LU": "Luxemburg",
        "PL": "Puola",
        "ES": "Espanja",
        "IT": "Italia",
        "AT": "Itävalta",
        "US": "Yhdysvallat",
        "GB": "Yhdistynyt kuningaskunta",
        "CH": "Sveitsi",
        "CA": "Kanada",
        "JP": "Japani",
        "IN": "Intia",
    },
}
"""Names of the countries recipients are most often in; others show their ISO code."""

OUTSIDE_EEA: dict[Lang, str] = {"en": "outside the EU/EEA", "fi": "EU:n ja ETA:n ulkopuolella"}


def country(lang: Lang, code: str, *, outside_eea: bool) -> str:
    """A country's name, and whether it lies outside the EU/EEA."""
    name = COUNTRIES[lang].get(code, code)
    return f"{name} ({OUTSIDE_EEA[lang]})" if outside_eea else name
