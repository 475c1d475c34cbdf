"""The storage contract: what channels and curation rely on, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest

from assistant.models import Answer, Citation, PersonCard
from storage import AnswerMismatch, BucketStore, ContributionStore, NotFound
from tests.helpers import run_together


def answer(question: str = "Hoe kopen we samen in?", **kw) -> Answer:
    kw.setdefault("language", "nl")
    kw.setdefault("answer", "Begin met een gezamenlijke marktverkenning [1].")
    kw.setdefault("abstained", False)
    return Answer(question=question, **kw)


def test_a_conversation_keeps_its_turns_in_order(stores):
    cid = stores.create_conversation("web", audience="internal")
    assert stores.conversation(cid)["audience"] == "internal"
    first = stores.save_answer(answer("Eerste vraag"), "web", cid)
    stores.add_message(cid, "user", "Tussendoor")
    stores.save_answer(answer("Tweede vraag", answer="Tweede antwoord"), "web", cid)
    assert [(t.role, t.content) for t in stores.history(cid)] == [
        ("user", "Eerste vraag"),
        ("assistant", first.answer),
        ("user", "Tussendoor"),
        ("user", "Tweede vraag"),
        ("assistant", "Tweede antwoord"),
    ]
    assert [t.content for t in stores.history(cid, limit=2)] == ["Tweede vraag", "Tweede antwoord"]
    rows = stores.messages(cid)
    assert [r["answer_id"] for r in rows][:2] == [None, first.answer_id]
    assert all(r["created"] for r in rows)


def test_an_unknown_conversation_is_not_found(stores):
    with pytest.raises(NotFound):
        stores.conversation("0" * 32)
    assert stores.history("0" * 32) == []


def test_a_channel_thread_maps_to_one_conversation(stores):
    a = stores.conversation_for("slack", "C1:1700000000.1", audience="internal")
    assert stores.conversation_for("slack", "C1:1700000000.1") == a
    assert stores.conversation_for("teams", "C1:1700000000.1") != a
    assert stores.conversation(a)["audience"] == "internal"


def test_concurrent_first_messages_of_a_thread_share_one_conversation(stores):
    """Two instances (here: threads) that see a thread's first message together agree."""
    ids = run_together(lambda: stores.conversation_for("slack", "C9:race"), 8)
    assert len(set(ids)) == 1 and len(ids) == 8


def test_save_answer_returns_the_stored_copy_and_leaves_its_argument_alone(stores):
    original = answer(
        citations=[
            Citation(
                n=1, doc_id="cases/inkoop", title="Inkoop", type="case", snippet="é", score=1.0
            )
        ],
        people=[PersonCard(id="p1", name="Fictief Persoon", reason="kent inkoop")],
    )
    stored = stores.save_answer(original, "web")
    assert original.answer_id is None, "the argument is not mutated"
    assert stored.answer_id and stored.answer == original.answer
    payload = stores.answer(stored.answer_id)
    assert payload == stored.contract_dict(), "the contract object, accents and all"
    again = stores.save_answer(original, "web")
    assert again.answer_id != stored.answer_id, "every save is a new answer"
    with pytest.raises(NotFound):
        stores.answer("bestaat-niet")


def test_feedback_and_its_comment(stores):
    aid = stores.save_answer(answer(), "web").answer_id
    fid = stores.add_feedback(aid, "down", "web")
    up = stores.add_feedback(aid, "up", "slack", comment="helder", doc_id="cases/inkoop")
    assert up != fid
    assert stores.add_feedback_comment(fid, aid, "miste een voorbeeld") is True
    assert stores.add_feedback_comment(fid, aid, "nog eens") is False, "one comment per feedback"
    with pytest.raises(AnswerMismatch):
        stores.add_feedback_comment(fid, "0" * 32, "geraden id")
    with pytest.raises(NotFound):
        stores.add_feedback_comment(fid + 1000, aid, "bestaat niet")
    assert [
        (f["rating"], f["comment"], f["doc_id"], f["channel"]) for f in stores.feedback_for(aid)
    ] == [
        ("down", "miste een voorbeeld", None, "web"),
        ("up", "helder", "cases/inkoop", "slack"),
    ]
    with pytest.raises(NotFound):
        stores.add_feedback("bestaat-niet", "up", "web")
    with pytest.raises(ValueError):
        stores.add_feedback(aid, "meh", "web")


def test_an_event_is_new_only_once(stores):
    assert stores.first_time("slack:Ev1") is True
    assert stores.first_time("slack:Ev1") is False
    assert stores.first_time("slack:Ev2") is True


def test_gaps_and_analytics_queries(stores):
    abstained = stores.save_answer(
        answer("Paspoort?", abstained=True, answer="Weet ik niet"), "web"
    )
    disliked = stores.save_answer(answer("Inkoop?"), "web")
    liked = stores.save_answer(answer("DPIA?"), "web")
    stores.add_feedback(disliked.answer_id, "down", "web")
    stores.add_feedback(liked.answer_id, "up", "web")
    stores.add_feedback(liked.answer_id, "up", "web")
    gaps = stores.gap_questions()
    assert {(q, reason) for q, _, reason in gaps} == {
        ("Paspoort?", "abstained"),
        ("Inkoop?", "down"),
    }
    (day,) = stores.answers_per_day()
    assert day["answers"] == 3 and day["abstained"] == 1 and len(day["day"]) == 10
    assert stores.feedback_counts() == {"up": 2, "down": 1}
    ids = {a["answer_id"] for a in stores.answer_payloads(batch=2)}
    assert ids == {abstained.answer_id, disliked.answer_id, liked.answer_id}


def test_purge_removes_only_rows_older_than_the_retention(stores, monkeypatch):
    cid = stores.create_conversation("web")
    with monkeypatch.context() as m:
        m.setattr("storage.stores.now", lambda: "2000-01-01T00:00:00+00:00")
        old = stores.save_answer(answer("Oud"), "web")
        stores.add_feedback(old.answer_id, "down", "web")
        stores.first_time("slack:old")
        stale = stores.create_conversation("web")
    new = stores.save_answer(answer("Nieuw"), "web", cid)
    counts = stores.purge_older_than(90)
    assert counts == {"feedback": 1, "messages": 0, "answers": 1, "events": 1, "conversations": 1}
    with pytest.raises(NotFound):
        stores.answer(old.answer_id)
    with pytest.raises(NotFound):
        stores.conversation(stale)
    assert stores.answer(new.answer_id)["question"] == "Nieuw"
    assert len(stores.history(cid)) == 2


def test_contributions_move_through_their_states(stores, monkeypatch):
    contributions = ContributionStore(stores)
    cid = contributions.add(
        {"title": "Samen inkopen", "name": "Fictief", "email": "f@example.org"}, "web"
    )
    row = contributions.get(cid)
    assert row["status"] == "pending" and row["payload"]["title"] == "Samen inkopen"
    contributions.update_payload(cid, {**row["payload"], "title": "Samen inkopen, herzien"})
    contributions.set_status(
        cid, "approved", expect=("pending",), reviewer="curator", doc_path="bijdragen/x.md"
    )
    with pytest.raises(NotFound):
        contributions.set_status(cid, "approved", expect=("pending",)), "only once"
    with pytest.raises(NotFound):
        contributions.update_payload(cid, {"title": "te laat"})
    contributions.set_status(cid, "published", expect=("approved",))
    done = contributions.get(cid)
    assert (done["status"], done["reviewer"], done["doc_path"]) == (
        "published",
        "curator",
        "bijdragen/x.md",
    )
    assert done["payload"]["title"] == "Samen inkopen, herzien"
    assert [c["id"] for c in contributions.list("published")] == [cid]
    assert contributions.list("pending") == []

    assert contributions.anonymise("f@example.org", None) == 1
    assert contributions.get(cid)["payload"]["email"] is None
    with monkeypatch.context() as m:
        m.setattr("storage.contributions.now", lambda: "2000-01-01T00:00:00+00:00")
        old = contributions.add({"title": "Oud"}, "cli")
        contributions.set_status(old, "rejected", expect=("pending",), note="dubbel")
    assert contributions.purge_rejected_older_than(90) == 1
    assert [c["id"] for c in contributions.list()] == [cid]
    with pytest.raises(NotFound):
        contributions.get(old)


def _buckets(database_url: str, tmp_path, per_minute: int) -> BucketStore:
    # With SQLite the buckets live in their own throw-away file; on a server, in the database.
    target = tmp_path / "ratelimit.sqlite3" if database_url.startswith("sqlite") else database_url
    return BucketStore(target, per_minute, per_minute / 60)


def test_buckets_are_one_per_client_across_processes(stores, database_url, tmp_path):
    a, b = _buckets(database_url, tmp_path, 3), _buckets(database_url, tmp_path, 3)
    t = 1_000_000.0
    assert [a.take("ip:1", t), b.take("ip:1", t), a.take("ip:1", t)] == [0.0, 0.0, 0.0]
    assert b.take("ip:1", t) == pytest.approx(20.0), "empty: the next token comes in 20 s"
    assert a.take("ip:2", t) == 0.0, "other clients have their own bucket"
    assert a.take("ip:1", t + 20) == 0.0, "one token refilled"
    assert b.take("ip:1", t + 20) > 0
    assert a.take("ip:1", t - 100) > 0, "a clock step back refills nothing"


def test_buckets_hold_under_concurrent_requests(stores, database_url, tmp_path):
    """Many requests of one client at once get exactly the burst, never more."""
    limiters = iter([_buckets(database_url, tmp_path, 10) for _ in range(4)])

    def hit_ten_times() -> list[float]:
        limiter = next(limiters)
        return [limiter.take("ip:burst", 2_000_000.0) for _ in range(10)]

    results = [wait for waits in run_together(hit_ten_times, 4) for wait in waits]
    assert len(results) == 40 and results.count(0.0) == 10


def test_refilled_buckets_are_swept(stores, database_url, tmp_path):
    """IP addresses are personal data: a bucket is deleted once it has refilled."""
    buckets = _buckets(database_url, tmp_path, 2)  # a token every 30 s
    t0 = 1_000_000.0
    buckets.take("ip:198.51.100.7", t0)
    buckets.take("ip:198.51.100.8", t0 + 50)
    buckets.take("ip:198.51.100.8", t0 + 50)
    assert buckets.clients() == {"ip:198.51.100.7", "ip:198.51.100.8"}
    assert buckets.sweep(t0 + 61) == 1
    assert buckets.clients() == {"ip:198.51.100.8"}
