"""Consent: the redactor and the leak checks, the last step before any text reaches a user.

Names of people without consent (and every contact detail) are removed from answers, evidence and
drafts; :meth:`Redactor.leaks` is the check that nothing slipped through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .knowledge import Person
from .messages import lower_first

NAME_PARTICLES = {
    "van",
    "de",
    "der",
    "den",
    "het",
    "ten",
    "ter",
    "te",
    "el",
    "la",
    "le",
    "di",
    "da",
    "von",
    "in",
    "'t",
}
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+])(?:\+31|0031|0)[\s-]?(?:\d[\s-]?){8}\d(?!\d)")
_PROTECT = "\ue000{}\ue001"
_DIGIT = re.compile(r"\d")
_WORDLIKE = re.compile(r"\w+")


def _any_word(words: list[str]) -> re.Pattern | None:
    """One case-insensitive pass that finds any of ``words`` as a whole word (the name rules
    only ever match whole words, so this never misses one of their matches); None for none."""
    words = sorted({w for w in words if w}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?![\w-])", re.I)


@dataclass
class _Rule:
    pattern: re.Pattern
    #: ``None`` = a full name, replaced whatever its case; otherwise only a capitalised mention
    #: counts ("Prins" the surname, not "prins" the word).
    needs_capital: bool
    nl: str
    en: str


class Redactor:
    """Removes names of non-consenting people and all contact details from user-facing text.

    A name becomes the person's role ("de teamleider klantcontactcentrum van Gemeente Haverdam")
    or "een collega van <organisatie>". Full names, surname-only and first-name-only mentions are
    caught; a role written right before the name is absorbed so it is not said twice. Names of
    consenting people are protected first, so "Willem" is redacted but "Jan-Willem Kok" is not.
    """

    def __init__(self, people: list[Person]) -> None:
        self.rules: list[_Rule] = []
        self.person_rules: list[tuple[str, list[_Rule]]] = []
        self.hidden: list[Person] = [p for p in people if p.consent is not True and p.name.strip()]
        shown = [p.name for p in people if p.consent is True]
        self._protect = [
            re.compile(r"(?<![\w-])" + r"\s+".join(map(re.escape, n.split())) + r"(?![\w-])", re.I)
            for n in sorted(shown, key=len, reverse=True)
        ]
        # Every protected name contains its first word and every rule's match contains its
        # variant's last word (same engine, same re.I), so a text without any of them is left
        # unchanged by the loops below; these one-pass checks skip them for most passages.
        self._protect_any = _any_word([n.split()[0] for n in shown])
        self._protect_first = [n.split()[0].lower() for n in sorted(shown, key=len, reverse=True)]
        self.contacts: set[str] = set()
        for p in people:
            for v in p.contact.given().values():
                if len(v) >= 5:
                    self.contacts.add(str(v))
        rule_words: list[str] = []
        for p in self.hidden:
            name = p.name.strip()
            org, role = p.organisation, p.role
            role_l = lower_first(role) if role else None
            if role_l and org:
                nl, en = f"de {role_l} van {org}", f"the {role_l} at {org}"
            elif role_l:
                nl, en = f"de {role_l}", f"the {role_l}"
            elif org:
                nl, en = f"een collega van {org}", f"a colleague at {org}"
            else:
                nl, en = "een collega", "a colleague"
            parts = name.split()
            variants: list[tuple[str, bool]] = [(name, False)]
            if len(parts) > 1:
                surname = " ".join(parts[1:])
                variants.append((surname, True))
                core = " ".join(w for w in parts[1:] if w.lower() not in NAME_PARTICLES)
                if core and core != surname and len(core) >= 3:
                    variants.append((core, True))
                if len(parts[0]) >= 3:
                    variants.append((parts[0], True))
            # "Teamleider klantcontactcentrum Bart Hendriks", "directeur Gerrit van Dam": the role
            # before the name is swallowed by the replacement, which already says it.
            role_words = (
                [role] + ([role.split()[0]] if role and len(role.split()) > 1 else [])
                if role
                else []
            )
            role_alt = "|".join(r"\s+".join(map(re.escape, r.split())) for r in role_words)
            lead = rf"(?:(?:de|het|the|onze|our)\s+)?(?:{role_alt})\s+" if role_alt else ""
            mine = []
            for v, cap in variants:
                rule_words.append(v.split()[-1])
                body = r"\s+".join(re.escape(w) for w in v.split())
                pat = (
                    rf"(?<![\w-])(?:{lead})?(?P<name>{body})(?![\w-])"
                    if lead
                    else rf"(?<![\w-])(?P<name>{body})(?![\w-])"
                )
                mine.append(_Rule(re.compile(pat, re.I), cap, nl, en))
            self.rules += mine
            self.person_rules.append((name, mine))
        self._rules_any = _any_word(rule_words)

    @staticmethod
    def _capitalised(m: re.Match) -> bool:
        name = m.group("name")
        core = [w for w in name.split() if w.lower() not in NAME_PARTICLES] or name.split()
        return core[-1][:1].isupper()

    def _protect_shown(self, text: str) -> tuple[str, list[str]]:
        kept: list[str] = []
        found = (
            {m.group(0).lower() for m in self._protect_any.finditer(text)}
            if self._protect_any is not None
            else set()
        )
        if not found:
            return text, kept
        patterns = self._protect
        # Only the names whose first word occurs can match. Matches are whole words, so a
        # missed overlapping occurrence needs a found word with a non-word character (or a
        # case form lower() does not map back): then all patterns run.
        if found <= set(self._protect_first) and all(_WORDLIKE.fullmatch(w) for w in found):
            patterns = [
                p for p, w in zip(self._protect, self._protect_first, strict=True) if w in found
            ]

        def keep(m: re.Match) -> str:
            kept.append(m.group(0))
            return _PROTECT.format(len(kept) - 1)

        for pat in patterns:
            text = pat.sub(keep, text)
        return text, kept

    @staticmethod
    def _restore(text: str, kept: list[str]) -> str:
        for i, s in enumerate(kept):
            text = text.replace(_PROTECT.format(i), s)
        return text

    def strip_contacts(self, text: str, language: str = "nl") -> str:
        repl = "[contactgegevens weggelaten]" if language != "en" else "[contact details removed]"
        for c in sorted(self.contacts, key=len, reverse=True):
            if c in text:
                text = text.replace(c, repl)
        if "@" in text:
            text = _EMAIL.sub(repl, text)
        return _PHONE.sub(repl, text) if _DIGIT.search(text) else text

    def __call__(self, text: str | None, language: str = "nl") -> str | None:
        if not text:
            return text
        text, kept = self._protect_shown(text)
        if self._rules_any is None or not self._rules_any.search(text):
            return self.strip_contacts(self._restore(text, kept), language)
        for rule in self.rules:

            def sub(m: re.Match, rule: _Rule = rule, s: str = text) -> str:
                if rule.needs_capital and not self._capitalised(m):
                    return m.group(0)
                out = rule.en if language == "en" else rule.nl
                if _sentence_start(s[: m.start()]):
                    out = out[:1].upper() + out[1:]
                return out

            text = rule.pattern.sub(sub, text)
        text = self._restore(text, kept)
        return self.strip_contacts(text, language)

    def evidence(self, evidence: list) -> list:
        """Answerer evidence with names redacted in each document's own language.

        The same units come back question after question, so their redacted text is kept
        (this redactor lives as long as its index generation)."""
        memo = self.__dict__.setdefault("_evidence_memo", {})
        if len(memo) > 50_000:
            memo.clear()

        def redacted(text: str, lang: str) -> str:
            key = (text, lang)
            hit = memo.get(key)
            if hit is None:
                hit = memo[key] = self(text, lang) or text
            return hit

        return [ev.map_text(lambda t, lang=ev.language: redacted(t, lang)) for ev in evidence]

    def scrub(self, text: str) -> str:
        """The text with non-consenting names removed outright, for use as a search query: a
        question naming them is then treated exactly like one naming a stranger."""
        if not text:
            return text
        text, kept = self._protect_shown(text)
        for rule in self.rules:
            text = rule.pattern.sub(
                lambda m, rule=rule: (
                    m.group(0) if rule.needs_capital and not self._capitalised(m) else " "
                ),
                text,
            )
        return re.sub(r"[ \t]{2,}", " ", self._restore(text, kept)).strip()

    def leaks(self, text: str | None) -> list[str]:
        """Names (full, surname or first name) of non-consenting people still in ``text``, and
        contact details of anyone. Used by tests and the evaluation."""
        if not text:
            return []
        found = [c for c in self.contacts if c in text]
        found += _EMAIL.findall(text) + _PHONE.findall(text)
        text, _ = self._protect_shown(text)
        for name, rules in self.person_rules:
            for rule in rules:
                if any(
                    not rule.needs_capital or self._capitalised(m)
                    for m in rule.pattern.finditer(text)
                ):
                    found.append(name)
                    break
        return list(dict.fromkeys(found))


def _sentence_start(before: str) -> bool:
    b = before.rstrip(" \t\"'“‘(")
    return not b or b[-1] in ".!?:\n" or before.endswith("\n")
