"""The Markdown of a model card as HTML: the subset the cards use, every text escaped.

Headings (``#`` to ``####``), paragraphs, ``-`` lists, pipe tables, ``**bold**`` and ```code``` spans. Anything
else shows as escaped text, so a card with markup in it cannot run script in the report.
"""

import re
from html import escape

__all__ = ["markdown_html"]


def _inline(text):
    out = escape(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", out)


def _cells(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _table(lines):
    head, body = _cells(lines[0]), [_cells(line) for line in lines[2:]]
    header = "".join(f"<th>{_inline(c)}</th>" for c in head)
    rows = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in body)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>"


def _is_rule(line):
    return bool(re.fullmatch(r"\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?", line.strip()))


def markdown_html(text, *, heading_offset=3):
    """Render ``text`` (Markdown) as an HTML fragment.

    Parameters
    ----------
    text : str
    heading_offset : int
        ``#`` becomes ``<h{heading_offset}>``, ``##`` the next level, capped at ``<h6>``; so a card's title
        sits below the report's own headings.

    Returns
    -------
    str
    """
    blocks = re.split(r"\n\s*\n", text.strip())
    out = []
    for block in blocks:
        lines = block.splitlines()
        heading = re.match(r"(#{1,6})\s+(.*)", lines[0])
        if heading and len(lines) == 1:
            level = min(6, len(heading.group(1)) + heading_offset - 1)
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif len(lines) >= 2 and lines[0].lstrip().startswith("|") and _is_rule(lines[1]):
            out.append(_table(lines))
        elif all(line.startswith(("- ", "* ", "  ")) for line in lines):
            items, current = [], []
            for line in lines:
                if line.startswith(("- ", "* ")) and current:
                    items.append(" ".join(current))
                    current = []
                current.append(line[2:].strip() if line.startswith(("- ", "* ")) else line.strip())
            items.append(" ".join(current))
            out.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in items) + "</ul>")
        else:
            out.append(f"<p>{_inline(' '.join(line.strip() for line in lines))}</p>")
    return "\n".join(out)
