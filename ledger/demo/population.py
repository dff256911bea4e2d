"""A generated customer population for ``ledger demo``: realistic, deterministic, valid.

``generate_population`` yields the contract's NDJSON line dicts for made-up
customers of an electricity group's register: registrations, customer and metering
point data, contracts, consents and withdrawals, objections, web data, derived
profiles, corrections and disclosures to the print house. It reads every id and
field (name and type) from the register definition it is given and skips a kind of
event whose ids the definition lacks, so it stays valid for any definition that has
the contract's ids. ``run_demo`` streams it into a ledger and reports.

Personal identity codes appear only as field values: never in a subject reference,
an idempotency key, an evidence reference or any other envelope value.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, TextIO

import orjson

from ledger.appending.application import Ledger
from ledger.errors import NotInitialised
from schemas.events import FieldValue
from schemas.identifiers import business_id_check_digit, check_character
from schemas.register import FieldType, LegalBasis, RegisterDefinition

RETAIL = "0209628-8"
NETWORK = "1993667-7"
PRINT_HOUSE = "print-house"
DEBT_COLLECTION = "debt-collection"

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_DAY = timedelta(days=1)

_ODDS = {
    "network_only": 0.15,  # a customer of the network company only
    "network_contract": 0.7,  # a retail customer with a network contract too
    "contact_person": 0.1,
    "contract_ended": 0.15,
    "given_to_service": 0.6,  # customer service (data_subject) rather than a web form
    "marketing": 0.45,  # consent odds per purpose
    "development": 0.25,
    "profiling": 0.3,
    "withdrawn": 0.2,
    "objection": 0.07,
    "web_user": 0.55,
    "profile": 0.5,
    "printed": 0.45,
    "debt_collection": 0.03,
    "correspondence": 0.15,
    "correction": 0.1,
    "newsletter": 0.5,  # a retail marketing newsletter sent (DataProcessed)
    "female": 0.5,
    "numbered_email": 0.4,
}
"""How often each kind of fact happens."""

_MEN = (
    "Juhani", "Mikko", "Matti", "Timo", "Kari", "Jari", "Antti", "Jukka", "Markku",
    "Pekka", "Mika", "Sami", "Janne", "Ville", "Tuomas", "Lauri", "Eero", "Onni",
    "Elias", "Aleksi", "Niko", "Ilkka", "Heikki", "Tapio", "Joonas",
)  # fmt: skip
_WOMEN = (
    "Maria", "Helena", "Anneli", "Johanna", "Kaarina", "Marjatta", "Tuula", "Anna",
    "Päivi", "Sari", "Minna", "Laura", "Tiina", "Hanna", "Emilia", "Aino", "Sofia",
    "Venla", "Elina", "Riikka", "Katja", "Satu", "Noora", "Ulla", "Sanna",
)  # fmt: skip
_SURNAMES = (
    "Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine",
    "Heikkinen", "Koskinen", "Järvinen", "Lehtonen", "Lehtinen", "Saarinen",
    "Salminen", "Heinonen", "Niemi", "Heikkilä", "Kinnunen", "Salonen", "Turunen",
    "Salo", "Laitinen", "Tuominen", "Rantanen", "Karjalainen", "Jokinen", "Mattila",
    "Savolainen", "Lahtinen", "Ahonen", "Peltonen", "Hirvonen", "Lindholm",
    "Nyström", "Hakala", "Räsänen",
)  # fmt: skip
_STREETS = (
    "Mannerheimintie", "Hämeenkatu", "Aleksanterinkatu", "Kauppakatu", "Koulukatu",
    "Rantatie", "Puistokatu", "Kirkkokatu", "Myllytie", "Koivukuja", "Pihlajatie",
    "Sepänkatu", "Satamakatu", "Asemakatu", "Urheilutie", "Kalliotie", "Metsätie",
    "Niittykuja", "Vaahterakuja", "Tapiolantie",
)  # fmt: skip
_CITIES = (
    ("00100", "Helsinki"), ("02100", "Espoo"), ("01300", "Vantaa"),
    ("33100", "Tampere"), ("20100", "Turku"), ("90100", "Oulu"),
    ("40100", "Jyväskylä"), ("15110", "Lahti"), ("70100", "Kuopio"),
    ("28100", "Pori"), ("53100", "Lappeenranta"), ("13100", "Hämeenlinna"),
)  # fmt: skip
_COMPANIES = (
    "Kiinteistö Oy Koivula", "Rakennus Salo Oy", "Lämpö ja Vesi Ky",
    "Pohjolan Leipomo Oy", "Asunto Oy Rantakallio", "Konepaja Virtanen Oy",
    "Kauppahuone Niemi Oy",
)  # fmt: skip
_MAIL_DOMAINS = ("example.fi", "esimerkki.fi", "posti.example.com")
_MOBILE_PREFIXES = (40, 41, 44, 45, 50)
_ASCII = str.maketrans("äöåÄÖÅ", "aoaAOA")

_PERSON_TEXT: tuple[tuple[tuple[str, ...], str], ...] = (
    (("metering_point", "gsrn"), "metering_point"),
    (("e_invoice_address", "iban", "account", "bank"), "iban"),
    (("first_name", "given_name", "firstname"), "first"),
    (("last_name", "surname", "family_name", "lastname"), "last"),
    (("company", "organisation", "organization", "employer"), "company"),
    (("postal_code", "postcode", "zip"), "postal"),
    (("city", "municipality", "town", "location", "region"), "city"),
    (("address", "street"), "address"),
    (("name",), "name"),
)
"""Field name words -> the attribute of the person that fills such a text field."""

_MADE_TEXT: tuple[tuple[tuple[str, ...], Callable[[random.Random, datetime], str]], ...] = (
    (("ip",), lambda r, _: ".".join(str(r.randrange(1, 255)) for _ in range(4))),
    (("cookie_id", "visitor_id", "device_id", "session_id"),
     lambda r, at: f"GA1.2.{r.randrange(10**8, 10**9)}.{int(at.timestamp())}"),
    (("payment_reference", "reference_number"), lambda r, _: _reference_number(r)),
    (("recording_reference", "recording"), lambda r, _: f"rec/{r.getrandbits(48):012x}"),
    (("connection_id", "connection"), lambda r, _: f"LT-{r.randrange(10**6, 10**7)}"),
    (("time", "timestamp"), lambda _, at: f"{at:%H:%M:%S}"),
)  # fmt: skip
"""Field name words -> how a value of such a text field is made."""

_CHOICE_TEXT: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("title", "role", "position", "occupation"), (
        "toimitusjohtaja", "isännöitsijä", "talouspäällikkö", "hankintapäällikkö",
        "kiinteistöpäällikkö", "yrittäjä")),
    (("language", "lang", "locale"), ("fi", "fi", "fi", "sv", "en")),
    (("user_agent", "browser", "agent"), (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/128.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile")),
    (("url", "page", "path", "referrer", "referer"), (
        "/fi/sahkosopimukset", "/fi/oma-asiointi", "/fi/kulutus", "/fi/laskut",
        "/fi/aurinkopaneelit", "/fi/sahkoauton-lataus", "/fi/yhteystiedot")),
    (("segment", "cluster", "group", "persona"), (
        "price_sensitive", "green_energy", "heavy_user", "ev_owner", "digital_first")),
    (("interest", "interests"), (
        "solar panels, EV charging", "fixed price, e-invoice", "heat pumps",
        "spot price, consumption tracking")),
    (("invoice_channel", "invoicing", "delivery", "method"), (
        "e-invoice", "e-invoice", "email", "paper", "direct_payment")),
    (("e_invoice_operator", "operator", "bic"), (
        "NDEAFIHH", "OKOYFIHH", "DABAFIHH", "HANDFIHH", "SBANFIHH", "POPFFI22")),
    (("payment_status", "status"), ("paid", "paid", "paid", "open", "overdue")),
    (("service_data", "service", "tariff"), (
        "main fuse 3x25 A, general tariff", "main fuse 3x25 A, time-of-day tariff",
        "main fuse 3x35 A, seasonal tariff", "main fuse 1x25 A, general tariff")),
    (("website", "site", "domain"), ("www.vaasansahko.fi", "www.vaasansahkoverkko.fi")),
    (("pages", "pages_visited"), (
        "/fi/sahkosopimukset, /fi/hinnat", "/fi/oma-asiointi, /fi/kulutus",
        "/fi/laskut", "/fi/aurinkopaneelit, /fi/yhteystiedot")),
    (("usage", "habits"), (
        "evening visits on mobile", "checks consumption weekly", "pays invoices online",
        "compares contract offers")),
    (("channel", "medium"), ("email", "chat", "phone", "letter")),
    (("subject", "topic"), (
        "Laskun eräpäivä", "Muuttoilmoitus", "Sopimuksen vaihto", "Mittarilukema")),
    (("event", "action"), ("page_view", "login", "download", "form_submit")),
    (("message", "content", "body", "text", "note", "notes", "summary"), (
        "Asiakas kysyi laskusta.", "Muutto uuteen osoitteeseen.",
        "Pyyntö vaihtaa e-laskuun.", "Kysymys sopimushinnasta.")),
)  # fmt: skip
"""Field name words -> plausible values of such a text field."""

_NUMBERS: tuple[tuple[tuple[str, ...], float, float, int | None], ...] = (
    (("consumption", "kwh", "usage", "energy"), 1500, 20000, 1),
    (("score", "risk", "probability", "propensity", "likelihood"), 0, 1, 3),
    (("amount", "balance", "total", "price", "sum"), 20, 400, 2),
    (("count", "visits", "views", "sessions", "clicks"), 1, 60, None),
    (("duration", "seconds"), 5, 1800, None),
)
"""Field name words -> (low, high, decimals or None for integers) of a number."""


# --- the register's offer ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Register:
    """The ids and fields of a definition, in the shape the generator needs."""

    controllers: tuple[str, ...]
    fields: dict[str, dict[str, FieldType]]
    owners: dict[str, str | None]
    derived: frozenset[str]
    sources: frozenset[str]
    purposes: frozenset[str]
    consent_purposes: frozenset[str]
    recipients: dict[str, frozenset[str]]

    @classmethod
    def of(cls, definition: RegisterDefinition) -> _Register:
        """Index a definition."""
        consent = [p.id for p in definition.purposes if LegalBasis.CONSENT in p.bases]
        return cls(
            controllers=tuple(c.business_id for c in definition.controllers),
            fields={c.id: dict(c.fields) for c in definition.categories},
            owners={c.id: c.controller for c in definition.categories},
            derived=frozenset(c.id for c in definition.categories if c.derived),
            sources=frozenset(s.id for s in definition.sources),
            purposes=frozenset(p.id for p in definition.purposes),
            consent_purposes=frozenset(consent),
            recipients={r.id: frozenset(r.purposes) for r in definition.recipients},
        )

    @property
    def retail(self) -> str:
        """The retail controller, or the first controller if there is no such id."""
        return RETAIL if RETAIL in self.controllers else self.controllers[0]

    def source(self, *preferred: str) -> str | None:
        """The first of ``preferred`` that the register lists."""
        return next((s for s in preferred if s in self.sources), None)

    def recorded(self, category: str) -> bool:
        """Whether data of ``category`` can be recorded with PersonalDataRecorded."""
        return category in self.fields and category not in self.derived

    def may_disclose(self, recipient: str, purpose: str, categories: Iterable[str]) -> bool:
        """Whether the recipient exists and its agreement covers the purpose."""
        agreed = self.recipients.get(recipient, frozenset())
        return purpose in agreed and all(self.recorded(c) for c in categories)


# --- people and their values ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Person:
    """One made-up person, so that a subject's values agree with each other."""

    first: str
    last: str
    born: date
    pic: str
    street: str
    postal: str
    city: str
    email: str
    phone: str
    iban: str
    company: str
    business_id: str
    metering_point: str

    @property
    def name(self) -> str:
        """First name and surname."""
        return f"{self.first} {self.last}"

    @property
    def address(self) -> str:
        """Street address, postal code and city."""
        return f"{self.street}, {self.postal} {self.city}"


def _pic(born: date, female: bool, rng: random.Random) -> str:
    """A valid personal identity code: odd individual numbers for men, even for women."""
    individual = 2 * rng.randrange(1, 450) + (0 if female else 1)
    digits = f"{born:%d%m%y}{individual:03d}"
    sign = "-" if born.year < 2000 else "A"  # noqa: PLR2004 - the century
    return f"{digits[:6]}{sign}{digits[6:]}{check_character(digits[:6], digits[6:])}"


def _business_id(rng: random.Random) -> str:
    """A Finnish business ID with a valid check digit."""
    while True:
        digits = f"{rng.randrange(1_000_000, 10_000_000)}"
        check = business_id_check_digit(digits)
        if check is not None:
            return f"{digits}-{check}"


def _iban(rng: random.Random) -> str:
    """A Finnish IBAN with valid check digits, in groups of four."""
    bban = f"{rng.randrange(10**13, 10**14)}"
    check = 98 - int(bban + "151800") % 97  # "FI00" moved to the end: F=15, I=18
    text = f"FI{check:02d}{bban}"
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def _phone(rng: random.Random) -> str:
    """A Finnish mobile number."""
    prefix = rng.choice(_MOBILE_PREFIXES)
    return f"+358 {prefix} {rng.randrange(100, 1000)} {rng.randrange(1000, 10000)}"


def _email(first: str, last: str, rng: random.Random) -> str:
    """An e-mail address made of the name."""
    local = f"{first}.{last}".lower().translate(_ASCII)
    number = rng.randrange(100) if rng.random() < _ODDS["numbered_email"] else ""
    return f"{local}{number}@{rng.choice(_MAIL_DOMAINS)}"


def _birth_date(rng: random.Random, registered: datetime) -> date:
    """An adult's birth date in 1940-2005, at least 18 at registration."""
    low = date(1940, 1, 1)
    adult = registered.date().replace(day=1) - timedelta(days=18 * 366)
    high = min(date(2005, 12, 31), adult)
    return low + timedelta(days=rng.randrange(max(1, (high - low).days)))


def _person(rng: random.Random, registered: datetime) -> _Person:
    """A Finnish-looking adult with address, contacts and a metering point."""
    female = rng.random() < _ODDS["female"]
    first = rng.choice(_WOMEN if female else _MEN)
    last = rng.choice(_SURNAMES)
    born = _birth_date(rng, registered)
    postal, city = rng.choice(_CITIES)
    return _Person(
        first=first,
        last=last,
        born=born,
        pic=_pic(born, female, rng),
        street=f"{rng.choice(_STREETS)} {rng.randrange(1, 80)}",
        postal=postal,
        city=city,
        email=_email(first, last, rng),
        phone=_phone(rng),
        iban=_iban(rng),
        company=rng.choice(_COMPANIES),
        business_id=_business_id(rng),
        metering_point=f"643007{rng.randrange(10**11, 10**12):012d}",
    )


def _renamed(person: _Person, surname: str, rng: random.Random) -> _Person:
    """The person after a change of surname, with a new e-mail address and phone."""
    email = _email(person.first, surname, rng)
    return replace(person, last=surname, email=email, phone=_phone(rng))


def _has(name: str, *keys: str) -> bool:
    """Whether a field name mentions one of ``keys`` (whole words, or a phrase)."""
    lowered = name.lower()
    words = set(lowered.split("_"))
    return any(k in words or ("_" in k and k in lowered) for k in keys)


def _reference_number(rng: random.Random) -> str:
    """A Finnish payment reference number with its check digit (weights 7, 3, 1)."""
    base = f"{rng.randrange(10**8, 10**9)}"
    weights = (7, 3, 1) * 3
    total = sum(int(d) * w for d, w in zip(reversed(base), weights, strict=True))
    return f"{base}{-total % 10}"


def _text(name: str, person: _Person, at: datetime, rng: random.Random) -> str:
    """A text value that fits the field's name, or a neutral token."""
    for keys, make in _MADE_TEXT:
        if _has(name, *keys):
            return make(rng, at)
    for keys, attribute in _PERSON_TEXT:
        if _has(name, *keys):
            return str(getattr(person, attribute))
    for keys, choices in _CHOICE_TEXT:
        if _has(name, *keys):
            return rng.choice(choices)
    return f"{name.replace('_', '-')}-{rng.getrandbits(32):08x}"


def _number(name: str, rng: random.Random) -> int | float:
    """A number that fits the field's name."""
    for keys, low, high, decimals in _NUMBERS:
        if _has(name, *keys):
            if decimals is None:
                return rng.randrange(int(low), int(high) + 1)
            return round(rng.uniform(low, high), decimals)
    return rng.randrange(1000)


def _value(
    name: str, kind: FieldType, person: _Person, at: datetime, rng: random.Random
) -> FieldValue:
    """A valid value of ``kind`` for field ``name`` of ``person`` at instant ``at``."""
    fixed: dict[FieldType, str] = {
        FieldType.PERSONAL_IDENTITY_CODE: person.pic,
        FieldType.BUSINESS_ID: person.business_id,
        FieldType.EMAIL: person.email,
        FieldType.PHONE: person.phone,
    }
    if kind in fixed:
        return fixed[kind]
    if kind is FieldType.DATE:
        born = _has(name, "birth", "born", "birthday", "birthdate")
        return (person.born if born else at.date()).isoformat()
    if kind is FieldType.NUMBER:
        return _number(name, rng)
    if kind is FieldType.BOOLEAN:
        return rng.random() < 0.5  # noqa: PLR2004 - a coin
    return _text(name, person, at, rng)


# --- time ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Timeline:
    """Random instants in [start, end] on a grid (whole seconds when there is room)."""

    rng: random.Random
    start: datetime
    end: datetime
    quantum: timedelta

    @classmethod
    def of(cls, rng: random.Random, start: datetime, end: datetime) -> _Timeline:
        """A timeline whose instants are whole seconds unless the window is tiny."""
        first = _EPOCH + -(-(start - _EPOCH) // _SECOND) * _SECOND  # rounded up
        if end - first < timedelta(hours=1):
            return cls(rng, start, end, timedelta(microseconds=1))
        return cls(rng, first, end, _SECOND)

    def between(self, low: datetime, high: datetime) -> datetime:
        """An instant in [low, min(high, end)]; ``low`` when that is empty."""
        steps = max(0, (min(high, self.end) - low) // self.quantum)
        return low + self.quantum * self.rng.randint(0, steps)

    def soon_after(self, low: datetime, within: timedelta) -> datetime:
        """An instant in [low, low + within], never after the end."""
        return self.between(low, low + within)

    def share(self, fraction: float) -> datetime:
        """An instant in the first ``fraction`` of the whole window."""
        return self.between(self.start, self.start + (self.end - self.start) * fraction)


# --- one subject's history -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Draft:
    """One event of a subject's history before it gets its envelope."""

    at: datetime
    type: str
    actor: str
    data: dict[str, Any]
    source: str | None = None


_CHANNEL_ACTOR = {"web_form": "web-portal", "phone": "crm", "paper": "crm"}
_EVIDENCE = {
    "web_form": "webform/consent",
    "phone": "call-recording",
    "paper": "scan/consent-form",
}
_CONSENTS = ("marketing", "development", "profiling")
_BILLED = ("customer_basic", "billing")
_KEPT = (FieldType.PERSONAL_IDENTITY_CODE, FieldType.BUSINESS_ID)


@dataclass(slots=True)
class _History:
    """Builds one subject's events; each method adds one kind of fact."""

    reg: _Register
    rng: random.Random
    time: _Timeline
    person: _Person
    number: int
    drafts: list[_Draft] = field(default_factory=list)
    consented: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)
    parties: list[str] = field(default_factory=list)

    def chance(self, what: str) -> bool:
        """Whether a fact of kind ``what`` happens this time."""
        return self.rng.random() < _ODDS[what]

    def add(
        self,
        at: datetime,
        kind: str,
        actor: str,
        data: dict[str, Any],
        source: str | None = None,
    ) -> None:
        """Add an event."""
        self.drafts.append(_Draft(at, kind, actor, data, source))

    def values(
        self, category: str, at: datetime, names: Iterable[str] | None = None
    ) -> dict[str, FieldValue]:
        """Values for the category's fields (all, or ``names``)."""
        fields = self.reg.fields[category]
        chosen = list(fields) if names is None else [n for n in names if n in fields]
        return {n: _value(n, fields[n], self.person, at, self.rng) for n in chosen}

    def record(
        self,
        at: datetime,
        category: str,
        source: str | None,
        actor: str,
        names: Iterable[str] | None = None,
    ) -> bool:
        """Record values of a category; False when the register cannot take them."""
        if source is None or not self.reg.recorded(category):
            return False
        values = self.values(category, at, names)
        if not values:
            return False
        data = {"category": category, "fields": values}
        self.add(at, "PersonalDataRecorded", actor, data, source)
        return True

    def given_by_subject(self) -> tuple[str | None, str]:
        """Where data the subject gives comes from, and who appends it."""
        if self.chance("given_to_service"):
            return self.reg.source("data_subject", "web_forms"), "crm"
        return self.reg.source("web_forms", "data_subject"), "web-portal"

    def customer(self, registered: datetime) -> None:
        """A private customer: data, contracts, consents, web use, disclosures."""
        network_only = NETWORK in self.reg.controllers and self.chance("network_only")
        controller = NETWORK if network_only else self.reg.retail
        data = {"kind": "person", "controller": controller}
        self.add(registered, "SubjectRegistered", "crm", data)
        basic_at = self.time.soon_after(registered, timedelta(minutes=10))
        self.record(basic_at, "customer_basic", *self.given_by_subject())
        started = self.time.soon_after(basic_at, 2 * _DAY)
        ended = None
        if self.chance("contract_ended"):
            ended = self.time.between(started, self.time.end)
        parties = self.parties = self.contracts(started, ended, network_only=network_only)
        if self.reg.owners.get("metering_point") in (None, *parties):
            self.metering(started, ended or self.time.end)
        billed = self.billing(started, ended or self.time.end)
        self.consents(basic_at, _CONSENTS)
        self.objection(basic_at)
        self.web_use(basic_at)
        self.disclosures(billed, ended or self.time.end)
        self.newsletter(basic_at)
        self.correspondence(basic_at)
        self.correction(basic_at, "customer_basic")

    def contact_person(self, registered: datetime) -> None:
        """A business customer's contact person under the retail controller."""
        data = {"kind": "contact_person", "controller": self.reg.retail}
        self.add(registered, "SubjectRegistered", "crm", data)
        at = self.time.soon_after(registered, timedelta(minutes=10))
        self.record(at, "contact_person", *self.given_by_subject())
        self.consents(at, ("marketing",))
        self.objection(at)
        self.correspondence(at)
        self.correction(at, "contact_person")

    def contracts(
        self, started: datetime, ended: datetime | None, *, network_only: bool
    ) -> list[str]:
        """A retail contract, often a network contract too, on the metering point.

        Returns:
            The controllers the subject has a contract with.
        """
        parties = [] if network_only else [(self.reg.retail, "RC")]
        if NETWORK in self.reg.controllers and (network_only or self.chance("network_contract")):
            parties.append((NETWORK, "NC"))
        point = {"metering_point": self.person.metering_point}
        for controller, prefix in parties:
            contract = {"controller": controller, "contract": f"{prefix}-{self.number:07d}"}
            self.add(started, "ContractStarted", "crm", contract | point)
            if ended is not None:
                self.add(ended, "ContractEnded", "crm", contract)
        return [controller for controller, _ in parties]

    def metering(self, started: datetime, until: datetime) -> None:
        """Metering point data from Datahub, then a few consumption updates."""
        at = self.time.between(started, min(until, started + 2 * _DAY))
        source, actor = self.reg.source("datahub"), "datahub-integration"
        if not self.record(at, "metering_point", source, actor):
            return
        fields = self.reg.fields["metering_point"]
        updated = [
            n for n, kind in fields.items() if kind is FieldType.NUMBER and _has(n, "consumption")
        ]
        for _ in range(self.rng.randrange(4) if updated else 0):
            at = self.time.between(at, until)
            self.record(at, "metering_point", source, actor, updated)

    def billing(self, started: datetime, until: datetime) -> datetime | None:
        """Billing data given on a web form or to customer service."""
        at = self.time.between(started, min(until, started + 7 * _DAY))
        source = self.reg.source(*self.rng.sample(("web_forms", "data_subject"), 2))
        actor = "web-portal" if source == "web_forms" else "billing-system"
        return at if self.record(at, "billing", source, actor) else None

    def consents(self, after: datetime, purposes: Iterable[str]) -> None:
        """Consents to some purposes, some of them withdrawn later."""
        for purpose in purposes:
            if purpose in self.reg.consent_purposes and self.chance(purpose):
                granted = self.time.soon_after(after, 400 * _DAY)
                channel = self.rng.choice(("web_form", "web_form", "phone", "paper"))
                evidence = f"{_EVIDENCE[channel]}/{self.rng.getrandbits(64):016x}"
                data = {"purpose": purpose, "channel": channel, "evidence": evidence}
                self.add(granted, "ConsentGranted", _CHANNEL_ACTOR[channel], data)
                self.consented[purpose] = (granted, self.withdrawal(purpose, granted))

    def withdrawal(self, purpose: str, granted: datetime) -> datetime:
        """Sometimes a withdrawal; the instant the consent stops holding."""
        if not self.chance("withdrawn"):
            return self.time.end
        at = self.time.between(granted, self.time.end)
        channel = self.rng.choice(("web_form", "phone"))
        data = {"purpose": purpose, "channel": channel}
        self.add(at, "ConsentWithdrawn", _CHANNEL_ACTOR[channel], data)
        return at

    def objection(self, after: datetime) -> None:
        """Now and then an objection to direct marketing (Art. 21(2))."""
        if "marketing" in self.reg.purposes and self.chance("objection"):
            at = self.time.between(after, self.time.end)
            self.add(at, "ObjectionRecorded", "crm", {"purpose": "marketing"})

    def web_use(self, after: datetime) -> None:
        """Cookie and web log data of a web user; sometimes a profile from them."""
        if not self.chance("web_user"):
            return
        cookies = self.visits(after, "cookies", self.reg.source("cookies"))
        logs = self.visits(after, "web_logs", self.reg.source("web_services"))
        if cookies is not None and logs is not None:
            self.profile(max(cookies, logs))

    def visits(self, after: datetime, category: str, source: str | None) -> datetime | None:
        """One to three recordings of a web category; the first one's instant."""
        first = at = self.time.between(after, self.time.end)
        if not self.record(at, category, source, "web-portal"):
            return None
        for _ in range(self.rng.randrange(3)):
            at = self.time.between(at, self.time.end)
            self.record(at, category, source, "web-portal")
        return first

    def profile(self, ready: datetime) -> None:
        """A profile from cookies and web logs while profiling consent holds."""
        window = self.consented.get("profiling")
        source = self.reg.source("web_services", "cookies")
        if window is None or source is None or "profiles" not in self.reg.derived:
            return
        low, high = max(ready, window[0]), window[1] - self.time.quantum
        if low > high or not self.chance("profile"):
            return
        at = self.time.between(low, high)
        data = {
            "category": "profiles",
            "derived_from": ["cookies", "web_logs"],
            "purpose": "profiling",
            "fields": self.values("profiles", at),
        }
        self.add(at, "ProfileDerived", "analytics", data, source)

    def disclosures(self, billed: datetime | None, until: datetime) -> None:
        """Invoices printed by the print house; rarely a debt collection case."""
        if billed is None:
            return
        at = billed
        printed = self.reg.may_disclose(PRINT_HOUSE, "billing", _BILLED)
        if printed and self.chance("printed"):
            closing = until + 30 * _DAY  # the final invoice
            for _ in range(self.rng.randrange(1, 4)):
                at = self.time.between(at, closing)
                self.disclose(at, PRINT_HOUSE, "print-run")
        collected = self.reg.may_disclose(DEBT_COLLECTION, "billing", _BILLED)
        if collected and self.chance("debt_collection"):
            at = self.time.between(at, self.time.end)
            self.disclose(at, DEBT_COLLECTION, "claim")

    def disclose(self, at: datetime, recipient: str, reference: str) -> None:
        """Customer and billing data to a recipient for billing, by a contract party."""
        data = {
            "recipient": recipient,
            "categories": list(_BILLED),
            "purpose": "billing",
            "reference": f"{reference}-{at:%Y%m}-{self.rng.randrange(1, 10000):04d}",
        }
        if self.parties:
            data["controller"] = self.parties[0]
        self.add(at, "DataDisclosed", "billing-system", data)

    def newsletter(self, after: datetime) -> None:
        """A retail marketing newsletter, recorded as in-house processing (DataProcessed).

        Sent to a retail customer or one who consented; now and then after an
        objection or withdrawal too (the ledger records it and flags it).
        """
        if "marketing" not in self.reg.purposes or not self.chance("newsletter"):
            return
        if self.reg.retail not in self.parties and "marketing" not in self.consented:
            return
        at = self.time.between(after, self.time.end)
        data = {
            "purpose": "marketing",
            "categories": ["customer_basic"],
            "activity": "newsletter_sent",
            "reference": f"newsletter-{at:%Y%m}",
            "controller": self.reg.retail,
        }
        self.add(at, "DataProcessed", "marketing-system", data)

    def correspondence(self, after: datetime) -> None:
        """Now and then a message from the subject, kept to verify transactions."""
        if self.chance("correspondence"):
            at = self.time.between(after, self.time.end)
            self.record(at, "correspondence", self.reg.source("data_subject"), "crm")

    def correction(self, after: datetime, category: str) -> None:
        """Now and then a later record replacing one field (a new surname, say)."""
        fields = self.reg.fields.get(category, {})
        names = [n for n, kind in fields.items() if kind not in _KEPT]
        if not names or not self.chance("correction"):
            return
        name = "name" if "name" in names else self.rng.choice(names)
        surname = self.rng.choice([s for s in _SURNAMES if s != self.person.last])
        self.person = _renamed(self.person, surname, self.rng)
        at = self.time.between(after, self.time.end)
        source = self.reg.source("data_subject", "web_forms")
        self.record(at, category, source, "crm", [name])


# --- the population ------------------------------------------------------------------


def _history(
    reg: _Register, rng: random.Random, start: datetime, end: datetime, number: int
) -> list[_Draft]:
    """One subject's events in occurred_at order, its registration first."""
    timeline = _Timeline.of(rng, start, end)
    registered = timeline.share(0.85)
    history = _History(reg, rng, timeline, _person(rng, registered), number)
    if reg.recorded("contact_person") and history.chance("contact_person"):
        history.contact_person(registered)
    else:
        history.customer(registered)
    return sorted(history.drafts, key=lambda d: d.at)  # stable: registration first


def _line(draft: _Draft, subject: str, key: str) -> dict[str, Any]:
    """The contract's NDJSON envelope around one event."""
    line: dict[str, Any] = {
        "type": draft.type,
        "subject": subject,
        "occurred_at": draft.at.isoformat(),
        "actor": draft.actor,
        "idempotency_key": key,
        "data": draft.data,
    }
    if draft.source is not None:
        line["source"] = draft.source
    return line


def generate_population(
    definition: RegisterDefinition,
    subjects: int,
    *,
    seed: int,
    start: datetime,
    end: datetime,
) -> Iterator[dict[str, Any]]:
    """Yield NDJSON line dicts for ``subjects`` made-up customers, one at a time.

    Each subject's events lie in [start, end] in occurred_at order, its
    SubjectRegistered first. The same definition, seed, start and end give the
    same lines and idempotency keys, so a re-run appends nothing new.

    Args:
        definition: the register the lines must be valid against; every id and
            field is read from it, and a kind of event whose ids it lacks is skipped.
        subjects: how many subjects (references ``C-100001`` onwards).
        seed: the seed of the generator.
        start: the earliest occurred_at (the first notice's effective_from).
        end: the latest occurred_at (at most the ledger's now).

    Yields:
        One dict per line: type, subject, occurred_at, actor, idempotency_key,
        data and, for data events, source.

    Raises:
        ValueError: when a datetime has no offset or ``end`` is before ``start``.
    """
    if start.tzinfo is None or end.tzinfo is None:
        msg = "start and end must be timezone-aware"
        raise ValueError(msg)
    if end < start:
        msg = f"end {end.isoformat()} is before start {start.isoformat()}"
        raise ValueError(msg)
    reg = _Register.of(definition)
    master = random.Random(seed)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    for number in range(1, subjects + 1):
        rng = random.Random(master.getrandbits(64))
        subject = f"C-{100_000 + number}"
        for n, draft in enumerate(_history(reg, rng, start, end, number), start=1):
            yield _line(draft, subject, f"demo-{seed}-{subject}-{n}")


# --- running it ----------------------------------------------------------------------


def demo_horizon(start: datetime, now: datetime) -> datetime:
    """The demo's latest occurred_at: ``now``, cut to midnight UTC if there is room.

    Cutting to the day keeps the generated lines the same for re-runs on the same
    day, so a re-run reports duplicates instead of idempotency conflicts.

    Args:
        start: the earliest occurred_at.
        now: the ledger's clock.

    Returns:
        Midnight UTC of ``now`` when that is at least a day after ``start``, else
        ``now``.
    """
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight if midnight - start >= _DAY else now


def _serialised(lines: Iterable[dict[str, Any]], by_type: Counter[str]) -> Iterator[bytes]:
    """Each line as NDJSON bytes, counted by type on the way."""
    for line in lines:
        by_type[line["type"]] += 1
        yield orjson.dumps(line)


def run_demo(
    ledger: Ledger,
    definition: RegisterDefinition,
    *,
    subjects: int,
    seed: int,
    batch_size: int,
    out: TextIO,
) -> dict[str, Any]:
    """Generate a population and append it in batches, printing what was done.

    Lines are generated, serialised and appended as a stream: memory stays flat
    whatever the number of subjects.

    Args:
        ledger: an initialised ledger; its first notice's effective_from is the
            earliest occurred_at, its clock's now (see ``demo_horizon``) the latest.
        definition: the register the population is generated for.
        subjects: how many subjects.
        seed: the generator's seed; the same seed on the same day appends nothing.
        batch_size: lines per transaction.
        out: where the report is written.

    Returns:
        subjects, lines, appended, duplicates, findings, by_type, elapsed_seconds,
        events_per_second (appended), lines_per_second (read), start and end.

    Raises:
        NotInitialised: when the ledger has no published notice.
    """
    notices = ledger.notices.versions
    if not notices:
        msg = "the ledger has no published notice: run `ledger init --register FILE`"
        raise NotInitialised(msg)
    start = notices[0].effective_from
    end = demo_horizon(start, ledger.clock.now())
    by_type: Counter[str] = Counter()
    population = generate_population(definition, subjects, seed=seed, start=start, end=end)
    totals: Counter[str] = Counter()
    began = time.perf_counter()
    results = ledger.append_stream(_serialised(population, by_type), batch_size=batch_size)
    for result in results:
        totals["appended"] += result.appended
        totals["duplicates"] += result.duplicates
        totals["findings"] += len(result.findings)
    elapsed = time.perf_counter() - began
    figures = _figures(subjects, by_type, totals, elapsed)
    figures |= {"start": start.isoformat(), "end": end.isoformat()}
    _report(figures, seed, batch_size, out)
    return figures


def _figures(
    subjects: int, by_type: Counter[str], totals: Counter[str], elapsed: float
) -> dict[str, Any]:
    """What a run did, as the contract's kind of JSON object."""
    elapsed = max(elapsed, 1e-9)
    return {
        "subjects": subjects,
        "lines": by_type.total(),
        "appended": totals["appended"],
        "duplicates": totals["duplicates"],
        "findings": totals["findings"],
        "by_type": dict(sorted(by_type.items())),
        "elapsed_seconds": round(elapsed, 3),
        "events_per_second": round(totals["appended"] / elapsed, 1),
        "lines_per_second": round(by_type.total() / elapsed, 1),
    }


def _report(figures: dict[str, Any], seed: int, batch_size: int, out: TextIO) -> None:
    """Write the figures as a short readable report."""
    out.write(
        f"demo: {figures['subjects']} subjects (seed {seed}),"
        f" occurred {figures['start']} .. {figures['end']}\n"
        f"appended {figures['appended']} events, {figures['duplicates']} duplicates,"
        f" {figures['findings']} findings, in batches of {batch_size}\n"
        f"elapsed {figures['elapsed_seconds']:.2f} s,"
        f" {figures['events_per_second']:.0f} events/s appended,"
        f" {figures['lines_per_second']:.0f} lines/s read\n"
        "lines by type:\n"
    )
    for kind, count in figures["by_type"].items():
        out.write(f"  {kind:<22} {count:>8}\n")
