"""The access package's fixed words in English and Finnish (headings, bases, roles, ...).

The register's own words (labels, descriptions, statements) come from the register
definition; these are the words around them. Finnish follows the GDPR's Finnish text
(tietosuoja-asetus) and the seed notice.
"""

from __future__ import annotations

from projections.export.words import Lang, id_words

TEXT: dict[Lang, dict[str, str]] = {
    "en": {
        "title": "Personal data held about {name}",
        "title_neutral": "Personal data held about you",
        "intro": "This is a copy of the personal data held about you, with what it is used"
        " for, where it came from, who receives it and how long it is kept (GDPR Art. 15)."
        " Register: {register}.",
        "reference": "Your customer reference: {ref}.",
        "notice": "Privacy notice version {version}, in force since {since}.",
        "generated": "Prepared on {at}.",
        "zone": "Times are local time in the time zone {zone}.",
        "contents": "Contents",
        "data": "Your data",
        "field": "Information",
        "value": "Value",
        "from": "Where it came from",
        "since": "Recorded",
        "erased_value": "(erased)",
        "erased": "Erased data (its keys were destroyed): {categories}.",
        "no_data": "We hold no values about you.",
        "sources": "Where your data came from",
        "source": "Source",
        "categories": "Data",
        "first": "First received",
        "last": "Last received",
        "no_sources": "No data about you has been received from any source.",
        "purposes": "Purposes and legal bases",
        "purpose": "Purpose",
        "allowed": "May rest on",
        "over_time": "Legal basis over time",
        "lawful_now": "Used now",
        "none": "none",
        "yes": "yes",
        "no": "no",
        "now": "now",
        "consents": "Consents and objections",
        "given_through": "Given through",
        "notice_version": "Notice version",
        "given": "Given",
        "withdrawn": "Withdrawn",
        "objection": "Objection to",
        "made": "Made",
        "contract": "Contract",
        "with": "With",
        "started": "Started",
        "ended": "Ended",
        "recipients": "Recipients and disclosures",
        "recipient": "Recipient",
        "role": "Role",
        "country": "Country",
        "received": "Received your data",
        "when": "When",
        "transfers": "Transfers outside the EU/EEA",
        "safeguard": "Safeguard",
        "no_transfers": "The register names no recipient outside the EU/EEA.",
        "transfers_intro": "These recipients are outside the European Union and the"
        " European Economic Area; the safeguard says what protects your data there.",
        "processing": "How we used your data",
        "what": "What was done",
        "controller": "Controller",
        "retention": "How long your data is kept",
        "how_long": "How long",
        "legal_reference": "Legal reference",
        "rule": "Rule",
        "automated": "Automated decision-making",
        "profiling": "Profiling",
        "logic": "How it works",
        "consequences": "What it means for you",
        "decisions": "Decisions made about you",
        "no_decisions": "No automated decision has been made about you.",
        "decision_logic": "Logic involved",
        "recorded_logic": "Decided by {logic}; the register describes this logic no further.",
        "controllers": "Controllers and contact",
        "business_id": "Business ID",
        "address": "Address",
        "phone": "Phone",
        "privacy_contact": "Privacy contact: {email}",
        "rights": "Your rights",
        "empty": "-",
    },
    "fi": {
        "title": "Sinusta tallennetut henkilötiedot \N{EN DASH} {name}",
        "title_neutral": "Sinusta tallennetut henkilötiedot",
        "intro": "Tämä on jäljennös sinusta tallennetuista henkilötiedoista sekä tiedot siitä,"
        " mihin niitä käytetään, mistä ne on saatu, kenelle niitä luovutetaan ja kuinka kauan"
        " niitä säilytetään (tietosuoja-asetuksen 15 artikla). Rekisteri: {register}.",
        "reference": "Asiakastunnuksesi: {ref}.",
        "notice": "Tietosuojaselosteen versio {version}, voimassa {since} alkaen.",
        "generated": "Laadittu {at}.",
        "zone": "Ajat ovat paikallista aikaa aikavyöhykkeellä {zone}.",
        "contents": "Sisältö",
        "data": "Tietosi",
        "field": "Tieto",
        "value": "Arvo",
        "from": "Mistä saatu",
        "since": "Tallennettu",
        "erased_value": "(poistettu)",
        "erased": "Poistetut tiedot (niiden avaimet on hävitetty): {categories}.",
        "no_data": "Sinusta ei ole tallennettu tietoja.",
        "sources": "Mistä tietosi on saatu",
        "source": "Tietolähde",
        "categories": "Tiedot",
        "first": "Ensimmäisen kerran",
        "last": "Viimeksi",
        "no_sources": "Sinusta ei ole saatu tietoja mistään lähteestä.",
        "purposes": "Käyttötarkoitukset ja käsittelyperusteet",
        "purpose": "Käyttötarkoitus",
        "allowed": "Voi perustua",
        "over_time": "Käsittelyperuste ajan mittaan",
        "lawful_now": "Käytössä nyt",
        "none": "ei mitään",
        "yes": "kyllä",
        "no": "ei",
        "now": "nyt",
        "consents": "Suostumukset ja vastustamiset",
        "given_through": "Annettu",
        "notice_version": "Selosteen versio",
        "given": "Annettu",
        "withdrawn": "Peruutettu",
        "objection": "Vastustettu käsittely",
        "made": "Tehty",
        "contract": "Sopimus",
        "with": "Sopimuskumppani",
        "started": "Alkanut",
        "ended": "Päättynyt",
        "recipients": "Vastaanottajat ja luovutukset",
        "recipient": "Vastaanottaja",
        "role": "Rooli",
        "country": "Maa",
        "received": "Saanut tietojasi",
        "when": "Milloin",
        "transfers": "Siirrot EU:n tai ETA:n ulkopuolelle",
        "safeguard": "Suojatoimi",
        "no_transfers": "Rekisterissä ei ole vastaanottajia EU:n tai ETA:n ulkopuolella.",
        "transfers_intro": "Nämä vastaanottajat ovat Euroopan unionin ja Euroopan"
        " talousalueen ulkopuolella; suojatoimi kertoo, mikä suojaa tietojasi siellä.",
        "processing": "Miten tietojasi on käytetty",
        "what": "Mitä tehtiin",
        "controller": "Rekisterinpitäjä",
        "retention": "Kuinka kauan tietojasi säilytetään",
        "how_long": "Säilytysaika",
        "legal_reference": "Säädösperuste",
        "rule": "Säilytyssääntö",
        "automated": "Automaattinen päätöksenteko",
        "profiling": "Profilointi",
        "logic": "Miten se toimii",
        "consequences": "Mitä se merkitsee sinulle",
        "decisions": "Sinusta tehdyt päätökset",
        "no_decisions": "Sinusta ei ole tehty automaattisia päätöksiä.",
        "decision_logic": "Käsittelylogiikka",
        "recorded_logic": "Päätöksen teki {logic}; rekisteri ei kuvaa tätä logiikkaa tarkemmin.",
        "controllers": "Rekisterinpitäjät ja yhteystiedot",
        "business_id": "Y-tunnus",
        "address": "Osoite",
        "phone": "Puhelin",
        "privacy_contact": "Tietosuoja-asiat: {email}",
        "rights": "Oikeutesi",
        "empty": "-",
    },
}

BASES: dict[Lang, dict[str, str]] = {
    "en": {
        "consent": "Your consent (GDPR Art. 6(1)(a))",
        "contract": "Your contract (Art. 6(1)(b))",
        "legal_obligation": "A legal obligation (Art. 6(1)(c))",
        "vital_interests": "Vital interests (Art. 6(1)(d))",
        "public_task": "A task in the public interest (Art. 6(1)(e))",
        "legitimate_interests": "Legitimate interests (Art. 6(1)(f))",
    },
    "fi": {
        "consent": "Suostumuksesi (tietosuoja-asetuksen 6 artiklan 1 kohdan a alakohta)",
        "contract": "Sopimuksesi (6 artiklan 1 kohdan b alakohta)",
        "legal_obligation": "Lakisääteinen velvoite (6 artiklan 1 kohdan c alakohta)",
        "vital_interests": "Elintärkeät edut (6 artiklan 1 kohdan d alakohta)",
        "public_task": "Yleistä etua koskeva tehtävä (6 artiklan 1 kohdan e alakohta)",
        "legitimate_interests": "Oikeutettu etu (6 artiklan 1 kohdan f alakohta)",
    },
}
"""The lawful bases (GDPR Art. 6(1)) in words."""

SHORT_BASES: dict[Lang, dict[str, str]] = {
    "en": {
        "consent": "consent", "contract": "contract", "legal_obligation": "legal obligation",
        "vital_interests": "vital interests", "public_task": "public task",
        "legitimate_interests": "legitimate interests",
    },
    "fi": {
        "consent": "suostumus", "contract": "sopimus", "legal_obligation": "lakisääteinen velvoite",
        "vital_interests": "elintärkeät edut", "public_task": "yleistä etua koskeva tehtävä",
        "legitimate_interests": "oikeutettu etu",
    },
}  # fmt: skip
"""The lawful bases in one or two words, for timelines."""

ROLES: dict[Lang, dict[str, str]] = {
    "en": {
        "processor": "Processor: processes the data on our behalf",
        "authority": "Authority",
        "controller": "Another controller",
    },
    "fi": {
        "processor": "Henkilötietojen käsittelijä: käsittelee tietoja puolestamme",
        "authority": "Viranomainen",
        "controller": "Toinen rekisterinpitäjä",
    },
}

SAFEGUARDS: dict[Lang, dict[str, str]] = {
    "en": {
        "adequacy_decision": "An adequacy decision of the European Commission (GDPR Art. 45)",
        "standard_contractual_clauses": "Standard contractual clauses adopted by the European"
        " Commission (GDPR Art. 46(2)(c))",
        "binding_corporate_rules": "Binding corporate rules (GDPR Art. 47)",
        "code_of_conduct": "An approved code of conduct (GDPR Art. 46(2)(e))",
        "certification": "An approved certification mechanism (GDPR Art. 46(2)(f))",
        "derogation": "A derogation for a specific situation (GDPR Art. 49)",
    },
    "fi": {
        "adequacy_decision": "Euroopan komission päätös tietosuojan riittävyydestä"
        " (tietosuoja-asetuksen 45 artikla)",
        "standard_contractual_clauses": "Euroopan komission hyväksymät vakiosopimuslausekkeet"
        " (tietosuoja-asetuksen 46 artiklan 2 kohdan c alakohta)",
        "binding_corporate_rules": "Yritystä koskevat sitovat säännöt"
        " (tietosuoja-asetuksen 47 artikla)",
        "code_of_conduct": "Hyväksytyt käytännesäännöt"
        " (tietosuoja-asetuksen 46 artiklan 2 kohdan e alakohta)",
        "certification": "Hyväksytty sertifiointimekanismi"
        " (tietosuoja-asetuksen 46 artiklan 2 kohdan f alakohta)",
        "derogation": "Erityistilanteita koskeva poikkeus (tietosuoja-asetuksen 49 artikla)",
    },
}
"""Transfer safeguards (GDPR Chapter V) in words."""

CHANNELS: dict[Lang, dict[str, str]] = {
    "en": {"web_form": "a web form", "phone": "phone", "paper": "on paper", "email": "e-mail",
           "app": "the app", "in_person": "in person"},
    "fi": {"web_form": "verkkolomakkeella", "phone": "puhelimitse", "paper": "paperilla",
           "email": "sähköpostitse", "app": "sovelluksessa", "in_person": "henkilökohtaisesti"},
}  # fmt: skip
"""How a consent was given (the contract's channel examples)."""


def word(table: dict[Lang, dict[str, str]], lang: Lang, key: str | None) -> str:
    """A fixed word from ``table``; an unknown key in words, never bare."""
    if key is None:
        return TEXT[lang]["empty"]
    return table[lang].get(key) or id_words(key)
