"""``Assistant``: the one entry point every channel calls."""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import abstention
from .answering import (
    Answerer,
    Draft,
    Evidence,
    ExtractiveAnswerer,
    abstention_text,
    select_evidence,
)
from .config import Settings, get_settings
from .consent import Redactor
from .conversation import condense, is_follow_up, user_turns
from .embeddings import Embedder, ReferenceCache, make_embedder, profile_of
from .guidance import StepPlan, is_start_question
from .index import read_manifest
from .knowledge import Obstacle, Phase
from .models import Answer, Audience, Citation, Filters, PersonCard, Turn
from .obstacles import ObstacleDetector
from .people import (
    Match,
    PeopleDirectory,
    draft_intro,
    is_people_question,
    people_first_text,
    person_card,
    reason_for,
)
from .retrieval import LoadedIndex, Retrieval, Retriever, merge_retrievals
from .selection import Selector
from .store import VectorStore, make_store
from .text import detect_language, fold
from .units import UnitCache, join_overlapping

log = logging.getLogger(__name__)


class UserError(Exception):
    """A problem the user can fix; ``str()`` is one line saying what and what to do."""


class PersonUnavailable(UserError):
    pass


def check_question(question: str | None, max_chars: int) -> str:
    """The question stripped, or a :class:`UserError` saying what to fix. The one place every
    channel's question is validated."""
    question = (question or "").strip()
    if not question:
        raise UserError("de vraag is leeg; typ een vraag over opschalen")
    if len(question) > max_chars:
        raise UserError(
            f"de vraag is te lang ({len(question)} tekens, maximaal {max_chars}); maak hem korter"
        )
    return question


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


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
        self.retriever = Retriever.from_settings(self.index, embedder, store, settings)
        know = self.index.knowledge
        # Reference texts (obstacles, expertise, phases) are embedded once per index folder.
        tag = hashlib.sha1(embedder.name.encode()).hexdigest()[:8]
        embedder = ReferenceCache(
            embedder, Path(settings.index_dir) / f"reference-vectors-{tag}.npz"
        )
        self.obstacles = ObstacleDetector(
            know.obstacles, analyzer, embedder, glossary=self.index.glossary
        )
        self.obstacle_labels: dict[str, Obstacle] = {o.key: o for o in know.obstacles}
        self.people = PeopleDirectory(know.people, self.index.docs, analyzer, embedder)
        self.redact = Redactor(know.people)
        self.plan = StepPlan(
            know.phases,
            analyzer,
            self.obstacles,
            embedder,
            passage_share=self.index.lexical.passage_share,
        )
        self.units = UnitCache(self.index, settings.unit_cache_size)
        self.selector = Selector(analyzer, self.index.glossary)


@dataclass
class AskContext:
    """Everything one question accumulates on its way through the stages."""

    rt: _Runtime
    question: str
    asked: str  # the question with names of people without consent removed
    turns: list[Turn]
    prev_users: list[str]
    lang: str
    filters: Filters | None
    audience: Audience
    asker: str | None
    k: int
    t0: float
    #: A follow-up that names an obstacle of its own: the passages follow it (``_retrieve``).
    shifted: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    # retrieve
    query: str = ""
    standalone: bool = False
    qvec: np.ndarray | None = None
    retrieval: Retrieval | None = None
    # select
    #: What the passages must answer: the retrieval query, except after a change of subject.
    focus: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    abstain: bool = False
    # compose
    draft: Draft | None = None
    # guide
    obstacle_keys: list[str] = field(default_factory=list)
    phase: str | None = None
    next_steps: list[str] = field(default_factory=list)
    people: list[PersonCard] = field(default_factory=list)
    text: str = ""
    abstained: bool = False


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
        self._manifest_stamp: tuple[int, int, int] | None = None
        self._lock = threading.Lock()

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def answerer(self) -> Answerer:
        if self._answerer is None:
            self._answerer = self._make_answerer()
        return self._answerer

    def _make_answerer(self) -> Answerer:
        extractive = ExtractiveAnswerer(self.runtime.analyzer)
        from .llm import LLMAnswerer, is_configured

        if not is_configured(self.settings):
            return extractive
        # The redactor is looked up per call: a new index generation may bring new people.
        return LLMAnswerer(
            self.settings,
            fallback=extractive,
            redact=lambda text, lang: self.runtime.redact(text, lang),
            embedder=self.embedder,
        )

    def _condense(self, question: str, turns: list[Turn], lang: str) -> tuple[str, bool]:
        """The retrieval query, and whether a language model rewrote it into a standalone question."""
        if user_turns(turns):
            standalone = self.answerer.condense(question, turns, lang)
            if standalone:
                return standalone, True
        return condense(question, turns), False

    @property
    def runtime(self) -> _Runtime:
        rt = self._rt
        # Ingest replaces the manifest atomically, so a changed stat means a new generation
        # may be live. Parsing the manifest on every question cost ~60 ms at 10k chunks.
        stamp = _stat_key(Path(self.settings.index_dir) / "manifest.json")
        if rt is not None and stamp == self._manifest_stamp:
            return rt
        manifest = read_manifest(Path(self.settings.index_dir))
        if rt is None or (manifest and manifest.get("generation") != rt.generation):
            with self._lock:
                if self._rt is None or (
                    manifest and manifest.get("generation") != self._rt.generation
                ):
                    self._rt = _Runtime(self.settings, self.embedder, self.store)
                    answerer = self._answerer
                    while answerer is not None:
                        if isinstance(answerer, ExtractiveAnswerer):
                            answerer.analyzer = self._rt.analyzer
                        answerer = answerer.fallback
            rt = self._rt
        self._manifest_stamp = stamp
        return rt

    def warm(self) -> None:
        """Load everything a first question touches, so it is as fast as any other: the index,
        the embedding model, the reference vectors (obstacles, expertise, phases), the lexical
        and dense search paths, and the evidence units (of at most ``unit_cache_size`` documents).
        No caller needs a dummy question."""
        rt = self.runtime
        qvec = self.embedder.embed(["opschalen"], kind="query")[0]
        retrieval = rt.retriever.search("opschalen", k_docs=1, query_vector=qvec)
        rt.obstacles._desc_vectors()
        rt.people._expertise_vectors()
        rt.plan._phase_vectors("nl")
        rt.plan._phase_vectors("en")
        for doc_id in itertools.islice(rt.index.docs, rt.units.max_docs):
            rt.units.of(doc_id)
        select_evidence(rt.index, rt.units, rt.selector, retrieval, "opschalen", "nl", max_docs=1)
        self.answerer  # noqa: B018 - builds the answerer (and a configured model's client)

    @property
    def ready(self) -> bool:
        return self._rt is not None

    # -- asking -------------------------------------------------------------------------------
    # The answer path is a sequence of small stages over one AskContext:
    #   understand → retrieve → select → compose (→ guide) → redact.
    # ``stream`` runs them and yields the answerer's deltas as they come; ``ask`` consumes it.

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
        """The whole answer at once (see :meth:`stream` for the arguments)."""
        answer = None
        kwargs = dict(
            history=history, filters=filters, audience=audience, asker=asker, k=k, language=language
        )
        for kind, item in self._run(question, words=False, **kwargs):
            if kind == "answer":
                answer = item
        assert isinstance(answer, Answer)
        return answer

    def stream(
        self,
        question: str,
        history: list[Turn] | list[dict] | None = None,
        filters: Filters | dict | None = None,
        audience: Audience = "public",
        asker: str | None = None,
        k: int | None = None,
        language: str | None = None,
    ) -> Iterator[tuple[str, object]]:
        """Yield ``("delta", text)`` pieces, then ``("answer", Answer)``. Channels that stream
        (SSE, Slack, Teams) use this. With a language model the deltas are its tokens as they
        arrive; the final ``Answer`` is authoritative and its text replaces the streamed text
        (it is checked, may carry a step-plan or people lead, or be the extractive fallback).
        Without one, or when nothing was streamed, the answer is emitted word by word.

        Arguments: ``history`` (earlier turns), ``filters``, ``audience``, ``asker`` (a person
        id, never recommended to themselves), ``k`` (sources), ``language`` (else detected)."""
        yield from self._run(
            question,
            words=True,
            history=history,
            filters=filters,
            audience=audience,
            asker=asker,
            k=k,
            language=language,
        )

    def _run(self, question: str, *, words: bool, **kwargs) -> Iterator[tuple[str, object]]:
        ctx = self._understand(question, **kwargs)
        self._retrieve(ctx)
        self._select(ctx)
        streamed = False
        for delta in self._compose(ctx):
            streamed = True
            yield "delta", delta
        self._guide(ctx)
        answer = self._redact(ctx)
        if words and not streamed:
            pieces = answer.answer.split(" ")
            for i, w in enumerate(pieces):
                yield "delta", (w if i == 0 else " " + w)
        yield "answer", answer

    def _understand(
        self,
        question: str,
        history: list[Turn] | list[dict] | None = None,
        filters: Filters | dict | None = None,
        audience: Audience = "public",
        asker: str | None = None,
        k: int | None = None,
        language: str | None = None,
    ) -> AskContext:
        """Validate, scrub names without consent, choose the language."""
        t0 = time.perf_counter()
        question = check_question(question, self.settings.max_question_chars)
        turns = [t if isinstance(t, Turn) else Turn.model_validate(t) for t in (history or [])]
        if isinstance(filters, dict):
            filters = Filters.model_validate(filters)
        rt = self.runtime
        # Consent: a question naming someone without consent is handled exactly like one naming
        # a stranger, so neither retrieval nor matching can be steered towards them.
        asked = rt.redact.scrub(question) or question
        turns = [
            t.model_copy(update={"content": rt.redact.scrub(t.content)}) if t.role == "user" else t
            for t in turns
        ]
        prev_users = user_turns(turns)
        lang = language or detect_language(
            question, default=detect_language(prev_users[-1]) if prev_users else "nl"
        )
        shifted = self._shifts_topic(asked, turns, rt)
        if shifted:
            # A follow-up on a new obstacle: its sources, people and steps follow the new
            # obstacle. The earlier turns keep what they were about otherwise (a case, an
            # organisation), without the obstacle words that would pull everything back.
            turns = [
                t.model_copy(update={"content": rt.obstacles.strip_topic(t.content)})
                if t.role == "user"
                else t
                for t in turns
            ]
            prev_users = []
        return AskContext(
            rt=rt,
            question=question,
            asked=asked,
            turns=turns,
            prev_users=prev_users,
            lang=lang,
            filters=filters,
            audience=audience,
            asker=asker,
            k=k or self.settings.top_k,
            t0=t0,
            shifted=shifted,
        )

    def _retrieve(self, ctx: AskContext) -> None:
        t = time.perf_counter()
        ctx.query, ctx.standalone = self._condense(ctx.asked, ctx.turns, ctx.lang)
        ctx.focus = ctx.query
        readings = [ctx.query]
        if ctx.shifted and not ctx.standalone:
            # The passages must answer the new subject. Retrieval reads the question both ways:
            # with the earlier turns it keeps what the conversation is about (the Haverdam
            # chatbot, "de slimme peilbuizen"); alone, the new subject is not drowned out by
            # the old one ("En hoe regelen we daarna de aanbesteding?" after parkeervergunningen).
            ctx.focus = ctx.asked
            readings.append(ctx.focus)
        vectors = self.embedder.embed(readings, kind="query")
        ctx.qvec = vectors[0]
        ctx.retrieval = merge_retrievals(
            [
                ctx.rt.retriever.search(
                    text,
                    audience=ctx.audience,
                    filters=ctx.filters,
                    k_docs=max(10, ctx.k),
                    query_vector=vec,
                )
                for text, vec in zip(readings, vectors, strict=True)
            ],
            max(10, ctx.k),
        )
        ctx.timings["retrieve"] = (time.perf_counter() - t) * 1000

    def _select(self, ctx: AskContext) -> None:
        """The evidence units for the question, and whether to abstain."""
        t = time.perf_counter()
        rt = ctx.rt
        units = select_evidence(
            rt.index, rt.units, rt.selector, ctx.retrieval, ctx.focus, ctx.lang, max_docs=ctx.k
        )
        # Redacted before any answerer sees it, so a model cannot even paraphrase a hidden name.
        ctx.evidence = rt.redact.evidence(units)
        ctx.abstain = self._should_abstain(ctx.query, ctx.retrieval, ctx.evidence, rt, ctx.lang)
        ctx.timings["select"] = (time.perf_counter() - t) * 1000

    def _compose(self, ctx: AskContext) -> Iterator[str]:
        """The answerer's draft; yields its text deltas while it writes."""
        t = time.perf_counter()
        if ctx.abstain:
            text, cites = abstention_text(ctx.lang, ctx.evidence)
            ctx.draft = Draft(text=text, citations=cites, abstained=True, answerer="extractive")
        else:
            # A model-made standalone question carries the follow-up's context into the answer.
            q = ctx.query if ctx.standalone else ctx.asked
            for item in self.answerer.stream(q, ctx.lang, ctx.evidence):
                if isinstance(item, Draft):
                    ctx.draft = item
                else:
                    yield item
            if ctx.draft is None:
                raise RuntimeError(f"answerer {self.answerer.name} streamed no final draft")
        ctx.timings["answer"] = (time.perf_counter() - t) * 1000

    def _guide(self, ctx: AskContext) -> None:
        """Obstacles, phase, next steps and people: once, after we know whether it is off topic."""
        rt, asked, draft = ctx.rt, ctx.asked, ctx.draft
        assert draft is not None and ctx.retrieval is not None
        off_topic = ctx.abstain or draft.abstained
        # Documents that do not answer the question say nothing about its obstacles or phase.
        metas = [] if off_topic else [rt.index.docs[d] for d in ctx.retrieval.doc_ids]
        obstacles = rt.obstacles.detect(asked, ctx.prev_users, metas, ctx.qvec)
        ctx.obstacle_keys = [k_ for k_, _ in obstacles]
        ctx.phase = rt.plan.detect(asked, metas, ctx.prev_users, ctx.qvec)
        ctx.next_steps = rt.plan.next_steps(ctx.phase, asked, ctx.obstacle_keys, ctx.lang)
        people_first = is_people_question(asked)
        matches = rt.people.recommend(
            asked,
            obstacles,
            ctx.retrieval.doc_ids if not off_topic else [],
            rt.index.docs,
            phase=ctx.phase,
            asker=ctx.asker,
            limit=3,
            people_first=people_first,
            query_vector=ctx.qvec,
            audience=ctx.audience,
        )
        if off_topic:
            # Only people who share an obstacle the question itself names, whom it names, or whose
            # expertise shares its rare words ("grensoverschrijdend", "Duitse buurregio").
            named = set(rt.people.named_in(asked))
            matches = [m for m in matches if m.shared or m.person.id in named or m.words >= 0.5]
        ctx.people = self._people_cards(matches, ctx.obstacle_keys, ctx.lang)

        text, abstained = draft.text, draft.abstained
        if is_start_question(asked) and rt.plan.phases:
            # "Waar moet ik beginnen?" gets the step plan, whatever the documents say: the
            # detected phase and its first steps, the other phases on one line.
            overview = rt.plan.overview(ctx.lang, ctx.phase)
            text = overview + ("" if ctx.abstain else "\n\n" + text)
            abstained = False
            # Next steps the overview already lists would say the same twice: only the others
            # stay (none left: the channel shows no next steps).
            shown = set(rt.plan.overview_steps(ctx.lang, ctx.phase))
            ctx.next_steps = [s for s in ctx.next_steps if s not in shown]
        if people_first and (ctx.people or not off_topic):
            label = rt.obstacles.label(
                ctx.obstacle_keys[0] if ctx.obstacle_keys else None, ctx.lang
            )
            text = people_first_text(ctx.people, label, ctx.lang) + ("\n\n" + text if text else "")
        ctx.text, ctx.abstained = text, abstained

    def _redact(self, ctx: AskContext) -> Answer:
        red, lang, draft = ctx.rt.redact, ctx.lang, ctx.draft
        assert draft is not None and ctx.retrieval is not None
        citations = [
            c.model_copy(update={"snippet": red(c.snippet, lang), "title": red(c.title, lang)})
            for c in draft.citations
        ]
        timings = {k: round(v, 1) for k, v in ctx.timings.items()}
        timings["total"] = round((time.perf_counter() - ctx.t0) * 1000, 1)
        return Answer(
            question=ctx.question,
            language=lang,
            answer=red(ctx.text, lang),
            abstained=ctx.abstained,
            citations=citations,
            retrieved=ctx.retrieval.doc_ids,
            people=ctx.people,
            obstacles=ctx.obstacle_keys,
            phase=ctx.phase,
            phase_name=ctx.rt.plan.name(ctx.phase, ctx.lang),
            next_steps=ctx.next_steps,
            timings_ms=timings,
            answerer=draft.answerer,
            fallback_reason=draft.extra.get("fallback_reason"),
            citation_validity=draft.extra.get("citation_validity"),
            supported_ratio=draft.extra.get("supported_ratio"),
        )

    def _should_abstain(self, query: str, retrieval, evidence, rt: _Runtime, lang: str) -> bool:
        """Abstain when the best evidence is weak for this index (``assistant/abstention.py``)."""
        if not evidence:
            return True
        return abstention.decide(
            retrieval,
            self._coverage(query, retrieval, rt),
            rt.index.calibration,
            lang,
            calibrated=profile_of(self.embedder).calibrated,
        ).abstain

    def _shifts_topic(self, question: str, turns: list[Turn], rt: _Runtime) -> bool:
        """Whether a follow-up names an obstacle of its own that the previous question did not."""
        previous = user_turns(turns)
        if not previous or not is_follow_up(question, turns):
            return False
        if not rt.obstacles.own_topics(question):
            # Without a keyword of its own only similarity could name one: embed both.
            vecs = self.embedder.embed([question, previous[-1]], kind="query")
            return rt.obstacles.shifts_topic(question, previous[-1], vecs[0], vecs[1])
        vecs = self.embedder.embed([previous[-1]], kind="query")
        return rt.obstacles.shifts_topic(question, previous[-1], None, vecs[0])

    @staticmethod
    def _coverage(query: str, retrieval, rt: _Runtime) -> float:
        """Share of the question's content words found in the top sources, weighted by rarity."""
        return abstention.coverage(query, retrieval, rt.index, rt.analyzer, rt.index.glossary)

    # -- guidance -------------------------------------------------------------------------------
    def step_plan(self, language: str = "nl") -> list[dict]:
        """The phases of the step plan, in order (``key``, ``name``, ``description``, ``steps``,
        ``questions``), in ``language`` where phases.yaml has it, so channels can show it
        without reading the index themselves."""

        def text(p: Phase, field: str):
            english = getattr(p, f"{field}_en") if language == "en" else None
            return english or getattr(p, field)

        return [
            {
                "key": p.key,
                "name": text(p, "name") or p.key,
                "description": text(p, "description") or "",
                "steps": list(text(p, "steps") or []),
                "questions": list(text(p, "questions") or []),
            }
            for p in self.runtime.plan.phases
        ]

    # -- documents ---------------------------------------------------------------------------
    def document(self, doc_id: str, audience: Audience = "public") -> dict | None:
        """A document's public text for a source page, or None when it does not exist or the
        audience may not see it (the same None for both, so nothing leaks). Names of people
        without consent are redacted like in answers."""
        rt = self.runtime
        meta = rt.index.docs.get(doc_id)
        if meta is None or (audience != "internal" and meta.visibility != "public"):
            return None
        lang = meta.language
        red = rt.redact
        chunks = rt.index.of_doc(doc_id)
        sections: list[dict] = []
        for c in chunks:
            last = sections[-1] if sections else None
            if last and last["heading"] == c.heading and last["page"] == c.page:
                last["text"] = join_overlapping(last["text"], c.text)
            else:
                sections.append({"heading": c.heading, "page": c.page, "text": c.text})
        for s in sections:
            s["heading"] = red(s["heading"], lang) if s["heading"] else s["heading"]
            s["text"] = red(s["text"], lang)
        keys = ("type", "url", "language", "date", "organisation", "visibility")
        keys += ("phases", "obstacles")
        out = {"id": doc_id, "title": red(meta.title or doc_id, lang)}
        # As the manifest stores them (a date as YYYY-MM-DD), so the page and the API show
        # what they always showed.
        stored = meta.as_json(keys)
        out.update({k: stored[k] for k in keys})
        out["summary"] = red(meta.summary, lang) if meta.summary else None
        out["sections"] = sections
        return out

    # -- people ------------------------------------------------------------------------------
    def _people_cards(self, matches: list[Match], obstacle_keys: list[str], lang: str) -> list:
        rt = self.runtime
        cards = []
        for m in matches:
            d = rt.index.docs.get(m.doc or "")
            reason = reason_for(
                m.person,
                rt.obstacles.label(m.obstacle, lang),
                d.title if d else None,
                d.type if d else None,
                lang,
                shared=bool(m.obstacle and m.obstacle in m.shared),
            )
            # A document title could name someone without consent; the reason is user-facing.
            reason = rt.redact(reason, lang) or reason
            shown = m.shared or ([m.obstacle] if m.obstacle else [])
            cards.append(person_card(m.person, reason, shown))
        return cards

    def intro(
        self,
        person_id: str,
        question: str,
        asker_name: str | None = None,
        asker_organisation: str | None = None,
        language: str | None = None,
    ) -> str:
        """Draft a short, polite introduction message the asker can send to a person.

        Raises ``PersonUnavailable`` with the same words for an unknown person and for one
        without consent, so the refusal reveals neither."""
        rt = self.runtime
        person = rt.people.people.get((person_id or "").strip())
        if person is None:
            raise PersonUnavailable(
                f"'{person_id}' staat niet in de lijst van mensen die benaderd willen worden; "
                "kies iemand uit de aanbevelingen"
            )
        question = rt.redact.scrub((question or "").strip())
        if not question:
            raise UserError("de vraag is leeg; beschrijf kort waarover je contact wilt")
        lang = language or detect_language(question)
        qvec = self.embedder.embed([question], kind="query")[0]
        detected = rt.obstacles.detect(question, query_vector=qvec)
        shared = [k for k, _ in detected if k in person.obstacles]
        obstacle = shared[0] if shared else (person.obstacles[0] if person.obstacles else None)
        doc = rt.people.best_doc(person, obstacle, {}, rt.index.docs, audience="public")
        meta = rt.index.docs.get(doc or "")
        text = draft_intro(
            person,
            question,
            rt.obstacles.label(obstacle, lang),
            meta.title if meta else None,
            meta.type if meta else None,
            asker_name,
            asker_organisation,
            lang,
        )
        return rt.redact(text, lang) or text

    # -- plans (the scaling-plan domain asks these; it never reads the index itself) -----------
    def analyse(self, text: str, language: str | None = None) -> dict:
        """Obstacles and phase of a free-text description, with the reasons a user can check:
        ``obstacles`` [(key, label, matched words)], ``phase``, ``phase_name``,
        ``phase_reasons`` (cue words and the documents that point at the phase)."""
        rt = self.runtime
        text = rt.redact.scrub((text or "").strip()) or ""
        lang = language or detect_language(text)
        if not text:
            return {"obstacles": [], "phase": None, "phase_name": None, "phase_reasons": []}
        qvec = self.embedder.embed([text], kind="query")[0]
        retrieval = rt.retriever.search(text, k_docs=5, query_vector=qvec)
        metas = [rt.index.docs[d] for d in retrieval.doc_ids]
        obstacles = rt.obstacles.detect(text, None, metas, qvec)
        hits = rt.obstacles.keyword_hits(text)
        phase = rt.plan.detect(text, metas, None, qvec)
        reasons = []
        if phase:
            cues = rt.plan.cue_hits(text)
            if cues.get(phase):
                reasons.append("cue")
            titles = [m.title for m in metas[:3] if phase in m.phases]
            reasons += [rt.redact(t, lang) or t for t in titles if t]
        return {
            "obstacles": [
                (k, rt.obstacles.label(k, lang) or k, hits.get(k, [])) for k, _ in obstacles
            ],
            "phase": phase,
            "phase_name": rt.plan.name(phase, lang),
            "phase_reasons": reasons,
        }

    def cited_evidence(
        self, query: str, language: str = "nl", k: int = 2, types: list[str] | None = None
    ) -> list[Evidence]:
        """The best public sources for ``query`` as numbered evidence (redacted): what a plan
        section cites, and what its drafted paragraph may be written from."""
        rt = self.runtime
        filters = Filters(type=types or [])
        qvec = self.embedder.embed([query], kind="query")[0]
        retrieval = rt.retriever.search(query, filters=filters, k_docs=max(5, k), query_vector=qvec)
        units = select_evidence(
            rt.index, rt.units, rt.selector, retrieval, query, language, max_docs=k
        )
        return rt.redact.evidence(units)

    def cited(self, query: str, language: str = "nl", k: int = 2, types: list[str] | None = None):
        """The best public sources for ``query`` as citations (redacted), for plan sections
        that must say where a suggestion comes from."""
        return [
            Citation(
                n=e.n,
                doc_id=e.doc_id,
                title=e.title,
                url=e.url,
                type=e.type,
                snippet=(e.passages[0][0] if e.passages else "")[:400],
                score=float(e.score),
            )
            for e in self.cited_evidence(query, language, k, types)
        ]

    @property
    def drafts_paragraphs(self) -> bool:
        """Whether a language model is configured to draft plan paragraphs."""
        return self.answerer.writes_paragraphs

    def names_in(self, text: str | None) -> list[str]:
        """Names of people (with or without consent) and contact details in ``text``. A drafted
        paragraph names no one: who faced an obstacle is shown apart, read live."""
        rt = self.runtime
        found = rt.redact.leaks(text)
        folded = f" {fold(text or '')} "
        for person in rt.people.people.values():
            name = fold(person.name or "").strip()
            if name and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", folded):
                found.append(person.name)
        return list(dict.fromkeys(found))

    def draft_paragraph(
        self, section: str, facts: str, language: str, evidence: list[Evidence], fallback: str
    ) -> Draft | None:
        """A language model's paragraph for a plan section, checked (sources, language, length,
        numbers, names), or ``fallback`` marked as such; ``None`` without a configured model."""
        return self.answerer.paragraph(
            section, facts, language, evidence, fallback, names=self.names_in
        )

    def people_for(
        self, text: str, obstacle_keys: list[str], language: str = "nl", limit: int = 3
    ) -> list[PersonCard]:
        """Consenting people who faced these obstacles, best first, with the reason why. Read
        from the live directory every time, so a withdrawn consent is gone at once."""
        rt = self.runtime
        text = rt.redact.scrub(text or "") or ""
        qvec = self.embedder.embed([text or " "], kind="query")[0]
        obstacles = [(k, 1.0 / (i + 1)) for i, k in enumerate(obstacle_keys)]
        matches = rt.people.recommend(
            text, obstacles, [], rt.index.docs, limit=limit, query_vector=qvec
        )
        return self._people_cards(matches, obstacle_keys, language)

    def phase_steps(
        self, phase: str | None, text: str, obstacle_keys: list[str], language: str = "nl"
    ) -> list[str]:
        """The steps of the plan for this phase and these obstacles (see StepPlan.next_steps)."""
        return self.runtime.plan.next_steps(phase, text, obstacle_keys, language, limit=4)

    def analyse_label(self, obstacle: str, language: str = "nl") -> str | None:
        """An obstacle's label in ``language``."""
        return self.runtime.obstacles.label(obstacle, language)

    def obstacle_keys(self) -> list[str]:
        return list(self.runtime.obstacle_labels)

    def phase_name(self, phase: str | None, language: str = "nl") -> str | None:
        return self.runtime.plan.name(phase, language)

    def person_contact(self, person_id: str) -> dict[str, str] | None:
        """A consenting person's contact ids, or None (unknown and no-consent alike)."""
        person = self.runtime.people.people.get(person_id)
        return person.contact.given() if person else None


# -- curation (share-back) ----------------------------------------------------------------------
# Kept apart from ``Assistant`` itself so the class stays about answering; the functions take the
# service and only use its public runtime view.


def taxonomy(assistant: Assistant) -> dict[str, Obstacle]:
    """Obstacle key → obstacle (label, label_en, description) from the live index."""
    return dict(assistant.runtime.obstacle_labels)


def consenting_people(assistant: Assistant) -> dict[str, str]:
    """Id → name of the people who may currently be shown."""
    return {p.id: p.name for p in assistant.runtime.people.people.values()}
