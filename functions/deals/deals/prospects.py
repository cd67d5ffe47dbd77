"""The normalised keys a registration is judged on: registrable domain, and company name without legal form."""

from __future__ import annotations

import re
import unicodedata
from itertools import chain

from cleanco.termdata import terms_by_country, terms_by_type

from shared.domains import registrable_domain

# Legal forms come from cleanco's term data (legal-form abbreviations by type and by country, MIT licence; pinned in
# requirements/runtime.in). cleanco lists most forms only abbreviated, so the spelled-out names of the same forms
# (as the ISO 20275 entity legal form list names them; transcribed, review against GLEIF's ELF list when updating)
# are added here. Only legal forms are stripped: "group", "holdings" or a leading "the" are part of the name.
SPELLED_OUT = {
    # DE, AT, CH, LI
    "aktiengesellschaft",
    "gesellschaft mit beschrankter haftung",
    "kommanditgesellschaft",
    "kommanditgesellschaft auf aktien",
    "offene handelsgesellschaft",
    "eingetragene genossenschaft",
    "gmbh co kgaa",
    "ag co kg",
    "ag co kgaa",
    "se co kg",
    "se co kgaa",
    "gmbh co ohg",
    # FR, BE, LU, CH
    "societe anonyme",
    "societe par actions simplifiee",
    "societe par actions simplifiee unipersonnelle",
    "societe a responsabilite limitee",
    "societe en nom collectif",
    # NL, BE
    "besloten vennootschap",
    "naamloze vennootschap",
    # IT, CH
    "societa per azioni",
    "societa a responsabilita limitata",
    # ES, PT, BR, MX and other Latin America
    "sociedad anonima",
    "sociedad limitada",
    "sociedad de responsabilidad limitada",
    "sociedade anonima",
    "limitada",
    "eireli",
    "slu",
    "sau",
    "s de rl de cv",
    "sab de cv",
    "sapi de cv",
    # Nordics
    "aktiebolag",
    "ab publ",
    "aksjeselskap",
    "allmennaksjeselskap",
    "aktieselskab",
    "anpartsselskab",
    "osakeyhtio",
    "julkinen osakeyhtio",
    # PL ("ł" has no decomposition, so it stays)
    "społka z ograniczona odpowiedzialnoscia",
    "społka akcyjna",
    "społka komandytowa",
    # JP, KR (romanised; the native forms are in ATTACHED below)
    "kabushiki kaisha",
    "kabushiki gaisha",
    "godo kaisha",
    "yugen kaisha",
    # UK, IE, US, CA, AU, NZ, ZA, IN, SG, MY
    "public limited company",
    "limited liability company",
    "limited liability partnership",
    "limited partnership",
    "private limited",
    "private ltd",
    "pvt limited",
    "pty limited",
    "proprietary limited",
    "pte limited",
    "berhad",
    "sendirian berhad",
    # a form after "& Co." or "Co.," ("Toyota Motor Co., Ltd.", "Müller & Co. KG"): one form, stripped once
    "co ltd",
    "co limited",
    "company limited",
    "co inc",
    "co llc",
    "co kg",
    "co ohg",
    "co kgaa",
}
# cleanco terms that are ordinary words or country codes at the end of a company's name ("Acme UK"), not forms.
NOT_FORMS = {"uk", "is", "at", "ok", "ent", "private"}
# Forms written before the name ("PT Telkom Indonesia", "Aktiebolaget Volvo"; in Cyrillic ooo, oao, pao, zao, ao).
CYRILLIC = {"\u043e\u043e\u043e", "\u043e\u0430\u043e", "\u043f\u0430\u043e", "\u0437\u0430\u043e", "\u0430\u043e"}
PREFIXES = {"pt", "ab", "as", "uab", "sia", "ooo", "aktiebolaget", "株", "주"} | CYRILLIC
# Forms in scripts written without spaces, stripped where they touch the name ("トヨタ自動車株式会社").
ATTACHED = (
    "株式会社",
    "有限会社",
    "合同会社",
    "合名会社",
    "合資会社",
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "주식회사",
    "유한회사",
)


def _normalised(name: str) -> str:
    # Fold accents (Müller -> muller) but keep letters and digits of every script (Газпром, トヨタ).
    text = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    text = unicodedata.normalize("NFKC", text).casefold().replace("&", " ")
    text = " ".join("".join(c if c.isalnum() else " " for c in text).split())
    # Dotted abbreviations (`S.A.`, `B.V.`) arrive as single letters: join each run of them into one word.
    return re.sub(r"\b[a-z](?: [a-z]\b)+", lambda m: m.group(0).replace(" ", ""), text)


LEGAL_FORMS: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        {tuple(_normalised(t).split()) for t in chain(*terms_by_type.values(), *terms_by_country.values())}
        - {(word,) for word in NOT_FORMS}
        | {tuple(form.split()) for form in SPELLED_OUT},
        key=lambda form: (-len(form), form),  # longest first: "gmbh co kg" before "kg"
    )
)


def _strip_legal_forms(words: list[str]) -> list[str]:
    """Drop one legal form from the end (the longest that matches) and a prefix form, never the last word."""
    for form in LEGAL_FORMS:
        if len(words) > len(form) and tuple(words[-len(form) :]) == form:
            del words[-len(form) :]
            break
    if len(words) > 1 and words[0] in PREFIXES:
        del words[0]
    return words


def company_key(name: str) -> str:
    """`Globex, Inc.` -> `globex`; `ACME GmbH & Co. KG` -> `acme`. Raises ValueError if nothing is left."""
    text = _normalised(name)
    for form in ATTACHED:
        if text != form and text.startswith(form):
            text = text[len(form) :].strip()
        if text != form and text.endswith(form):
            text = text[: -len(form)].strip()
    words = text.split()
    if not words or tuple(words) in LEGAL_FORMS or text in ATTACHED:
        raise ValueError("the company name has no distinctive part")
    return "".join(_strip_legal_forms(words))


def domain_key(website: str) -> str:
    return registrable_domain(website)
