"""mkdocs hook: the "Venues" section of the nav lists every built-in venue's page, from the specs.

``mkdocs.yml`` names only ``venues/index.md`` under "Venues"; this hook appends one entry per
declared venue (its ``title`` and ``docs`` page), so a new venue's page joins the site by being
declared in its ``spec.py``.  The conformance suite checks each declared page exists.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def venue_pages() -> list[dict[str, str]]:
    """``[{title: "venues/<page>.md"}, ...]`` for the built-in venues, in registry order."""
    if str(ROOT) not in sys.path:  # mkdocs run from a console script does not put the checkout on the path
        sys.path.insert(0, str(ROOT))
    from rxfeeds.venues.registry import specs

    return [
        {v.title or v.name: v.docs}
        for v in specs().values()
        if v.docs and v.client.startswith("rxfeeds.") and (ROOT / "docs" / v.docs).is_file()
    ]


def on_config(config: Any) -> Any:
    for section in config["nav"] or []:
        if isinstance(section, dict) and "Venues" in section:
            listed = section["Venues"]
            known = {p for item in listed for p in (item.values() if isinstance(item, dict) else [item])}
            listed.extend(page for page in venue_pages() if next(iter(page.values())) not in known)
    return config
