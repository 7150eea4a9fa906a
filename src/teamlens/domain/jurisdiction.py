"""Jurisdiction profiles: what the law where a policy runs adds to teamlens' own rules.

A policy names its ``jurisdiction`` (``uk``, ``eu``, ``de``, ``fr``, ``nl``; ``uk`` when the
field is absent, because every document teamlens generated before profiles existed followed the
UK GDPR and the ICO's guidance). The profile decides:

- **who must approve**: which workers' representative bodies may be the ``representative``
  party (``representative_bodies``; the policy says which body it is in ``representative_body``),
  whether that body must also sign a version that only narrows the one in force
  (``representative_signs_every_version``: consent regimes, where the body co-decides every
  change), and whether workers must have been consulted (``consultation_required``: the
  employer's recorded reasons for not consulting are then not enough);
- **which documents** are generated (``documents``): every profile has the DPIA and the notice;
  EU profiles add the GDPR Art 88 and AI Act sections; Germany a Betriebsvereinbarung draft;
- **the defaults** of ``min_group_size`` and ``retention_days`` when the policy leaves them out;
- **the legal references** the notice and the DPIA cite, each with its source and whether it
  was checked against a source (``Reference.verified``); ``docs/jurisdictions.md`` lists them.

These are the product's reading of the rules, not legal advice; the representatives and the DPO
read the generated documents before they sign.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Jurisdiction(enum.StrEnum):
    """Where a policy runs; decides its approvals, documents, defaults and legal references."""

    UK = "uk"
    EU = "eu"
    DE = "de"
    FR = "fr"
    NL = "nl"


#: A policy without a ``jurisdiction`` field: the UK, which every earlier document followed.
DEFAULT_JURISDICTION = Jurisdiction.UK


class RepresentativeBody(enum.StrEnum):
    """Which body of workers' representatives holds the ``representative`` key for a policy."""

    TRADE_UNION = "trade_union"
    EMPLOYEE_FORUM = "employee_forum"
    WORKS_COUNCIL = "works_council"
    CENTRAL_WORKS_COUNCIL = "central_works_council"
    CSE = "cse"
    CENTRAL_CSE = "central_cse"
    NOT_STATED = "not_stated"


class Document(enum.StrEnum):
    """A document a profile generates beyond the DPIA and notice every profile has."""

    ART88 = "gdpr_art88"
    AI_ACT = "ai_act"
    BETRIEBSVEREINBARUNG = "betriebsvereinbarung"


@dataclass(frozen=True)
class Reference:
    """A legal rule a document cites: the citation, what it says for us, where it was checked."""

    citation: str
    says: str
    source: str
    verified: bool = True


@dataclass(frozen=True)
class Profile:
    """Everything one jurisdiction sets (module docstring)."""

    jurisdiction: Jurisdiction
    name: str
    gdpr: str
    regulator: str
    representative_bodies: tuple[RepresentativeBody, ...]
    approver_rule: Reference
    representative_signs_every_version: bool
    consultation_required: bool
    documents: tuple[Document, ...]
    default_min_group_size: int
    default_retention_days: int
    references: tuple[Reference, ...]

    @property
    def body_names(self) -> str:
        """The accepted representative bodies as the policy spells them."""
        return ", ".join(body.value for body in self.representative_bodies)


_DPIA_UK = Reference(
    "UK GDPR Art 35; ICO, Monitoring workers (Oct 2023)",
    "a DPIA before monitoring that is likely to be high risk; the ICO's template has seven steps",
    "https://ico.org.uk/for-organisations/uk-gdpr-guidance-and-resources/employment/monitoring-workers/checklists/",
)
_CONSULT_UK = Reference(
    "UK GDPR Art 35(9); ICO, Monitoring workers (Oct 2023)",
    "seek the views of workers or their representatives, or record why not",
    "https://ico.org.uk/for-organisations/uk-gdpr-guidance-and-resources/employment/monitoring-workers/checklists/",
)
_NOTICE_UK = Reference(
    "UK GDPR Arts 13, 14 and 21",
    "workers are told about the monitoring before it starts, and may object",
    "https://ico.org.uk/for-organisations/uk-gdpr-guidance-and-resources/employment/monitoring-workers/checklists/",
)
_DUAA = Reference(
    "Data (Use and Access) Act 2025",
    "amends the UK GDPR; whether it changes access or legitimate-interest rules used here is not checked",
    "teamlens requirements R41 (no primary source checked)",
    verified=False,
)
_ART88 = Reference(
    "GDPR Art 88",
    "rules for processing in the employment context, by law or collective agreement, with suitable and "
    "specific measures, in particular on monitoring systems at the work place",
    "https://gdprhub.eu/index.php?title=Article_88_GDPR&oldid=18945",
)
_CONSULT_EU = Reference(
    "GDPR Art 35(9)",
    "seek the views of data subjects or their representatives on the intended processing",
    "GDPR (Regulation (EU) 2016/679), Art 35(9)",
)
_NOTICE_EU = Reference(
    "GDPR Arts 13, 14 and 21",
    "workers are told about the processing before it starts, and may object",
    "GDPR (Regulation (EU) 2016/679), Arts 13, 14 and 21",
)
_AI_ACT = Reference(
    "EU AI Act (Regulation (EU) 2024/1689) Art 5(1)(f), Annex III point 4(b), Art 26(7)",
    "emotion recognition at work is prohibited; AI that monitors or evaluates workers is high-risk and "
    "its deployer informs workers' representatives first",
    "https://fpf.org/blog/red-lines-under-eu-ai-act-unpacking-the-prohibition-of-emotion-recognition-in-the-"
    "workplace-and-education-institutions",
)
_BETRVG = Reference(
    "BetrVG §87(1) no. 6",
    "the works council co-determines the introduction and use of technical devices suited to monitor "
    "workers' behaviour or performance; without its agreement the employer may not use them",
    "https://www.boddenberg.de/microsoft-365-mitbestimmung/",
)
_BAG_GROUP = Reference(
    "BAG 26 July 1994, 1 ABR 6/94",
    "performance data about a working group, not a person, is monitoring under §87(1) no. 6 when the "
    "pressure passes on to the group's members (small groups)",
    "https://www.betriebsrat.com/urteil/16219/65960/bag-1-abr-6-94",
)
_BAG_M365 = Reference(
    "BAG 8 March 2022, 1 ABR 20/21",
    "co-determination applies to Microsoft 365; with one central tenant the central works council "
    "(Gesamtbetriebsrat) is competent",
    "https://jurpc.de/show?id=20220108",
)
_BDSG = Reference(
    "BDSG §26 with GDPR Art 88(1)",
    "a works agreement may be the legal basis of employee data processing; after CJEU C-34/21 "
    "(30 March 2023) the general clause of §26(1) is doubted, the works-agreement route is not",
    "teamlens requirements R28 (the judgment was not checked)",
    verified=False,
)
_CSE = Reference(
    "Code du travail L2312-38",
    "the CSE is informed and consulted before the employer decides to use means or techniques that allow "
    "workers' activity to be controlled",
    "https://www.cabinet-cec.fr/controle-de-lactivite-des-salaries-et-consultation-du-cse/ (the duty; the "
    "article number is not confirmed by that source)",
    verified=False,
)
_L1222 = Reference(
    "Code du travail L1222-4 and L1121-1",
    "no information about a worker personally is collected by a device they were not told of beforehand; "
    "restrictions of workers' freedoms must be justified and proportionate",
    "https://legavox.fr/blog/jurispilote/cameras-sous-surveillance-5340.htm",
)
_WOR = Reference(
    "WOR art 27(1)(k) and (l)",
    "the works council's consent is needed for rules on processing workers' personal data and on "
    "systems suited to observe or check their presence, behaviour or performance; without it the "
    "employer may not use them (art 27(4): unless the cantonal court allows it)",
    "https://autoriteitpersoonsgegevens.nl/themas/werk-en-uitkering/ondernemingsraad/de-or-en-personeelsvolgsystemen",
)

_EU_DOCUMENTS = (Document.ART88, Document.AI_ACT)
#: No source gives a jurisdiction its own number: every profile starts from R12's k and R15's days.
_K, _DAYS = 10, 35

PROFILES: dict[Jurisdiction, Profile] = {
    Jurisdiction.UK: Profile(
        Jurisdiction.UK,
        "United Kingdom",
        "UK GDPR",
        "the Information Commissioner's Office (ico.org.uk)",
        (
            RepresentativeBody.TRADE_UNION,
            RepresentativeBody.EMPLOYEE_FORUM,
            RepresentativeBody.WORKS_COUNCIL,
            RepresentativeBody.NOT_STATED,
        ),
        _CONSULT_UK,
        False,
        False,
        (),
        _K,
        _DAYS,
        (_DPIA_UK, _CONSULT_UK, _NOTICE_UK, _DUAA),
    ),
    Jurisdiction.EU: Profile(
        Jurisdiction.EU,
        "European Union",
        "GDPR",
        "the data protection supervisory authority where you work",
        tuple(RepresentativeBody),
        _CONSULT_EU,
        False,
        False,
        _EU_DOCUMENTS,
        _K,
        _DAYS,
        (_CONSULT_EU, _NOTICE_EU, _ART88, _AI_ACT),
    ),
    Jurisdiction.DE: Profile(
        Jurisdiction.DE,
        "Germany",
        "GDPR",
        "the data protection authority of your Land",
        (RepresentativeBody.WORKS_COUNCIL, RepresentativeBody.CENTRAL_WORKS_COUNCIL),
        _BETRVG,
        True,
        False,
        (*_EU_DOCUMENTS, Document.BETRIEBSVEREINBARUNG),
        _K,
        _DAYS,
        (_BETRVG, _BAG_GROUP, _BAG_M365, _BDSG, _NOTICE_EU, _ART88, _AI_ACT),
    ),
    Jurisdiction.FR: Profile(
        Jurisdiction.FR,
        "France",
        "GDPR",
        "the CNIL (cnil.fr)",
        (RepresentativeBody.CSE, RepresentativeBody.CENTRAL_CSE),
        _CSE,
        False,
        True,
        _EU_DOCUMENTS,
        _K,
        _DAYS,
        (_CSE, _L1222, _NOTICE_EU, _ART88, _AI_ACT),
    ),
    Jurisdiction.NL: Profile(
        Jurisdiction.NL,
        "Netherlands",
        "GDPR",
        "the Autoriteit Persoonsgegevens (autoriteitpersoonsgegevens.nl)",
        (RepresentativeBody.WORKS_COUNCIL, RepresentativeBody.CENTRAL_WORKS_COUNCIL),
        _WOR,
        True,
        False,
        _EU_DOCUMENTS,
        _K,
        _DAYS,
        (_WOR, _NOTICE_EU, _ART88, _AI_ACT),
    ),
}


def profile(jurisdiction: Jurisdiction) -> Profile:
    """The profile of ``jurisdiction``."""
    return PROFILES[jurisdiction]
