"""Griffe extension for this site: render the project's reST-flavoured docstrings as Markdown.

rxfeeds docstrings follow the reactivex house style: Google sections, reST literal blocks
(``Marble sketch::`` followed by an indented block) and doctest examples under ``Example:``.
Griffe turns an unknown section such as ``Example:`` into an admonition whose body is Markdown,
where doctest lines and ``::`` blocks would be read as prose (``[a][b]`` even as a link).  This
extension rewrites each docstring before it is parsed:

* a line ending in ``::`` introduces the indented block after it: the block becomes a fenced
  ``text`` block and the line ends with a single ``:`` (a bare ``::`` line disappears);
* a run of doctest lines (``>>>``, ``...`` and their output, up to a blank line or a dedent)
  becomes a fenced ``pycon`` block;
* Sphinx roles (``:class:`~rxfeeds.events.Trade```, ``:func:`x```, ``:attr:`y```...) become plain
  code spans, since their targets are not always on this site.

It never touches the source files: only what the site shows.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|exc|obj|ref|const|py:\w+):`(~?)([^`<]+?)(?:\s*<([^>]+)>)?`")


def _role(match: re.Match[str]) -> str:
    tilde, target, explicit = match.group(1), match.group(2).strip(), match.group(3)
    if explicit:  # :func:`title <target>`
        return f"`{target}`"
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def convert(text: str) -> str:
    """The docstring ``text`` with literal blocks and doctests fenced and roles simplified."""
    lines = _ROLE.sub(_role, text).split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith(">>>"):
            pad = " " * _indent(line)
            block = []
            while i < len(lines) and lines[i].strip() and _indent(lines[i]) >= len(pad):
                block.append(lines[i][len(pad) :])
                i += 1
            out += [f"{pad}```pycon", *[pad + b for b in block], f"{pad}```"]
            continue
        if stripped.endswith("::") and not stripped.startswith((">>>", "...")):
            base = _indent(line)
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines) and _indent(lines[j]) > base:
                block_indent = _indent(lines[j])
                k = j
                body: list[str] = []
                while k < len(lines) and (not lines[k].strip() or _indent(lines[k]) >= block_indent):
                    body.append(lines[k][block_indent:] if lines[k].strip() else "")
                    k += 1
                while body and not body[-1]:
                    body.pop()
                intro = line.rstrip()[:-2].rstrip()
                if intro.strip():
                    out += [intro + ":", ""]
                pad = " " * base
                out += [f"{pad}```text", *[(pad + b) if b else "" for b in body], f"{pad}```", ""]
                i = k
                continue
        out.append(line)
        i += 1
    return "\n".join(out)


class RstDocstrings(griffe.Extension):
    """Apply :func:`convert` to every docstring griffe loads."""

    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value)
