"""Language-aware text analysis shared by lexical retrieval, answering and matching.

Dutch glues nouns together (``aanbestedingsprocedure``), so a word-level index misses the
``aanbesteding`` inside it. :class:`Analyzer` splits such compounds against the corpus
vocabulary, then stems with Snowball (PyStemmer) and drops stop words for Dutch and English.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN

_TOKEN = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9À-ÖØ-Þ])")

EXTRA_NL_STOP = {
    "wel",
    "geen",
    "nog",
    "ook",
    "mijn",
    "jouw",
    "onze",
    "hoe",
    "wat",
    "waar",
    "wanneer",
    "welke",
    "wie",
    "waarom",
    "kan",
    "kun",
    "kunt",
    "moet",
    "moeten",
    "zou",
    "zouden",
    "gaat",
    "doe",
    "doen",
    "je",
    "jij",
    "u",
    "we",
    "wij",
    "ik",
    "er",
    "hier",
    "daar",
    "dit",
    "deze",
    "dat",
    "die",
    "het",
    "een",
    "de",
    "van",
    "voor",
    "met",
    "bij",
    "op",
    "aan",
    "in",
    "om",
    "tot",
    "naar",
    "over",
    "als",
    "dan",
    "of",
    "en",
    "zijn",
    "is",
    "heb",
    "hebt",
    "heeft",
    "hebben",
    "krijg",
    "krijgen",
    "manier",
    "graag",
    "iemand",
}
NL_STOP = frozenset(STOPWORDS_DUTCH) | EXTRA_NL_STOP
EN_STOP = frozenset(STOPWORDS_EN) | {"how", "what", "who", "can", "should", "would", "get"}
ALL_STOP = NL_STOP | EN_STOP

# Words that mark the language even when the stop-word lists overlap ("in", "is", "was").
_NL_MARKERS = {
    "de",
    "het",
    "een",
    "en",
    "van",
    "ik",
    "je",
    "hoe",
    "wat",
    "wie",
    "welke",
    "niet",
    "zijn",
    "voor",
    "met",
    "op",
    "dat",
    "die",
    "er",
    "ook",
    "bij",
    "naar",
    "kan",
    "moet",
    "wij",
    "we",
    "onze",
    "mijn",
    "waar",
    "hebben",
    "heeft",
    "zou",
    "kunnen",
    "wordt",
    "worden",
    "aan",
    "om",
    "dit",
    "deze",
    "over",
    "gemeente",
    "geen",
    "nog",
    "wel",
    "maar",
    "uit",
    "als",
}
_EN_MARKERS = {
    "the",
    "a",
    "an",
    "and",
    "of",
    "i",
    "you",
    "how",
    "what",
    "who",
    "which",
    "not",
    "are",
    "for",
    "with",
    "on",
    "that",
    "there",
    "also",
    "at",
    "to",
    "can",
    "must",
    "we",
    "our",
    "my",
    "where",
    "have",
    "has",
    "would",
    "could",
    "be",
    "is",
    "this",
    "these",
    "about",
    "do",
    "does",
    "should",
    "from",
    "it",
    "get",
    "any",
    "in",
    "or",
    "but",
}


def fold(text: str) -> str:
    """Lower-case and strip accents (``creëer`` → ``creeer``)."""
    text = text.lower()
    if text.isascii():  # most chunks: nothing to decompose, and this is on every question's path
        return text
    nfkd = unicodedata.normalize("NFKD", text)
    return "".join(c for c in nfkd if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


def char_ngrams(text: str, n: int = 5) -> list[str]:
    """Character n-grams of the non-stop words, each word padded with ``_`` at both ends.

    A second lexical view for Dutch: ``aanbestedingsprocedure`` and ``aanbesteding`` share most
    of their 5-grams without any compound rule, and so do a word and its typo (``aanbestedng``).
    Words no longer than ``n - 2`` letters stay whole.
    """
    out: list[str] = []
    for w in words(text):
        if len(w) < 2 or w in ALL_STOP:
            continue
        w = f"_{w}_"
        if len(w) <= n:
            out.append(w)
        else:
            out += [w[i : i + n] for i in range(len(w) - n + 1)]
    return out


def detect_language(text: str, default: str = "nl") -> str:
    """``nl`` or ``en`` by marker words; ties and empty text go to ``default``."""
    toks = [t for t in words(text)]
    nl = sum(t in _NL_MARKERS for t in toks)
    en = sum(t in _EN_MARKERS for t in toks)
    if en > nl:
        return "en"
    if nl > en:
        return "nl"
    return default


def split_sentences(text: str) -> list[str]:
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return []
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


@lru_cache(maxsize=4)
def _stemmer(lang: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english" if lang == "en" else "dutch")


def content_words(text: str) -> list[str]:
    """Folded words of three letters or more that are no stop words, unstemmed."""
    return [w for w in words(text) if len(w) >= 3 and w not in ALL_STOP]


class Analyzer:
    """Tokenise → split compounds → drop stop words → stem.

    ``vocab`` holds whole words seen in the corpus with their counts; compound parts must be
    known words of a minimum length, which keeps ``bestemming`` from becoming ``be+stemming``.
    """

    MIN_PART = 4
    MIN_COMPOUND = 9
    #: Head and tail lengths for the looser head-only split (rule 3 of :meth:`split`).
    MIN_HEAD = 6
    MIN_TAIL = 5

    def __init__(self, vocab: Counter | dict[str, int] | None = None, min_count: int = 2):
        self.vocab = {w: c for w, c in (vocab or {}).items() if c >= min_count}
        self._split_cache: dict[str, tuple[str, ...]] = {}

    @staticmethod
    def count_vocab(texts: Iterable[str]) -> Counter:
        c: Counter = Counter()
        for t in texts:
            c.update(w for w in words(t) if len(w) >= Analyzer.MIN_PART and w not in ALL_STOP)
        return c

    def _known(self, w: str) -> bool:
        return w in self.vocab and w not in ALL_STOP

    def split(self, word: str) -> tuple[str, ...]:
        """Parts of a compound (empty when it is not one we can split).

        Three rules, tried in order:

        1. hyphenated words split on the hyphens (``ransomware-aanvallen``, ``ict-beheer``);
        2. a full split into known words, with the linking sounds -s-, -en-, -n-;
        3. a known head of at least 6 letters before an unknown tail of at least 5
           (``aanbestedingstraject`` → ``aanbesteding``), so a query word still matches its head
           when the corpus never uses the tail alone.
        """
        if "-" in word:
            return tuple(p for p in word.split("-") if len(p) >= 2 and p not in ALL_STOP)
        if len(word) < self.MIN_COMPOUND or not self.vocab:
            return ()
        hit = self._split_cache.get(word)
        if hit is not None:
            return hit
        parts = self._split_known(word) or self._known_head(word)
        self._split_cache[word] = parts
        return parts

    def _split_known(self, word: str) -> tuple[str, ...]:
        if len(word) < self.MIN_COMPOUND:
            return ()
        best: tuple[int, tuple[str, ...]] = (0, ())
        n = len(word)
        for i in range(self.MIN_PART, n - self.MIN_PART + 1):
            head, tail = word[:i], word[i:]
            heads = [head]
            # Linking sounds: aanbesteding-s-procedure, boek-en-kast, ziekte-n-verzuim.
            if head.endswith("s") and len(head) > self.MIN_PART:
                heads.append(head[:-1])
            if head.endswith("en") and len(head) > self.MIN_PART + 1:
                heads += [head[:-2], head[:-1]]
            for h in heads:
                if not self._known(h):
                    continue
                tails = (tail,) if self._known(tail) else self._split_known(tail)
                if not tails:
                    continue
                score = min([self.vocab[h]] + [self.vocab.get(t, 1) for t in tails])
                if score > best[0]:
                    best = (score, (h, *tails))
        return best[1]

    def _known_head(self, word: str) -> tuple[str, ...]:
        for i in range(len(word) - self.MIN_TAIL, self.MIN_HEAD - 1, -1):
            head = word[:i]
            for h in (head, head[:-1]) if head.endswith("s") else (head,):
                if len(h) >= self.MIN_HEAD and self._known(h):
                    return (h,)
        return ()

    def terms(self, text: str, lang: str = "nl") -> list[str]:
        """Index terms for a passage in ``lang``."""
        stem = _stemmer(lang).stemWord
        out: list[str] = []
        for w in words(text):
            if len(w) < 2 or w in ALL_STOP:
                continue
            out.append(stem(w))
            for part in self.split(w):
                out.append(stem(part))
        return out

    def query_terms(self, text: str) -> list[str]:
        """Query terms: Dutch and English stems, since queries and documents may differ."""
        nl, en = _stemmer("nl").stemWord, _stemmer("en").stemWord
        out: list[str] = []
        seen: set[str] = set()
        for w in words(text):
            if len(w) < 2 or w in ALL_STOP:
                continue
            cands = [nl(w), en(w)]
            for part in self.split(w):
                cands += [nl(part), en(part)]
            for c in cands:
                if c not in seen:
                    seen.add(c)
                    out.append(c)
        return out

    def content_words(self, text: str) -> list[str]:
        """Folded non-stop words, unstemmed (for coverage checks and highlighting)."""
        return content_words(text)
