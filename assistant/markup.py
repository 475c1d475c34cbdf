"""The answer text's small structure, parsed once for every channel that renders it.

An answer is plain text with three kinds of block (assistant/answering.py writes them, a
configured language model is asked for the same):

- a **paragraph**: one or more lines of prose, blocks separated by a blank line;
- a **section label**: a line of its own that is one of the known labels ("Wat je kunt doen",
  "Let op", "What you can do"…), optionally ending in ":";
- a **list**: consecutive Markdown list lines (``- item`` or ``1. item``); an indented list line
  belongs to the item above it.

Channels map these onto their own elements: HTML lists in the widget (built with DOM calls,
never from markup), mrkdwn in Slack, Adaptive Card text blocks in Teams, rich in the CLI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .answering import SECTIONS

_LABELS = {label.lower() for labels in SECTIONS.values() for label in labels.values()}
_ITEM = re.compile(r"^(\s*)(?:[-*•]|(\d{1,2})[.)])\s+(.*)$")


@dataclass
class Item:
    text: str
    children: list[Item] = field(default_factory=list)


@dataclass
class Block:
    kind: str  # "paragraph" | "label" | "list"
    text: str = ""
    ordered: bool = False
    items: list[Item] = field(default_factory=list)


def is_label(line: str) -> bool:
    return line.strip().rstrip(":").strip().lower() in _LABELS


def parse(text: str) -> list[Block]:
    blocks: list[Block] = []
    para: list[str] = []

    def end_para() -> None:
        if para:
            blocks.append(Block("paragraph", " ".join(p.strip() for p in para)))
            para.clear()

    for line in (text or "").splitlines():
        if not line.strip():
            end_para()
            continue
        m = _ITEM.match(line)
        if m:
            end_para()
            indent, number, body = len(m.group(1).expandtabs()), m.group(2), m.group(3).strip()
            last = blocks[-1] if blocks else None
            if indent >= 2 and last is not None and last.kind == "list" and last.items:
                last.items[-1].children.append(Item(body))
            elif last is not None and last.kind == "list" and last.ordered == bool(number):
                last.items.append(Item(body))
            else:
                blocks.append(Block("list", ordered=bool(number), items=[Item(body)]))
            continue
        if is_label(line):
            end_para()
            blocks.append(Block("label", line.strip().rstrip(":").strip()))
            continue
        para.append(line)
    end_para()
    return blocks
