"""Evidence units: the pieces of a document a reader can follow on their own.

The index stores chunks: pieces of at most ~1,100 characters, cut wherever the splitter had to,
so one list can run over two chunks and a chunk can start with the last line of the one before
(the overlap). An answer must never quote a sentence torn from its paragraph or a list item torn
from its list. So at answer time the chunks of one section (same heading path, same page) are
glued back together, and the section is cut into units again, along the lines a reader sees:

- a **paragraph**;
- a **list** with everything that belongs to it: the heading of its section, the sentence that
  introduces it ("Daaruit kwam een kostendelingsmodel:"), and all its items, also when the list
  ran over a chunk boundary.

This is done from the chunk text the index already holds (heading path and text), so every
existing index keeps working and nothing has to be re-embedded. Units are built once per
document and index generation and cached.

Each unit knows what it is, from its heading: ``steps``, ``pitfalls``, ``example``, ``result``,
``lessons`` or plain ``text``. A unit whose first word points back ("Dat", "Daarom", "This"…) has
an antecedent, the unit before it in the same section, and is only ever used together with it.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property

from .text import fold, split_sentences

#: What a unit is, from words in its heading (folded, matched as word prefixes).
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "pitfalls": (
        "valkuil",
        "wat ging mis",
        "wat misging",
        "wat niet werkte",
        "wat werkte niet",
        "risico",
        "fouten",
        "veelgemaakte",
        "zorgen",
        "waarom het misging",
        "pitfall",
        "what went wrong",
        "mistakes",
        "risks",
        "watch out",
    ),
    "steps": (
        "stappen",
        "stappenplan",
        "aanpak",
        "checklist",
        "zo pak je",
        "wat je kunt doen",
        "wat werkt",
        "tips",
        "advies",
        "aanbeveling",
        "keuzeschema",
        "hoe je",
        "werkwijze",
        "afspraken",
        "wie zit er aan tafel",
        "doe dit",
        "wat je anders doet",
        "kunnen doen",
        "zo krijg je",
        "do this",
        "to do differently",
        "steps",
        "how to",
        "what to do",
        "what works",
        "approach",
        "recommendation",
        "advice",
    ),
    "lessons": (
        "les",
        "lessen",
        "geleerd",
        "wat we meenemen",
        "lesson",
        "learned",
        "learnt",
        "did differently",
        "tip uit",
    ),
    "example": ("voorbeeld", "praktijk", "example", "in practice", "case"),
    "result": (
        "resultaat",
        "resultaten",
        "opbrengst",
        "effect",
        "wat het opleverde",
        "uitkomst",
        "result",
        "outcome",
        "impact",
    ),
}


def _kind_re(words_: tuple[str, ...]) -> re.Pattern[str]:
    """A heading word names a kind when it is the kind word with at most a short ending
    ("valkuilen", "aanbevelingen"), or, for words of six letters or more, when it ends in it: a
    Dutch compound names what its last part names ("rekenvoorbeeld" is an example, but
    "afsprakenplanner" is a planner, not "afspraken"). Phrases match where a word starts."""
    phrases = [re.escape(w) for w in words_ if " " in w]
    short = [re.escape(w) for w in words_ if " " not in w and len(w) < 6]
    long_ = [re.escape(w) for w in words_ if " " not in w and len(w) >= 6]
    parts = []
    if phrases:
        parts.append(r"\b(?:" + "|".join(phrases) + ")")
    if short:
        parts.append(r"\b(?:" + "|".join(short) + r")[a-z']{0,3}\b")
    if long_:
        parts.append(r"(?:" + "|".join(long_) + r")[a-z']{0,3}\b")
    return re.compile("|".join(parts), re.I)


_KIND_RES = {kind: _kind_re(ws) for kind, ws in KIND_WORDS.items()}

#: Words that make a paragraph lean on the one before it when they open it.
BACK_REFERENCES = frozenset(
    [
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
        "daarvan",
        "daarin",
        "daarop",
        "daaruit",
        "daarnaast",
        "daar",
        "hierdoor",
        "hiermee",
        "hierbij",
        "hiervoor",
        "hierin",
        "zo'n",
        "zulke",
        "hetzelfde",
        "dezelfde",
        "hij",
        "zij",
        "ze",
        "ook",
        "toch",
        "bovendien",
        "verder",
        "vervolgens",
        "ervoor",
        "this",
        "that",
        "these",
        "those",
        "it",
        "they",
        "them",
        "he",
        "she",
        "such",
        "therefore",
        "hence",
        "thus",
        "also",
    ]
)

_ITEM = re.compile(r"^\s*(?:([-*•+])|(\d{1,2})[.)])\s+(.*)$")
_CHECKBOX = re.compile(r"^\[[ xX]\]\s*")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_RUN_IN = re.compile(r"^(\*\*|__)[^*_\n]{2,80}?[.:!?]\1\s+\S")
_EMPHASIS = re.compile(r"\*\*(.+?)\*\*|__(.+?)__|(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
_SOURCE_MARKER = re.compile(r"\[(\d+)\]")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}")


@dataclass
class Unit:
    """One coherent piece of a document: a paragraph, or a list with its lead-in."""

    doc_id: str
    #: Index of the unit in its document, in reading order.
    ordinal: int
    #: Heading path of the section ("Overdracht en beheer na de pilot > Valkuilen").
    heading: str
    kind: str
    #: The lead-in of a list, or the paragraph's text.
    text: str
    #: List items, cleaned of markers and emphasis; empty for a paragraph.
    items: list[str] = field(default_factory=list)
    ordered: bool = False
    page: int | None = None
    #: Ordinal of the unit this one leans on ("Dat hielp: …"), or None.
    antecedent: int | None = None
    #: Ids of the chunks its text came from, for the retriever's chunk scores.
    chunk_ids: tuple[str, ...] = ()
    #: The paragraph opens with a bold run-in title ("**Een papieren prototype in
    #: Oosterbroek.** Een team …"): a label of the paragraph, not one of its sentences.
    run_in: bool = False

    @property
    def is_list(self) -> bool:
        return bool(self.items)

    @property
    def last_heading(self) -> str:
        return self.heading.rsplit(" > ", 1)[-1].strip()

    def plain(self) -> str:
        """All its text as one string (lead-in, then the items), for scoring and snippets."""
        return " ".join([self.text, *self.items]).strip()

    def markdown(self) -> str:
        """The unit as Markdown: the lead-in, then one list line per item."""
        lines = [self.text] if self.text else []
        for i, item in enumerate(self.items, start=1):
            lines.append(f"{i}. {item}" if self.ordered else f"- {item}")
        return "\n".join(lines)

    def sentences(self) -> list[str]:
        return split_sentences(self.text)

    # Both are read for every candidate unit of every question; a unit's text never changes
    # (``dataclasses.replace`` makes a new one), so they are worked out once.
    @cached_property
    def refers_back(self) -> bool:
        first = self.text or (self.items[0] if self.items else "")
        return points_back(first) or names_what_came_before(self.text)

    @cached_property
    def last_sentence(self) -> str:
        """The sentence a unit that leans on this one is put behind ("" without text)."""
        return (split_sentences(self.text)[-1:] or [""])[0]


def opens_with_reference(text: str) -> bool:
    """True when the first word points back at something before it ("Dat bedrag…", "This…")."""
    m = re.match(r"\W*([\w']+)", fold(text or ""))
    return bool(m) and m.group(1) in BACK_REFERENCES


#: Prepositions before a pointing word that opens a sentence ("Of those 22 pilots, …").
_PREPOSITIONS = frozenset(
    [
        "of",
        "in",
        "from",
        "for",
        "with",
        "at",
        "by",
        "among",
        "after",
        "before",
        "about",
        "van",
        "bij",
        "met",
        "na",
        "voor",
        "uit",
        "onder",
        "op",
        "aan",
        "over",
        "tussen",
    ]
)
_POINTERS = frozenset(
    ["those", "these", "that", "this", "such", "die", "deze", "dat", "dit", "zulke"]
)
_NUMBER_WORDS = frozenset(
    [
        "twee",
        "drie",
        "vier",
        "vijf",
        "zes",
        "zeven",
        "acht",
        "negen",
        "tien",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
    ]
)
#: What follows a pointing word in set phrases that point at a whole clause ("In dat geval"), or
#: at the document itself ("In deze handreiking"): no reference to an earlier paragraph.
_CLAUSE_NOUNS = frozenset(
    [
        "geval",
        "gevallen",
        "manier",
        "zin",
        "moment",
        "tijd",
        "reden",
        "basis",
        "opzicht",
        "kader",
        "artikel",
        "handreiking",
        "blog",
        "gids",
        "les",
        "casus",
        "document",
        "hoofdstuk",
        "case",
        "cases",
        "way",
        "sense",
        "time",
        "reason",
        "point",
        "end",
        "regard",
        "article",
        "guide",
        "post",
        "section",
        "chapter",
    ]
)


def pointer_noun(sentence: str) -> str | None:
    """The noun of a pointing phrase that opens a sentence, or None: "Of those 22 pilots" and
    "Those 22 pilots" → ``pilots``, "Geen van deze vijf momenten" → ``momenten``. A pointing
    word alone ("Dit is …", "Die aanpak …") is ``opens_with_reference``'s business."""
    toks = re.findall(r"[\w']+", fold(sentence or ""))[:7]
    for start in (0, 1):  # a quantifier may come first: "geen van", "each of", "twee van"
        t = toks[start:]
        if len(t) >= 3 and t[0] in _PREPOSITIONS and t[1] in _POINTERS:
            rest = t[2:]
        elif start == 0 and len(t) >= 3 and t[0] in _POINTERS and t[1].isdigit():
            rest = t[1:]
        else:
            continue
        noun = next((w for w in rest if not w.isdigit() and w not in _NUMBER_WORDS), "")
        if len(noun) >= 4 and noun not in _CLAUSE_NOUNS:
            return noun
    return None


#: Adverbs that make a first clause the consequence of something said before it, wherever
#: they stand in that clause ("De regio koos daarom voor …", "The region therefore chose …").
CONSEQUENCE_WORDS = frozenset(
    ["daarom", "daardoor", "daarmee", "dus", "therefore", "thus", "hence"]
)
_CLAUSE_END = re.compile(r"[,;:]")


def states_a_consequence(sentence: str, within: int = 5) -> bool:
    clause = _CLAUSE_END.split(fold(sentence or ""), maxsplit=1)[0]
    return any(w in CONSEQUENCE_WORDS for w in re.findall(r"[\w']+", clause)[1:within])


def points_back(sentence: str) -> bool:
    """True when a sentence leans on what came before it: its first word points back, it
    opens with a pointing phrase ("Of those 22 pilots", "Geen van deze vijf momenten"), or its
    first clause is a consequence ("De regio koos daarom …")."""
    return (
        opens_with_reference(sentence)
        or pointer_noun(sentence) is not None
        or states_a_consequence(sentence)
    )


def names_what_came_before(text: str, sentences: int = 3) -> bool:
    """True when one of a paragraph's first sentences names, with a pointing phrase, something
    the paragraph has not introduced: "The headline result is sobering. Of those 22 pilots, …"
    leans on the paragraph before it, which said who followed 22 pilots."""
    sents = split_sentences(text or "")[:sentences]
    for i in range(1, len(sents)):
        noun = pointer_noun(sents[i])
        if noun is None:
            continue
        seen = re.findall(r"[\w']+", fold(" ".join(sents[:i])))
        if not any(w[:5] == noun[:5] for w in seen if len(w) >= 4):
            return True
    return False


def below_title(heading: str, title: str | None) -> str:
    """A heading path without its first part when that part is the document's title ("Van pilot
    naar praktijk > Context" → "Context"): a title says what the whole document is about, and its
    "praktijk" must not make every paragraph an example. What the title says about the kind of
    the whole document (a checklist) goes through ``doc_kind``."""
    first, _, rest = (heading or "").partition(">")
    if title and first.strip() and fold(title).startswith(fold(first.strip())):
        return rest.strip()
    return heading or ""


def kind_of(heading: str, doc_type: str | None = None) -> str:
    """``pitfalls``, ``steps``, ``lessons``, ``example``, ``result`` or ``text``.

    The innermost heading decides; an outer one only when the inner one says nothing
    ("Valkuilen > Bij de inkoop" is still about pitfalls)."""
    parts = [p.strip() for p in (heading or "").split(">") if p.strip()]
    for part in reversed(parts):
        folded = fold(part)
        for kind, rx in _KIND_RES.items():
            if rx.search(folded):
                return kind
    return "text"


def clean_inline(text: str) -> str:
    """Text without Markdown emphasis, links or checkboxes, with source markers neutralised.

    Bracketed numbers in a source would be mistaken for the answer's own citation markers."""
    s = _CHECKBOX.sub("", text.strip())
    s = _LINK.sub(r"\1", s)
    s = _EMPHASIS.sub(lambda m: m.group(1) or m.group(2) or m.group(3), s)
    s = s.replace("`", "")
    s = _SOURCE_MARKER.sub(r"(\1)", s)
    return re.sub(r"\s+", " ", s).strip()


def join_overlapping(a: str, b: str) -> str:
    """Glue two consecutive chunks, dropping the overlap the splitter repeated at b's start."""
    for k in range(min(len(a), len(b), 400), 15, -1):
        if a.endswith(b[:k]):
            return a + b[k:]
    return a + "\n\n" + b


def _looks_like_heading(line: str, nxt: str | None) -> bool:
    """A plain-text heading: a short line without closing punctuation, followed by text.

    Text files and some HTML carry their headings as ordinary lines ("Waarom deze checklist")."""
    s = line.strip()
    if not s or nxt is None or not nxt.strip() or _ITEM.match(s):
        return False
    if s[-1] in ".,;:!?)\"'”’" or len(s.split()) > 8 or len(s) > 70:
        return False
    return s[0].isupper() or s[0].isdigit()


@dataclass
class _Block:
    kind: str  # "para" | "list" | "heading"
    lines: list[str]
    ordered: bool = False


def _blocks(text: str) -> list[_Block]:
    """Paragraphs, lists and plain-text headings of one section's text, in order."""
    raw = text.replace("\r\n", "\n").split("\n")
    blocks: list[_Block] = []
    para: list[str] = []

    def end_para() -> None:
        if para:
            blocks.append(_Block("para", [" ".join(p.strip() for p in para)]))
            para.clear()

    for i, line in enumerate(raw):
        hard_break = line.endswith("  ")
        s = line.strip()
        if not s:
            end_para()
            continue
        if _TABLE_ROW.match(s) or _TABLE_RULE.match(s):
            # Tables do not survive being quoted in a chat answer; a paragraph ends at one.
            end_para()
            continue
        m = _ITEM.match(s)
        if m:
            end_para()
            ordered = m.group(2) is not None
            body = m.group(3).strip()
            last = blocks[-1] if blocks else None
            if last is not None and last.kind == "list":
                last.lines.append(("1. " if ordered else "- ") + body)
            else:
                blocks.append(_Block("list", [("1. " if ordered else "- ") + body], ordered))
            continue
        if (
            blocks
            and blocks[-1].kind == "list"
            and not para
            and i > 0
            and raw[i - 1].strip()
            and not raw[i - 1].endswith("  ")
        ):
            # A lazy continuation line (CommonMark): hard-wrapped text carries on the item above
            # it until a blank line or a hard break ("- Lange zin\ndie doorloopt").
            blocks[-1].lines[-1] += " " + s
            continue
        nxt = next((r for r in raw[i + 1 :] if r.strip()), None)
        if not para and _looks_like_heading(s, nxt):
            blocks.append(_Block("heading", [s]))
            continue
        para.append(s)
        if hard_break:
            end_para()
    end_para()
    return blocks


def _split_list(block: _Block) -> list[tuple[str | None, list[str], bool]]:
    """A list as ``(group heading, items, ordered)`` groups.

    A numbered line followed by bullets is the heading of those bullets ("1. Wat heeft de pilot
    opgeleverd?" over three questions), as checklists in text files are written."""
    groups: list[tuple[str | None, list[str], bool]] = []
    lines = block.lines
    kinds = ["o" if ln.startswith("1. ") else "u" for ln in lines]
    mixed = "o" in kinds and "u" in kinds
    if not mixed:
        return [
            (
                None,
                [ln[3:] if k == "o" else ln[2:] for ln, k in zip(lines, kinds, strict=True)],
                kinds[0] == "o",
            )
        ]
    current: tuple[str | None, list[str], bool] | None = None
    for ln, k in zip(lines, kinds, strict=True):
        body = ln[3:] if k == "o" else ln[2:]
        if k == "o":
            current = (body, [], False)
            groups.append(current)
        else:
            if current is None:
                current = (None, [], False)
                groups.append(current)
            current[1].append(body)
    return groups


def build_units(
    doc_id: str,
    chunks: list,
    doc_type: str | None = None,
    title: str | None = None,
) -> list[Unit]:
    """The units of one document from its chunks (in ordinal order).

    ``title`` names what a whole document is when its headings do not ("Checklist voor …")."""
    doc_kind = kind_of(title or "")
    doc_kind = doc_kind if doc_kind == "steps" else "text"
    # 1. Glue the chunks of each section back together.
    sections: list[tuple[str, int | None, str, list[str]]] = []
    for c in chunks:
        last = sections[-1] if sections else None
        if last is not None and last[0] == c.heading and last[1] == c.page:
            sections[-1] = (last[0], last[1], join_overlapping(last[2], c.text), [*last[3], c.id])
        else:
            sections.append((c.heading, c.page, c.text, [c.id]))

    units: list[Unit] = []
    for heading, page, text, chunk_ids in sections:
        _section_units(units, doc_id, doc_type, doc_kind, heading, page, text, chunk_ids, title)
    _locate(units, {c.id: clean_inline(c.text) for c in chunks})
    return units


def _section_units(
    units: list[Unit],
    doc_id: str,
    doc_type: str | None,
    doc_kind: str,
    heading: str,
    page: int | None,
    text: str,
    chunk_ids: list[str],
    title: str | None = None,
) -> None:
    """Append the units of one section (its chunks glued together) to ``units``."""
    own = below_title(heading, title)  # the document's title decides no unit's kind
    sub_heading: str | None = None
    section_start = len(units)
    pending_lead: str | None = None

    def add(
        text_: str,
        items: list[str],
        ordered: bool,
        heading_: str,
        *,
        run_in: bool = False,
    ) -> None:
        kind = kind_of(path(own), doc_type)
        if kind == "text" and items:
            kind = doc_kind
        prev = units[-1] if len(units) > section_start else None
        unit = Unit(
            doc_id=doc_id,
            ordinal=len(units),
            heading=heading_,
            kind=kind,
            text=text_,
            items=items,
            ordered=ordered,
            page=page,
            chunk_ids=tuple(chunk_ids),
            run_in=run_in,
        )
        if prev is not None and unit.refers_back:
            unit.antecedent = prev.ordinal
        units.append(unit)

    def path(head: str = heading) -> str:
        return f"{head} > {sub_heading}" if head and sub_heading else (sub_heading or head)

    blocks = _blocks(text)
    for bi, block in enumerate(blocks):
        if block.kind == "heading":
            if pending_lead:
                add(clean_inline(pending_lead), [], False, path())
                pending_lead = None
            sub_heading = block.lines[0]
            section_start = len(units)
            continue
        if block.kind == "para":
            para = block.lines[0]
            nxt = blocks[bi + 1] if bi + 1 < len(blocks) else None
            if pending_lead:
                add(clean_inline(pending_lead), [], False, path())
                pending_lead = None
            if para.rstrip().endswith(":") and nxt is not None and nxt.kind == "list":
                pending_lead = para  # the list it introduces follows
                continue
            add(clean_inline(para), [], False, path(), run_in=bool(_RUN_IN.match(para.strip())))
            continue
        # a list
        for group_heading, items, ordered in _split_list(block):
            cleaned = [clean_inline(x) for x in items if clean_inline(x)]
            if group_heading is not None:
                lead = clean_inline(group_heading)
                if pending_lead:
                    add(clean_inline(pending_lead), [], False, path())
                    pending_lead = None
                saved = sub_heading
                sub_heading = lead
                if cleaned:
                    add("", cleaned, ordered, path())
                else:
                    add(lead, [], False, path())
                sub_heading = saved
                continue
            if cleaned:
                add(clean_inline(pending_lead) if pending_lead else "", cleaned, ordered, path())
            pending_lead = None
    if pending_lead:
        add(clean_inline(pending_lead), [], False, path())


def _locate(units: list[Unit], chunk_texts: dict[str, str]) -> None:
    """Narrow each unit's chunk ids to the chunks that hold its first or last words."""
    for u in units:
        parts = [p for p in (u.text, *u.items) if p]
        probes = {parts[0][:40], parts[-1][-40:]} if parts else set()
        found = tuple(
            cid for cid in u.chunk_ids if any(p and p in chunk_texts.get(cid, "") for p in probes)
        )
        if found:
            u.chunk_ids = found


class UnitCache:
    """Units per document for one index generation, built on first use. At most ``max_docs``
    documents are kept (least recently used go first): every worker holds its own, and all of
    a 100k-chunk index's units cost ~190 MB per worker and minutes to build (issue 18)."""

    def __init__(self, index, max_docs: int = 2000) -> None:
        self.index = index
        self.max_docs = max_docs
        self._units: OrderedDict[str, list[Unit]] = OrderedDict()

    def of(self, doc_id: str) -> list[Unit]:
        hit = self._units.get(doc_id)
        if hit is not None:
            self._units.move_to_end(doc_id)
            return hit
        doc = self.index.docs.get(doc_id)
        hit = build_units(
            doc_id,
            self.index.of_doc(doc_id),
            doc.type if doc else None,
            doc.title if doc else None,
        )
        self._units[doc_id] = hit
        while len(self._units) > self.max_docs:
            self._units.popitem(last=False)
        return hit
