"""The site's stylesheet is well formed: every block it opens, it closes (a lost brace makes
browsers drop every rule after it, silently)."""

from __future__ import annotations

import re
from pathlib import Path

CSS = Path(__file__).resolve().parents[2] / "static" / "portal" / "site.css"


def test_every_block_of_the_stylesheet_is_closed_where_it_should_be() -> None:
    text = re.sub(r"/\*.*?\*/", "", CSS.read_text(), flags=re.S)
    depth, media = 0, []
    for number, line in enumerate(text.splitlines(), start=1):
        for char in line:
            if char == "{":
                depth += 1
                if line.lstrip().startswith("@"):
                    media.append(depth)
            elif char == "}":
                if media and media[-1] == depth:
                    media.pop()
                depth -= 1
            assert depth >= 0, f"line {number}: a brace closes nothing"
        # A rule (not an @-block) never holds another rule.
        assert depth <= len(media) + 1, f"line {number}: a block is left open above it"
    assert depth == 0, "the stylesheet ends inside a block"
