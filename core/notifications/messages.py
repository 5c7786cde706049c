"""What each kind of message says, in each language a person may read (zh-CN first), from the facts of its event."""

from __future__ import annotations

import datetime
import string
from typing import Any

from core import clock

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"

# kind → language → (subject, body). The parameters come from the rule's facts; none names another person.
TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "verification.code": {
        "zh-CN": ("验证码", "您的验证码为 {code}，{minutes} 分钟内有效，请勿告诉他人。"),
        "en": ("Verification code", "Your code is {code}. It is valid for {minutes} minutes; tell no one."),
    },
    "concern.accepted": {
        "zh-CN": ("诉求已受理", "您反映的「{title}」（{reference}）已由{tenant}受理，我们会尽快处理。"),
        "en": ("Concern accepted", "{tenant} has accepted your concern “{title}” ({reference})."),
    },
    "concern.rejected": {
        "zh-CN": ("诉求未予受理", "您反映的「{title}」（{reference}）未予受理，原因：{reason}"),
        "en": ("Concern not accepted", "Your concern “{title}” ({reference}) was not accepted: {reason}"),
    },
    "concern.resolved": {
        "zh-CN": ("诉求已办结", "您反映的「{title}」（{reference}）已直接办结：{reason}"),
        "en": ("Concern resolved", "Your concern “{title}” ({reference}) was resolved: {reason}"),
    },
    "concern.escalated": {
        "zh-CN": ("诉求已上报", "您反映的「{title}」（{reference}）已上报上级协调处理。"),
        "en": ("Concern escalated", "Your concern “{title}” ({reference}) was escalated to the level above."),
    },
    "concern.merged": {
        "zh-CN": ("诉求已合并办理", "您反映的诉求「{title}」（{reference}）已与 {survivor} 合并办理：反映的是同一件事，"
                              "今后的办理进展将随 {survivor} 告知您。"),
        "en": ("Concern merged", "Your concern “{title}” ({reference}) is about the same matter as {survivor} and is "
                                 "now handled together with it: you will hear how {survivor} goes."),
    },
    "concern.in_topic": {
        "zh-CN": ("诉求已列入议题", "您反映的问题已列入{tenant}的协商议题「{topic}」。"),
        "en": ("Concern taken into a topic", "Your concern is now part of the topic “{topic}” at {tenant}."),
    },
    "concern.revisit": {
        "zh-CN": ("请告诉我们办理结果", "您反映的诉求「{title}」（{reference}）已办结，请告诉我们是否解决、是否满意。"),
        "en": ("Was it solved?", "Your concern “{title}” ({reference}) has been resolved: please tell us whether it "
                                 "was solved and how satisfied you are."),
    },
    "topic.meeting_scheduled": {
        "zh-CN": ("协商会已安排", "您关心的议题「{topic}」将于 {when} 在{venue}召开协商会，欢迎参加。"),
        "en": ("Meeting scheduled", "The topic “{topic}” you raised will be discussed on {when} at {venue}."),
    },
    "topic.result_published": {
        "zh-CN": ("协商结果已公开", "议题「{topic}」的协商结果已公开，请查看。"),
        "en": ("Result published", "The result of the topic “{topic}” has been published."),
    },
    "topic.action_completed": {
        "zh-CN": ("执行事项已办结", "议题「{topic}」的执行事项「{action}」已办结。欢迎评价办理情况。"),
        "en": ("Action completed", "“{action}” of the topic “{topic}” is done. Tell us how it went."),
    },
    "meeting.invited": {
        "zh-CN": ("协商会邀请", "邀请您参加{tenant}议题「{topic}」协商会：{when}，{venue}。"),
        "en": ("Invitation", "You are invited to the meeting on “{topic}” at {tenant}: {when}, {venue}."),
    },
    "meeting.rescheduled": {
        "zh-CN": ("协商会改期", "议题「{topic}」协商会改为 {when}，{venue}。原因：{reason}"),
        "en": ("Meeting moved", "The meeting on “{topic}” moved to {when}, {venue}: {reason}"),
    },
    "meeting.cancelled": {
        "zh-CN": ("协商会取消", "议题「{topic}」原定 {when} 的协商会已取消。原因：{reason}"),
        "en": ("Meeting cancelled", "The meeting on “{topic}” of {when} is cancelled: {reason}"),
    },
    "action.assigned": {
        "zh-CN": ("新的执行事项", "{tenant}议题「{topic}」布置给您的执行事项：「{action}」，期限 {due}。"),
        "en": ("New action item", "Action item for you on “{topic}” at {tenant}: “{action}”, due {due}."),
    },
    "concern.new": {
        "zh-CN": ("新诉求", "{tenant}收到新诉求 {reference}「{title}」，请及时处理。"),
        "en": ("New concern", "{tenant} received a new concern {reference} “{title}”."),
    },
    "concern.escalated_in": {
        "zh-CN": ("下级上报", "{tenant}上报诉求 {reference}「{title}」，原因：{reason}"),
        "en": ("Escalated to you", "{tenant} escalated the concern {reference} “{title}”: {reason}"),
    },
    "concern.deadline_warning": {
        "zh-CN": ("诉求即将超时", "{tenant}的诉求 {reference}「{title}」{phase}将于 {due} 到期，请抓紧办理。"),
        "en": ("Concern due soon", "The concern {reference} “{title}” at {tenant} is due ({phase_en}) at {due}."),
    },
    "concern.supervised": {
        "zh-CN": ("督办通知", "{by}督办：{tenant}的诉求 {reference}「{title}」已超过{phase}（{due}），请立即办理并反馈。"),
        "en": ("Supervision notice", "{by} supervises: the concern {reference} “{title}” at {tenant} is overdue "
               "({phase_en}, {due}). Act on it now."),
    },
    "concern.supervised_below": {
        "zh-CN": ("下级诉求超时督办", "{tenant}的诉求 {reference}「{title}」已超过{phase}（{due}），已以{by}名义督办。"),
        "en": ("Overdue below", "The concern {reference} “{title}” at {tenant} is overdue ({phase_en}, {due}); "
               "{by} has sent a supervision notice."),
    },
    "concern.auto_escalated": {
        "zh-CN": ("诉求超时自动上报", "{tenant}的诉求 {reference}「{title}」超过{phase}仍未办结，已自动上报{by}。"),
        "en": ("Escalated when overdue", "The concern {reference} “{title}” at {tenant} was overdue ({phase_en}) "
               "and was escalated to {by}."),
    },
    "concern.extension_requested": {
        "zh-CN": ("延期申请待审批", "{tenant}申请将诉求 {reference}「{title}」的办结时限延长 {extra}，理由：{reason}"),
        "en": ("Extension requested", "{tenant} asks for {extra} more to resolve {reference} “{title}”: {reason}"),
    },
    "concern.extension_approved": {
        "zh-CN": ("延期已批准", "{by}批准了诉求 {reference}「{title}」的延期申请，办结时限改为 {due}。{note}"),
        "en": ("Extension approved", "{by} approved the extension of {reference} “{title}”: now due {due}. {note}"),
    },
    "concern.extension_refused": {
        "zh-CN": ("延期未获批准", "{by}未批准诉求 {reference}「{title}」的延期申请，办结时限仍为 {due}。{note}"),
        "en": ("Extension refused", "{by} refused the extension of {reference} “{title}”: still due {due}. {note}"),
    },
    "follow_up.low_rating": {
        "zh-CN": ("低评价待回访", "议题「{topic}」收到低评价，请安排回访。"),
        "en": ("Low rating", "The topic “{topic}” received a low rating: please follow up."),
    },
    "concern.reopened_in": {
        "zh-CN": ("诉求重办", "居民回访表示诉求 {reference}「{title}」未解决，已重新受理，请在新的时限内办结。"),
        "en": ("Concern reopened", "The resident says the concern {reference} “{title}” was not solved: it is "
                                   "reopened, to be resolved within a new time limit."),
    },
    "meeting.reminder": {
        "zh-CN": ("明日协商会提醒", "提醒：议题「{topic}」协商会明天 {when} 在{venue}召开。"),
        "en": ("Meeting tomorrow", "Reminder: the meeting on “{topic}” is tomorrow, {when}, at {venue}."),
    },
    "action.due_soon": {
        "zh-CN": ("执行事项即将到期", "执行事项「{action}」将于 {due} 到期，请按时办结。"),
        "en": ("Action item due soon", "The action item “{action}” is due on {due}."),
    },
    "action.overdue": {
        "zh-CN": ("执行事项已逾期", "执行事项「{action}」已于 {due} 到期，尚未办结。"),
        "en": ("Action item overdue", "The action item “{action}” was due on {due} and is still open."),
    },
    "action.overdue_in": {
        "zh-CN": ("执行事项逾期", "{tenant}议题「{topic}」的执行事项「{action}」已于 {due} 到期，尚未办结。"),
        "en": ("Overdue action item", "“{action}” of “{topic}” at {tenant} was due on {due} and is still open."),
    },
    "digest": {
        "zh-CN": ("{tenant}今日摘要", "{lines}"),
        "en": ("Today at {tenant}", "{lines}"),
    },
}

# Kinds a person may choose channels for, and a webhook receive (a digest is not itself a kind one subscribes to;
# a verification code goes by SMS to whoever asked for it, never to a webhook).
KINDS = tuple(kind for kind in TEXTS if kind not in ("digest", "verification.code"))

# What one line of a digest says of n messages of a kind: "3 条新诉求".
DIGEST_LINES: dict[str, dict[str, str]] = {
    "concern.new": {"zh-CN": "{n} 条新诉求", "en": "{n} new concerns"},
    "concern.escalated_in": {"zh-CN": "{n} 条上报", "en": "{n} escalated"},
    "action.overdue_in": {"zh-CN": "{n} 项执行事项逾期", "en": "{n} overdue action items"},
    "follow_up.low_rating": {"zh-CN": "{n} 条低评价待回访", "en": "{n} low ratings"},
    "concern.reopened_in": {"zh-CN": "{n} 条诉求重办", "en": "{n} reopened concerns"},
    "concern.deadline_warning": {"zh-CN": "{n} 条诉求即将超时", "en": "{n} concerns due soon"},
}
OTHER_LINE = {"zh-CN": "{n} 条其他通知", "en": "{n} other notices"}


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def when(value: str) -> str:
    """A meeting's time as people read it, in Beijing time: 12月3日 15:00."""
    at = clock.local(datetime.datetime.fromisoformat(value))
    return f"{at.month}月{at.day}日 {at:%H:%M}"


def render(kind: str, language: str, facts: dict[str, Any],
           texts: dict[str, tuple[str, str]] | None = None) -> tuple[str, str]:
    """The subject and body of `kind` in `language` (or zh-CN), a missing fact left blank rather than failing;
    `texts` are a plugin's own kind's, by language."""
    texts = texts or TEXTS[kind]
    subject, body = texts.get(language) or texts[DEFAULT_LANGUAGE]
    values = _Blank(facts)
    if facts.get("starts_at"):
        values["when"] = when(facts["starts_at"])
    formatter = string.Formatter()
    return formatter.vformat(subject, (), values), formatter.vformat(body, (), values)


def digest_line(kind: str, language: str, n: int) -> str:
    line = DIGEST_LINES.get(kind, OTHER_LINE)
    return (line.get(language) or line[DEFAULT_LANGUAGE]).format(n=n)
