"""What the reader gets: nugget recall and readability defects of one answer text.

Retrieval metrics say whether the right documents were found; these say whether the answer a
civil servant reads states the key facts (nuggets, contract §4) and reads as text a person
wrote, not as fragments pasted together (readability defects). Pure functions over strings.

The answer format that the composer emits carries its own structure, which is *not* a defect:

- Markdown list lines on their own line (``- item``, ``* item``, ``1. item``);
- section headings on their own line, such as "Wat je kunt doen", "Zo deden anderen het",
  "Let op" (English "What you can do", "How others did it", "Watch out"), with or without a
  closing colon.

A defect is what a reader would trip over: list structure flattened into a sentence, a
checkbox marker, raw Markdown emphasis or a ``#`` heading (no channel renders those from the
answer text), a heading glued onto the sentence after it, or a sentence that opens with a
reference back ("Dat bedrag…", "This means…") to something the reader has not seen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from assistant.text import words

# -- nuggets -----------------------------------------------------------------------------------

_CITATION = re.compile(r"\[\d+(?:\s*[,;–-]\s*\d+)*\]")


def answer_words(text: str) -> list[str]:
    """Folded words of an answer, without its ``[n]`` markers (a marker is not a fact).

    Hyphenated words count whole and per part, so ``ict-beheer`` satisfies ``beheer``.
    """
    out: list[str] = []
    for w in words(_CITATION.sub(" ", text or "")):
        out.append(w)
        if "-" in w or "'" in w:
            out += [p for p in re.split(r"[-']", w) if p]
    return out


def _prefix_holds(prefix: str, vocab: Sequence[str], joined: str) -> bool:
    parts = words(prefix)
    if not parts:
        return True
    if len(parts) == 1:
        return any(w.startswith(parts[0]) for w in vocab)
    # A prefix of several words ("40.000", "drie maand", "bij de start") must begin consecutive
    # words: the earlier ones whole, the last one as a prefix.
    pattern = r"(?:^| )" + "".join(re.escape(p) + " " for p in parts[:-1]) + re.escape(parts[-1])
    return re.search(pattern, joined) is not None


def nugget_holds(nugget: dict, text: str, *, _vocab: Sequence[str] | None = None) -> bool:
    """True when every prefix of at least one alternative begins a word of ``text``."""
    vocab = _vocab if _vocab is not None else answer_words(text)
    joined = " ".join(words(_CITATION.sub(" ", text or "")))
    return any(all(_prefix_holds(p, vocab, joined) for p in alt) for alt in nugget.get("any", []))


def nugget_report(nuggets: Sequence[dict], text: str) -> dict:
    """``{"recall", "held", "missing"}`` for one answer; ``recall`` is ``None`` without nuggets."""
    if not nuggets:
        return {"recall": None, "held": [], "missing": []}
    vocab = answer_words(text)
    held, missing = [], []
    for n in nuggets:
        (held if nugget_holds(n, text, _vocab=vocab) else missing).append(n.get("fact", ""))
    return {"recall": len(held) / len(nuggets), "held": held, "missing": missing}


# -- readability defects -------------------------------------------------------------------------

DEFECT_KINDS = (
    "flattened_list",
    "checkbox",
    "raw_markdown",
    "glued_heading",
    "dangling_reference",
    "repeated_sentence",
    "broken_quotation",
)

#: Section headings of the composed answer (issue 14); a line that is exactly one of these,
#: optionally with a colon, is structure. The same words followed by a sentence on the same
#: line are a glued heading.
SECTION_HEADINGS = (
    "wat je kunt doen",
    "zo deden anderen het",
    "let op",
    "what you can do",
    "how others did it",
    "watch out",
)

_UPPER = "A-ZÀ-ÖØ-Þ"
_LIST_LINE = re.compile(r"^\s*(?:[-*•+]|\d{1,2}[.)])\s+")
_CHECKBOX = re.compile(r"\[\s?[xX✓ ]?\s?\](?!\()|[☐☑☒]")
# A list marker right after the end of a sentence or a colon, opening a new item on the same line.
_FLAT_BULLET = re.compile(rf"[.:;!?)\]]\s+[-*•]\s+(?=[\[{_UPPER}0-9‘'\"“])")
_FLAT_NUMBER = re.compile(rf"[.:;!?]\s+\d{{1,2}}[.)]\s+(?=[{_UPPER}])")
# Two or more " - Capital" items in one line, also without punctuation before them.
_DASH_ITEM = re.compile(rf"\S\s+[-*•]\s+(?=[\[{_UPPER}])")
_EMPHASIS = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__|(?<![\w*])\*(?!\s)[^*\n]+(?<!\s)\*(?![\w*])")
_HEADING = re.compile(r"(?:^|\n)\s*#{1,6}\s+\S|\s#{2,6}\s+[A-Z]")
# Words that open a sentence and are (almost) never capitalised inside one. After a lower-case
# word with no punctuation between, they mark a heading or title glued onto the next sentence.
_OPENERS_NL = [
    "Een",
    "De",
    "Het",
    "Dit",
    "Deze",
    "Die",
    "Dat",
    "Wie",
    "Wat",
    "Waarom",
    "Hoe",
    "Als",
    "Om",
    "Zo",
    "Je",
    "Jij",
    "Wij",
    "We",
    "Ze",
    "Zij",
    "Hij",
    "Er",
    "Daar",
    "Daarom",
    "Bij",
    "In",
    "Op",
    "Voor",
    "Met",
    "Na",
    "Tijdens",
    "Door",
    "Zonder",
    "Sinds",
    "Toen",
    "Nu",
    "Maar",
    "En",
    "Ook",
    "Niet",
    "Geen",
]
_OPENERS_EN = [
    "The",
    "An",
    "This",
    "That",
    "These",
    "Those",
    "We",
    "You",
    "They",
    "It",
    "If",
    "When",
    "Why",
    "How",
    "What",
    "Who",
    "In",
    "On",
    "For",
    "With",
    "After",
    "During",
    "Without",
    "Since",
    "Then",
    "Now",
    "But",
    "And",
    "Also",
    "Not",
    "No",
]
_GLUED = re.compile(
    r"(?<![\w.])[a-zà-ÿ][a-zà-ÿ'-]*\s+(" + "|".join(_OPENERS_NL + _OPENERS_EN) + r")\s+[a-zà-ÿ]"
)
# Openers that point back at earlier text ("Dat bedrag", "Daarom", "This means").
_BACKREF = {
    "dat",
    "die",
    "dit",
    "deze",
    "daarom",
    "daardoor",
    "daarmee",
    "daarna",
    "daarbij",
    "daarvoor",
    "daarnaast",
    "daar",
    "hij",
    "zij",
    "ze",
    "zo'n",
    "zulke",
    "this",
    "that",
    "these",
    "those",
    "therefore",
    "thus",
    "hence",
    "they",
    "he",
    "she",
    "such",
}
_LEADING_PUNCT = re.compile(r"^[\s\"'‘’“”(\[«»–-]+")
# Sentence ends; trailing [n] markers stay with the sentence they close.
_SENTENCE_END = re.compile(
    rf"(?<=[.!?])((?:\s*\[\d+(?:\s*[,;–-]\s*\d+)*\])*)\s+(?=[\"'‘“(]?[{_UPPER}0-9])"
)


def _is_heading_line(line: str) -> bool:
    bare = line.strip().rstrip(":").strip()
    if not bare:
        return False
    if bare.lower() in SECTION_HEADINGS:
        return True
    # A short line without closing punctuation is a heading, not a sentence.
    return len(bare.split()) <= 8 and not re.search(r"[.!?;,]$|\]$", bare)


def _blocks(text: str) -> list[tuple[str, str]]:
    """``(kind, body)`` per line: ``list`` (marker removed), ``heading`` or ``prose``."""
    out = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        m = _LIST_LINE.match(line)
        if m and not _CHECKBOX.match(line[m.end() :]):
            out.append(("list", line[m.end() :]))
        elif _is_heading_line(line):
            out.append(("heading", line.strip()))
        else:
            out.append(("prose", line.strip()))
    return out


def _cited(sentence: str) -> frozenset[int]:
    out: set[int] = set()
    for m in _CITATION.finditer(sentence):
        out.update(int(n) for n in re.findall(r"\d+", m.group(0)))
    return frozenset(out)


def sentences(text: str) -> list[tuple[str, frozenset[int]]]:
    """Sentences of one block with the ``[n]`` numbers each carries (inside or just after it)."""
    out = []
    pos = 0
    spans = []
    for m in _SENTENCE_END.finditer(text):
        spans.append(text[pos : m.end(1)])
        pos = m.end()
    spans.append(text[pos:])
    for s in spans:
        s = s.strip()
        if s:
            out.append((s, _cited(s)))
    return out


def units(text: str) -> list[tuple[str, frozenset[int]]]:
    """Runs of sentences that end at a citation marker: ``(first sentence, cited numbers)``.

    A marker closes the passage it supports, so the sentence after it starts a new passage,
    possibly from another source.
    """
    out: list[tuple[str, frozenset[int]]] = []
    first: str | None = None
    for sentence, cites in sentences(text):
        if first is None:
            first = sentence
        if cites:
            out.append((first, cites))
            first = None
    if first is not None:
        out.append((first, frozenset()))
    return out


# "Geen van deze vijf momenten", "Each of these steps": a quantifier over what came before.
_OF_THESE = re.compile(
    r"^(?:[^\W\d]+\s+)?(?:van|of|onder|among)\s+(?:deze|die|these|those)\s", re.I
)


#: Adverbs that make the first clause a consequence of something said before, wherever they
#: stand in it: "De regio koos daarom voor …", "The region therefore chose …".
_EARLY_CONSEQUENCE = {"daarom", "daardoor", "daarmee", "dus", "therefore", "thus", "hence"}
_EARLY_WORDS = 5


def _opens_with_backref(sentence: str) -> bool:
    if sentence.rstrip().rstrip("[]0-9, ").endswith(":"):
        return False  # "Dit zegt de kennisbank erover:" points forward, at what follows
    bare = _LEADING_PUNCT.sub("", sentence)
    if _OF_THESE.match(bare):
        return True
    first = bare.split(maxsplit=1)
    if not first:
        return False
    word = first[0].rstrip(",;:").lower().replace("’", "'")
    if word in _BACKREF:
        return True
    clause = re.split(r"[,;:]", bare, maxsplit=1)[0]
    return any(w.lower() in _EARLY_CONSEQUENCE for w in clause.split()[1:_EARLY_WORDS])


# "Of those 22 pilots" later in a paragraph names something only an earlier paragraph introduced.
_NAMED_BACK = re.compile(
    r"^(?:of|from|among|van|onder|uit|bij)\s+(?:those|these|die|deze)\s+(?:\d+\s+)?([^\W\d]{4,})",
    re.I,
)


def _names_the_unseen(block: str, before: str = "") -> list[str]:
    """Sentences after the first of a paragraph that name, with a pointing word, what the
    paragraph has not mentioned before them. ``before``: the paragraph just above when it
    quotes the same source, which may have introduced it (the rule for opening words too)."""
    out = []
    earlier = before
    for i, (sentence, _) in enumerate(sentences(block)):
        m = _NAMED_BACK.match(_LEADING_PUNCT.sub("", sentence))
        if i and m and m.group(1)[:5].lower() not in earlier.lower():
            out.append(sentence)
        earlier += " " + sentence
    return out


#: Sentences this short repeat by nature ("Het lukte.") and are not counted.
_REPEAT_MIN_WORDS = 5


def _repeated(blocks: list[tuple[str, str]]) -> list[str]:
    """Sentences of the answer that stand in it twice (citation markers aside)."""
    seen: set[str] = set()
    out = []
    for _, body in blocks:
        for sentence, _ in sentences(_CITATION.sub("", body)):
            key = " ".join(sentence.lower().split())
            if len(key.split()) < _REPEAT_MIN_WORDS:
                continue
            if key in seen:
                out.append(sentence)
            seen.add(key)
    return out


def _opens_inside_quotation(body: str) -> bool:
    """A passage whose first quotation mark closes a quotation it never opened: 'Anders was het
    nooit goedgekeurd." Die keuze …' shows the end of someone's words without the start or the
    speaker."""
    text = _CITATION.sub("", body).strip()
    m = re.search(r'["“”]', text)
    if m is None:
        return False
    if m.group(0) != '"':
        # ”…” also serves as a pair (Dutch typesetting); only a lone closing mark is broken.
        return m.group(0) == "”" and text.count("”") % 2 == 1
    # A straight mark closes when it follows a word or a sentence end and is not followed by one.
    before = text[m.start() - 1] if m.start() else " "
    after = text[m.end()] if m.end() < len(text) else " "
    return not before.isspace() and before not in "(:" and not after.isalnum()


def defects(text: str) -> dict[str, list[str]]:
    """Readability defects of one answer text: kind → offending excerpts (empty: clean)."""
    found: dict[str, list[str]] = {k: [] for k in DEFECT_KINDS}

    def note(kind: str, excerpt: str) -> None:
        found[kind].append(excerpt.strip()[:120])

    for m in _CHECKBOX.finditer(text or ""):
        note("checkbox", text[max(0, m.start() - 30) : m.end() + 40])
    for m in _EMPHASIS.finditer(text or ""):
        note("raw_markdown", m.group(0))
    for m in _HEADING.finditer(text or ""):
        note("raw_markdown", text[m.start() : m.end() + 40])

    blocks = _blocks(text)
    for sentence in _repeated(blocks):
        note("repeated_sentence", sentence)
    for kind, body in blocks:
        if kind != "heading" and _opens_inside_quotation(body):
            note("broken_quotation", body[:80])

    previous_cites: frozenset[int] | None = None
    previous_block: tuple[str, frozenset[int]] = ("", frozenset())
    for kind, body in blocks:
        # A short line without punctuation reads as a heading, and may itself be a glued one.
        low = body.lower()
        for h in SECTION_HEADINGS:
            if low.startswith(h + " ") and re.match(rf"[{_UPPER}]", body[len(h) + 1 :].lstrip()):
                note("glued_heading", body[: len(h) + 40])
        for m in _GLUED.finditer(body):
            note("glued_heading", body[max(0, m.start() - 30) : m.end() + 30])
        if kind == "heading":
            previous_cites, previous_block = None, ("", frozenset())
            continue
        for m in _FLAT_BULLET.finditer(body):
            note("flattened_list", body[max(0, m.start() - 40) : m.end() + 40])
        for m in _FLAT_NUMBER.finditer(body):
            note("flattened_list", body[max(0, m.start() - 40) : m.end() + 40])
        items = list(_DASH_ITEM.finditer(body))
        if len(items) >= 2 and not found["flattened_list"]:
            note("flattened_list", body[max(0, items[0].start() - 40) : items[1].end() + 40])
        # A list item stands alone. In prose a passage may lean on the one before it only when
        # both come from the same source (they share a citation number).
        if kind == "list":
            previous_cites, previous_block = None, ("", frozenset())
        else:
            own = _cited(body)
            same_source = bool(own) and bool(previous_block[1] & own)
            for sentence in _names_the_unseen(body, previous_block[0] if same_source else ""):
                note("dangling_reference", sentence)
            previous_block = (body, own)
        for first, cites in units(body):
            unresolved = previous_cites is None or (
                bool(cites) and bool(previous_cites) and not cites & previous_cites
            )
            if unresolved and _opens_with_backref(first):
                note("dangling_reference", first)
            previous_cites = cites
        if kind == "list":
            previous_cites = None
    return {k: v for k, v in found.items() if v}


def defect_summary(per_answer: Iterable[dict[str, list[str]]]) -> dict:
    """``{"answers": n with at least one, "by_kind": {kind: n answers}}``."""
    rows = list(per_answer)
    return {
        "answers": sum(1 for d in rows if d),
        "by_kind": {k: sum(1 for d in rows if d.get(k)) for k in DEFECT_KINDS},
    }
