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
    "wel", "geen", "nog", "ook", "mijn", "jouw", "onze", "hoe", "wat", "waar", "wanneer",
    "welke", "wie", "waarom", "kan", "kun", "kunt", "moet", "moeten", "zou", "zouden",
    "gaat", "doe", "doen", "je", "jij", "u", "we", "wij", "ik", "er", "hier", "daar",
    "dit", "deze", "dat", "die", "het", "een", "de", "van", "voor", "met", "bij", "op",
    "aan", "in", "om", "tot", "naar", "over", "als", "dan", "of", "en", "zijn", "is",
    "heb", "hebt", "heeft", "hebben", "krijg", "krijgen", "manier", "graag", "iemand",
}
NL_STOP = frozenset(STOPWORDS_DUTCH) | EXTRA_NL_STOP
EN_STOP = frozenset(STOPWORDS_EN) | {"how", "what", "who", "can", "should", "would", "get"}
ALL_STOP = NL_STOP | EN_STOP

# Words that mark the language even when the stop-word lists overlap ("in", "is", "was").
_NL_MARKERS = {
    "de", "het", "een", "en", "van", "ik", "je", "hoe", "wat", "wie", "welke", "niet", "zijn",
    "voor", "met", "op", "dat", "die", "er", "ook", "bij", "naar", "kan", "moet", "wij", "we",
    "onze", "mijn", "waar", "hebben", "heeft", "zou", "kunnen", "wordt", "worden", "aan",
    "om", "dit", "deze", "over", "gemeente", "geen", "nog", "wel", "maar", "uit", "als",
}
_EN_MARKERS = {
    "the", "a", "an", "and", "of", "i", "you", "how", "what", "who", "which", "not", "are",
    "for", "with", "on", "that", "there", "also", "at", "to", "can", "must", "we", "our",
    "my", "where", "have", "has", "would", "could", "be", "is", "this", "these", "about",
    "do", "does", "should", "from", "it", "get", "any", "in", "or", "but",
}


def fold(text: str) -> str:
    """Lower-case and strip accents (``creëer`` → ``creeer``)."""
    nfkd = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in nfkd if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


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


class Analyzer:
    """Tokenise → split compounds → drop stop words → stem.

    ``vocab`` holds whole words seen in the corpus with their counts; compound parts are only
    accepted when both are known words, which keeps ``bestemming`` from becoming ``be+stemming``.
    """

    MIN_PART = 4
    MIN_COMPOUND = 9

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
        """Parts of a Dutch compound (empty when it is not one we can split)."""
        if len(word) < self.MIN_COMPOUND or not self.vocab or "-" in word:
            return ()
        hit = self._split_cache.get(word)
        if hit is not None:
            return hit
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
                tails = (tail,) if self._known(tail) else self.split(tail)
                if not tails:
                    continue
                score = min([self.vocab[h]] + [self.vocab.get(t, 1) for t in tails])
                if score > best[0]:
                    best = (score, (h, *tails))
        self._split_cache[word] = best[1]
        return best[1]

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
        return [w for w in words(text) if len(w) >= 3 and w not in ALL_STOP]
