"""Property test of the six-step state machine: random commands by random people, through the real API.

Checks after every step: only allowed transitions happen; each successful command leaves exactly one topic
event and a refused one leaves none; event times never go backwards; the other tenant sees nothing.
"""

from __future__ import annotations

import asyncio
import datetime

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from core import clock
from core.app import create_app
from core.topics.machine import allowed_move
from tests.conftest import PASSWORD, WORLD, DatabaseUnderTest, load_world, truncate_all

ACTORS = ["cstaff", "dadmin", "resident", "grid", "wuye", "bstaff", "outsider"]
# Managers drawn more often, so that random runs get deep into the method rather than stopping at refusals.
ACTOR_DRAWS = st.sampled_from(["cstaff", "cstaff", "cstaff", "dadmin", *ACTORS])
MANAGERS = {"cstaff", "dadmin"}  # hold topic.manage on comm-a (dadmin through the district)
BASE = "/api/v1/tenants/comm-a"
TODAY = clock.today()
# A meeting already begun (its record may be written) or still to come (it may be moved or called off).
STARTS = {False: "2026-08-01T09:00:00+08:00",
          True: (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30)).isoformat()}
COMMAND_BODIES = {
    "research": lambda ids: ("POST", f"/topics/{ids['topic']}/research",
                             {"kind": "site_visit", "date": TODAY.isoformat(), "findings": "看过了"}),
    "schedule": lambda ids: ("POST", f"/topics/{ids['topic']}/meetings",
                             {"mechanism": "monthly", "venue": "红色议事亭", "starts_at": STARTS[ids["future"]]}),
    "publish": lambda ids: ("POST", f"/topics/{ids['topic']}/publish", None),
    "withdraw": lambda ids: ("POST", f"/topics/{ids['topic']}/withdraw", {"reason": "另行处理"}),
    "add_action": lambda ids: ("POST", f"/topics/{ids['topic']}/actions",
                               {"title": "办", "owner_user": "wuye", "due_date": TODAY.isoformat()}),
    "rate": lambda ids: ("POST", f"/topics/{ids['topic']}/ratings", {"score": 1}),
}
MEETING_BODIES = {
    "minutes": ("minutes", {"minutes": "讨论了"}),
    "decide": ("decision", {"text": "同意", "method": "consensus"}),
    "reschedule": ("reschedule", {"starts_at": (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=40))
                                  .isoformat(), "reason": "改期"}),
    "cancel_meeting": ("cancel", {"reason": "不开了"}),
}


def run_machine(database: DatabaseUnderTest) -> None:
    loop = asyncio.new_event_loop()
    app = create_app(database.settings)

    def call(coroutine):  # type: ignore[no-untyped-def]
        return loop.run_until_complete(coroutine)

    class SixSteps(RuleBasedStateMachine):
        topics = Bundle("topics")

        @initialize()
        def fresh_world(self) -> None:
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlalchemy.pool import NullPool

            async def reset() -> None:
                owner = create_async_engine(database.settings.owner_database_url, poolclass=NullPool)
                await truncate_all(owner)
                await owner.dispose()
                await load_world(app, WORLD)

            call(reset())
            self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
            self.headers = {u: self._login(u) for u in ACTORS}
            self.states: dict[str, str] = {}
            self.meetings: dict[str, list[str]] = {}
            self.actions: dict[str, list[str]] = {}

        def _login(self, username: str) -> dict[str, str]:
            body = call(self.client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD}))
            return {"Authorization": f"Bearer {body.json()['access_token']}"}

        def _request(self, actor: str, method: str, path: str, body: dict | None) -> httpx.Response:
            return call(self.client.request(method, BASE + path, json=body, headers=self.headers[actor]))

        def _topic_events(self, topic_id: str) -> list[dict]:
            response = call(self.client.get(f"{BASE}/topics/{topic_id}/events", headers=self.headers["cstaff"]))
            return [e for e in response.json() if e["action"].startswith("topic.")]

        def _state(self, topic_id: str) -> str:
            response = call(self.client.get(f"{BASE}/topics/{topic_id}", headers=self.headers["cstaff"]))
            return response.json()["topic"]["state"]

        def _check(self, topic_id: str, command: str, actor: str, response: httpx.Response,
                   events_before: int) -> None:
            before, after = self.states[topic_id], self._state(topic_id)
            events = self._topic_events(topic_id)
            assert response.status_code < 500, response.text
            if response.status_code < 300:
                assert actor in MANAGERS or command in ("rate", "progress", "complete_action"), (actor, command)
                assert allowed_move(command, before, after), (command, before, after)
                assert len(events) == events_before + 1
                assert (events[-1]["from_state"], events[-1]["to_state"]) == (before, after)
            else:
                assert after == before and len(events) == events_before, (command, response.text)
            self.states[topic_id] = after

        @rule(target=topics, actor=ACTOR_DRAWS)
        def draft(self, actor: str) -> str:
            concern = self._request("resident", "POST", "/concerns",
                                    {"title": "路灯坏了", "description": "3号楼前", "category": "public_facilities"})
            self._request("cstaff", "POST", f"/concerns/{concern.json()['id']}/triage", {"action": "accept"})
            response = self._request(actor, "POST", "/topics", {"title": "修路灯", "concern_ids": [concern.json()["id"]]})
            if actor in MANAGERS:
                assert response.status_code == 201, response.text
            else:
                assert response.status_code == 403, (actor, response.status_code)
                response = self._request("cstaff", "POST", "/topics",
                                         {"title": "修路灯", "concern_ids": [concern.json()["id"]]})
            topic_id = response.json()["id"]
            self.states[topic_id] = "drafted"
            assert len(self._topic_events(topic_id)) == 1
            return topic_id

        @rule(topic=topics, actor=ACTOR_DRAWS, command=st.sampled_from(sorted(COMMAND_BODIES)), future=st.booleans())
        def topic_command(self, topic: str, actor: str, command: str, future: bool) -> None:
            method, path, body = COMMAND_BODIES[command]({"topic": topic, "future": future})
            before = len(self._topic_events(topic))
            response = self._request(actor, method, path, body)
            if command == "schedule" and response.status_code == 201:
                self.meetings.setdefault(topic, []).append(response.json()["id"])
            if command == "add_action" and response.status_code == 201:
                self.actions.setdefault(topic, []).append(response.json()["id"])
            self._check(topic, command, actor, response, before)

        @rule(topic=topics, actor=ACTOR_DRAWS, command=st.sampled_from(sorted(MEETING_BODIES)))
        def meeting_command(self, topic: str, actor: str, command: str) -> None:
            if not self.meetings.get(topic):
                return
            meeting = self.meetings[topic][-1]
            path, body = MEETING_BODIES[command]
            before = len(self._topic_events(topic))
            response = self._request(actor, "POST", f"/meetings/{meeting}/{path}", body)
            self._check(topic, command, actor, response, before)

        @rule(topic=topics, actor=ACTOR_DRAWS, complete=st.booleans(), percent=st.integers(0, 100))
        def action_command(self, topic: str, actor: str, complete: bool, percent: int) -> None:
            if not self.actions.get(topic):
                return
            action = self.actions[topic][0]
            before = len(self._topic_events(topic))
            if complete:
                response = self._request(actor, "POST", f"/actions/{action}/complete", None)
            else:
                response = self._request(actor, "POST", f"/actions/{action}/progress", {"percent": percent})
            if response.status_code < 300:
                assert actor in MANAGERS or actor == "wuye", actor
            self._check(topic, "complete_action" if complete else "progress", actor, response, before)

        @invariant()
        def times_never_go_backwards_and_the_other_tenant_sees_nothing(self) -> None:
            if not hasattr(self, "client"):
                return
            for topic_id in self.states:
                times = [e["at"] for e in self._topic_events(topic_id)]
                assert times == sorted(times)
                crossed = call(self.client.get(f"/api/v1/tenants/comm-b/topics/{topic_id}",
                                               headers=self.headers["bstaff"]))
                assert crossed.status_code == 404
            other = call(self.client.get("/api/v1/tenants/comm-b/topics", headers=self.headers["bstaff"])).json()
            assert other["total"] == 0
            assert call(self.client.get("/api/v1/tenants/comm-b/public/results")).json()["total"] == 0

        def teardown(self) -> None:
            if hasattr(self, "client"):
                call(self.client.aclose())

    try:
        SixSteps.TestCase.settings = settings(
            max_examples=8, stateful_step_count=25, deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        SixSteps.TestCase().runTest()
    finally:
        loop.run_until_complete(app.state.engine.dispose())
        loop.close()


def test_random_commands_by_random_people_keep_the_machine_honest(database: DatabaseUnderTest) -> None:
    run_machine(database)
