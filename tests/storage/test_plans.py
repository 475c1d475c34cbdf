"""The plan tables on both databases: every change leaves an audit event, share links open
until revoked, and an owner's plans go with them (AVG)."""

from __future__ import annotations

import pytest

from storage import NotFound, PlanStore


@pytest.fixture
def plans(stores):
    return PlanStore(stores)


def test_a_plan_and_its_tasks_keep_an_audit_trail(plans):
    pid = plans.create("web:alice", {"intake": {"innovation": "X"}})
    tid = plans.add_task(pid, "web:alice", "Regel een eigenaar", source="rol:line-owner")
    plans.add_task(pid, "web:alice", "Tweede taak")
    plans.update_task(pid, tid, "web:alice", status="klaar", owner="teamleider")
    plans.update(pid, {"intake": {"innovation": "Y"}}, "web:alice", ["innovation"])
    assert plans.get(pid)["payload"] == {"intake": {"innovation": "Y"}}
    tasks = plans.tasks(pid)
    assert [t["title"] for t in tasks] == ["Regel een eigenaar", "Tweede taak"]
    assert (tasks[0]["status"], tasks[0]["owner"]) == ("klaar", "teamleider")
    actions = [e["action"] for e in plans.events(pid)]
    assert actions == ["created", "task_added", "task_added", "task_updated", "edited"]
    assert all(e["actor"] == "web:alice" and e["created"] for e in plans.events(pid))
    with pytest.raises(NotFound):
        plans.update_task(pid, "nope", "web:alice", status="klaar")
    with pytest.raises(ValueError):
        plans.update_task(pid, tid, "web:alice", status="half")


def test_share_tokens_open_until_revoked(plans):
    pid = plans.create("web:alice", {})
    token = plans.share(pid, "web:alice")
    assert len(token) >= 32 and plans.shared_plan(token) == pid
    # The audit trail names the link by a prefix only, so reading it opens nothing.
    assert token not in str(plans.events(pid))
    assert plans.revoke(pid, token, "web:alice") is True
    assert plans.shared_plan(token) is None
    assert plans.revoke(pid, token, "web:alice") is False


def test_invitations_and_owner_deletion(plans):
    mine = plans.create("web:alice", {})
    other = plans.create("web:bob", {})
    plans.add_invitation(mine, "web:alice", "sanne-van-dijk", "slack", "Hoe kochten jullie in?")
    plans.share(mine, "web:alice")
    assert [i["person_id"] for i in plans.invitations(mine)] == ["sanne-van-dijk"]
    assert plans.delete_owned_by("web:alice") == 1
    with pytest.raises(NotFound):
        plans.get(mine)
    assert plans.invitations(mine) == [] and plans.events(mine) == []
    assert plans.get(other)["owner"] == "web:bob"


def test_retention_removes_plans_nobody_changed(plans, monkeypatch):
    import storage.plans as module

    monkeypatch.setattr(module, "now", lambda: "2020-01-01T00:00:00+00:00")
    old = plans.create("web:alice", {})
    monkeypatch.undo()
    new = plans.create("web:alice", {})
    assert plans.purge_older_than(365) == 1
    assert [p["id"] for p in plans.owned_by("web:alice")] == [new]
    assert old != new
