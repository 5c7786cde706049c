"""The six-step state machine of a topic: its states, and for each command where it may fire and where it leads.

drafted → researching → scheduled → deliberated → published → executing → completed, and withdrawn
from any state before publication. A command that leaves the state as it is (a second site visit, an
extra action item, a meeting moved to another day) is still recorded as one event.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import Conflict
from core.i18n import Label

STATES = ("drafted", "researching", "scheduled", "deliberated", "published", "executing", "completed", "withdrawn")
STATE_NAMES = {
    "drafted": "已拟定议题",
    "researching": "议前调研中",
    "scheduled": "已安排协商",
    "deliberated": "已形成协商结果",
    "published": "已公开结果",
    "executing": "监督执行中",
    "completed": "已办结",
    "withdrawn": "已撤回",
}
# The step of the six-step method (1–6) a topic in each state is at.
STEPS = {"drafted": 2, "researching": 3, "scheduled": 4, "deliberated": 4, "published": 5, "executing": 6,
         "completed": 6, "withdrawn": 2}
STEP_NAMES = {1: "收集问题", 2: "拟定议题", 3: "议前调研", 4: "组织协商", 5: "公开结果", 6: "监督执行"}
PUBLIC_STATES = ("published", "executing", "completed")


@dataclass(frozen=True)
class Command:
    """A command on a topic: the states it may fire in, and the state it leads to from each."""

    name: str
    moves: dict[str, str]
    refusal: Label  # why it may not fire, after the current state's name

    def target(self, state: str) -> str:
        if state not in self.moves:
            raise Conflict("议题当前为「{state}」，{refusal}", state=Label(STATE_NAMES[state]), refusal=self.refusal)
        return self.moves[state]


def _stay(*states: str) -> dict[str, str]:
    return {state: state for state in states}


COMMANDS: dict[str, Command] = {c.name: c for c in [
    Command("research", {"drafted": "researching", **_stay("researching", "scheduled")},
            Label("不能再记录议前调研")),
    Command("schedule", {"drafted": "scheduled", "researching": "scheduled", **_stay("scheduled")},
            Label("不能再安排协商会")),
    # Before a meeting starts it can be moved or called off; cancelling the topic's only meeting is in EXTRA_MOVES.
    Command("reschedule", _stay("scheduled", "deliberated"), Label("没有可改期的协商会")),
    Command("cancel_meeting", _stay("scheduled", "deliberated"), Label("没有可取消的协商会")),
    Command("minutes", _stay("scheduled", "deliberated"), Label("没有待记录的协商会")),
    Command("decide", {"scheduled": "deliberated"}, Label("不能记录协商结果（须先安排并召开协商会）")),
    Command("publish", {"deliberated": "published"}, Label("不能公开（须先形成协商结果）")),
    Command("add_action", _stay("deliberated", "published", "executing"), Label("不能再布置执行事项")),
    # An item handed to the wrong owner is handed on, or called off, with a reason, while the topic is carried out.
    Command("reassign_action", _stay("deliberated", "published", "executing"), Label("不能再改派执行事项")),
    Command("cancel_action", _stay("deliberated", "published", "executing"), Label("不能再取消执行事项")),
    Command("progress", {"published": "executing", **_stay("executing")}, Label("结果公开后才能报告执行进度")),
    # Completing the last open item completes the topic; the service picks that target.
    Command("complete_action", {"published": "executing", **_stay("executing")}, Label("结果公开后才能办结执行事项")),
    Command("withdraw", {s: "withdrawn" for s in ("drafted", "researching", "scheduled", "deliberated")},
            Label("公开后不能撤回")),
    Command("rate", _stay("executing", "completed"), Label("执行开始后才能评价")),
]}

# Moves a command makes besides its usual one: completing the last open action item completes the topic (as does
# cancelling it once another was completed), and
# cancelling the last meeting still on a scheduled topic takes it back to where it was before scheduling (so it
# can schedule another). A low rating never moves a topic: it opens a follow-up (回访) beside it.
EXTRA_MOVES = {
    ("complete_action", "published", "completed"),
    ("complete_action", "executing", "completed"),
    ("cancel_meeting", "scheduled", "drafted"),
    ("cancel_meeting", "scheduled", "researching"),
    ("cancel_action", "executing", "completed"),
}


def allowed_move(command: str, from_state: str, to_state: str) -> bool:
    """Whether `command` may take a topic from `from_state` to `to_state` (the property tests' oracle)."""
    usual = COMMANDS[command].moves.get(from_state)
    return usual == to_state or (command, from_state, to_state) in EXTRA_MOVES
