"""Text people typed, as a page or the report shows it: without the direction controls
that would turn the words around it backwards.

A display name ending in U+202E (RIGHT-TO-LEFT OVERRIDE) printed the report's running
header as "Mallory03-11-6202 ot 03-11-6202" (the period reversed), and a preventive
named so reversed "since 01 Oct 2026". The embeddings, overrides and isolates
(U+202A–U+202E, U+2066–U+2069) have no use in a name or a note: right-to-left scripts
need none, the Unicode bidirectional algorithm orders them. What is stored stays as it
was typed (an export gives it back); only what is shown leaves them out.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from markupsafe import Markup

DIRECTION_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def without_direction_controls(value: Any) -> Any:
    """A template value to show (Jinja's ``finalize``): text without direction controls;
    markup the templates made themselves, and anything not text, as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return DIRECTION_CONTROLS.sub("", value)
    return value


#: characters Unicode calls letters or symbols that show nothing: the Hangul fillers
#: and the blank braille pattern
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def name_problem(text: str) -> str | None:
    """Why ``text`` cannot be a person's name as others see it, or None. A zero-width
    space or a Hangul filler alone showed the clinician an empty link; a control
    character (a terminal escape, a bell) or a direction override has no place in a
    name. Any script, and emoji, are names."""
    if any(unicodedata.category(ch) == "Cc" for ch in text) or DIRECTION_CONTROLS.search(text):
        return "a name cannot hold control characters"
    if not any(unicodedata.category(ch)[0] in "LNSP" and ch not in _BLANK for ch in text):
        return "type a name others can read"
    return None
