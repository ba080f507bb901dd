"""Jinja2 rendering of the board (autoescape on): templates in taskbot/board/templates, overridable by a folder."""

from __future__ import annotations

import os
from datetime import date, datetime
from functools import lru_cache
from urllib.parse import quote

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, pass_context, select_autoescape

from .data import STATUS_EN, STATUS_ZH

OVERRIDE_ENV = "TASKBOT_BOARD_TEMPLATES"  # a folder whose templates replace the built-in ones of the same name

LABELS = {  # key: (Chinese, English)
    "board": ("督查督办看板", "Supervision board"), "overview": ("总览", "Overview"),
    "items": ("全部事项", "All items"), "overdue": ("逾期事项", "Overdue items"),
    "documents": ("文件", "Documents"), "units": ("单位", "Units"), "document": ("文件", "Document"),
    "unit": ("单位", "Unit"), "item": ("事项", "Item"), "id": ("编号", "ID"), "ref": ("条目", "Ref"),
    "title": ("事项", "Title"), "short_title": ("标题", "Title"), "count": ("事项数", "Items"),
    "done": ("已完成", "Done"), "open": ("未完成", "Open"), "overdue_n": ("已逾期", "Overdue"),
    "soon": ("7日内到期", "Due in 7 days"), "percent": ("完成率", "% done"), "lead": ("牵头单位", "Lead"),
    "responsible": ("责任单位", "Responsible"), "cooperating": ("配合单位", "Cooperating"),
    "due": ("完成时限", "Due"), "status": ("状态", "Status"), "progress": ("最新进展", "Latest progress"),
    "done_on": ("完成日期", "Done on"), "done_on_time": ("按时完成", "Done on time"),
    "done_late": ("逾期完成", "Done late"), "last_progress": ("距上次报送进展(天)", "Days since last progress"),
    "chats": ("联络员会话", "Liaison chats"), "no_liaison": ("无联络员：提醒无人接收", "No liaison: reminders reach nobody"),
    "silent": ("以下单位有未完成事项但没有联络员，提醒无人接收：", "These units have open items but no liaison; their reminders reach nobody:"),
    "timeline": ("时间轴", "Timeline"), "today": ("今天", "today"), "issued": ("印发日期", "Issued"),
    "issuer": ("发文机关", "Issuer"), "role": ("角色", "Role"), "next_reminder": ("下次提醒", "Next reminder"),
    "delivered": ("已送达的提醒", "Reminders delivered"), "when": ("时间", "When"), "kind": ("类型", "Kind"),
    "to_chats": ("送达会话数", "Chats"), "members": ("成员单位", "Members"), "via_group": ("（经所属单位组）", " (through a group)"),
    "source": ("文件原文", "Source text"), "line": ("行", "line"), "milestones": ("阶段目标", "Milestones"),
    "history": ("进展记录", "Progress history"), "audit": ("操作记录", "Audit log"), "deliveries": ("提醒送达记录", "Deliveries"),
    "detail": ("内容", "Detail"), "note": ("备注", "Note"), "none": ("无", "none"), "filters": ("筛选", "Filters"),
    "due_before": ("时限早于", "Due before"), "due_after": ("时限晚于", "Due after"), "apply": ("筛选", "Apply"),
    "reset": ("清除", "Reset"), "any": ("全部", "any"), "export": ("导出", "Export"), "prev": ("上一页", "Previous"),
    "next": ("下一页", "Next"), "showing": ("第 {a}–{b} 条，共 {n} 条", "{a}–{b} of {n}"),
    "ignored": ("已忽略无法识别的参数：", "Ignored parameters that were not understood: "),
    "light": ("督办灯", "Light"), "by_lead": ("按牵头单位", "By lead unit"), "unit_of": ("单位", "unit"),
    "days_overdue": ("逾期天数", "Days overdue"), "at": ("时间", "At"), "actor": ("操作人", "By"),
    "action": ("操作", "Action"), "change": ("变更", "Change"), "chat": ("会话", "Chat"), "day": ("日期", "Day"),
    "from_unit": ("报送单位", "Unit"), "text": ("内容", "Text"), "kind_goal": ("目标", "goal"),
    "every": ("周期", "Recurs"), "as_of": ("截至", "As of"), "lang_other": ("English", "中文"),
    "legend": ("红：已逾期　黄：7日内到期　绿：正常推进", "red: overdue · yellow: due within 7 days · green: on track"),
    "withdrawn": ("已撤销", "Withdrawn"), "total_items": ("事项总数", "Items"),
}


def label(lang: str, key: str, **values) -> str:
    zh, en = LABELS[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


def status_text(lang: str, status: str) -> str:
    return (STATUS_EN if lang == "en" else STATUS_ZH)[status]


def _q(value) -> str:
    return quote(str(value), safe="")


@pass_context
def _day(context, value) -> str:
    """A date as YYYY-MM-DD; a datetime in the registry's time zone (`tz` in the context) as YYYY-MM-DD HH:MM."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        tz = context.get("tz")
        return (value.astimezone(tz) if tz is not None and value.tzinfo else value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@lru_cache(maxsize=8)
def environment(override: str | None = None) -> Environment:
    loaders = [FileSystemLoader(override)] if override else []
    loaders.append(PackageLoader("taskbot.board", "templates"))
    env = Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.filters["q"] = _q
    env.filters["day"] = _day
    return env


def render(template: str, lang: str, override: str | None = None, **context) -> str:
    env = environment(override if override is not None else os.environ.get(OVERRIDE_ENV) or None)
    return env.get_template(template).render(
        lang=lang, t=lambda key, **v: label(lang, key, **v), st=lambda s: status_text(lang, s), **context)


__all__ = ["LABELS", "OVERRIDE_ENV", "environment", "label", "render", "status_text"]
