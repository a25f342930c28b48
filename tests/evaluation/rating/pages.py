"""Reading the rating pages in tests: the form's action, nonce and fields."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass
class RatingForm:
    action: str
    nonce: str
    score_fields: list[str]
    comment_fields: list[str]

    def filled(self, score: int | str = 7, **extra: str) -> dict[str, str]:
        return {"nonce": self.nonce, **{name: str(score) for name in self.score_fields}, **extra}


def rating_form(html: str) -> RatingForm:
    action = re.search(r'<form method="post" action="(/rate/[^"]+)"', html)
    nonce = re.search(r'name="nonce" value="([^"]+)"', html)
    assert action and nonce, html[:2000]
    return RatingForm(action.group(1), nonce.group(1), re.findall(r'name="(score-[^"]+)"', html),
                      re.findall(r'name="(comment-[^"]+)"', html))


def leaked_markers(text: str, markers: list[str]) -> list[str]:
    lowered = text.lower()
    return [marker for marker in markers if marker.lower() in lowered]
