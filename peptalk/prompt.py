"""The pep-talk prompt templates: `slam` (the paper's printed prompt, default), `slam-recorded` and `hardened`.

`slam` is the production prompt as the SLaM paper prints it in Section III-A, byte for byte: the paper's lines and
blank lines, its example dates and `[LIST OF ...]` placeholders written as fields, and its typographic single
quotes (U+2018, U+2019) as ASCII `'`, as the study's recorded prompt has them (tests/peptalk/
test_prompt_paper.py proves it against the paper's text). `slam-recorded` is the prompt the study's own records
hold (`human_eval/inputs.json` in github.com/Jaseci-Labs/slam), word for word, with the context laid out as its
`graph2doc_custom_myca_peptalk.py` writes it: one more rule than the paper prints, dashed rulers around the
context and blank lines between its sections. Both fill each list as bare items, one per line.
`hardened` is peptalk's earlier variant: user lists marked as data, one `- item` per line, `- (none)` for an
empty list. Every template has a version (`<id>@<sha256 of the text, 12 hex>`) that answers, cache entries,
shadow pairs and evaluation records carry.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from langchain_core.prompts import ChatPromptTemplate

from peptalk.schema import LIST_FIELDS, PepTalkRequest

TemplateId = Literal["slam", "slam-recorded", "hardened"]
TEMPLATE_IDS: tuple[TemplateId, ...] = ("slam", "slam-recorded", "hardened")
DEFAULT_TEMPLATE: TemplateId = "slam"
EMPTY_LIST = "- (none)"  # the hardened template's empty list
BARE_LISTS: frozenset[TemplateId] = frozenset({"slam", "slam-recorded"})  # templates that get bare items


@dataclass(frozen=True)
class PromptTemplateSpec:
    """One template: its id, its text and the version derived from that text."""

    id: TemplateId
    text: str

    @property
    def version(self) -> str:
        """`<id>@<first 12 hex of the text's SHA-256>`: changes whenever a word of the template does."""
        return f"{self.id}@{hashlib.sha256(self.text.encode('utf-8')).hexdigest()[:12]}"

    def variables(self, request: PepTalkRequest) -> dict[str, Any]:
        """The template's variables for `request`: dates in ISO form, each list laid out as the template wants."""
        if self.id in BARE_LISTS:
            # As the study's graph2doc did: the item names, one per line, nothing around them.
            variables: dict[str, Any] = {name: "\n".join(getattr(request, name)) for name in LIST_FIELDS}
        else:
            variables = {name: _bullets(getattr(request, name)) for name in LIST_FIELDS}
        # str(): also works on `model_construct`ed requests whose dates are ISO strings.
        variables["last_login"] = str(request.last_login)
        variables["today"] = str(request.today)
        return variables

    def render(self, request: PepTalkRequest) -> str:
        """The exact text the model receives for `request`."""
        return self.text.format(**self.variables(request))

    def chat_prompt(self) -> ChatPromptTemplate:
        """The prompt as one user message, the way GPT-4 received it in production."""
        return ChatPromptTemplate.from_messages([("human", self.text)])


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items) if items else EMPTY_LIST


def resolve_template(template: str | None = None) -> TemplateId:
    """`template`, or the configured `PEPTALK_PROMPT_TEMPLATE` when None; an unknown id raises ValueError."""
    if template is None:
        from peptalk.settings import get_settings

        template = get_settings().prompt_template
    if template not in TEMPLATE_IDS:
        raise ValueError(f"unknown prompt template {template!r}; known: {', '.join(TEMPLATE_IDS)}")
    return template  # type: ignore[return-value]


@lru_cache(maxsize=None)
def _load(template: TemplateId) -> PromptTemplateSpec:
    text = resources.files("peptalk").joinpath(f"templates/{template}.txt").read_text(encoding="utf-8")
    return PromptTemplateSpec(id=template, text=text)


def get_template(template: str | None = None) -> PromptTemplateSpec:
    """The template `template` (default: the configured one, `slam` unless set)."""
    return _load(resolve_template(template))


def template_text(template: str | None = None) -> str:
    """The template file, word for word."""
    return get_template(template).text


def pep_talk_prompt(template: str | None = None) -> ChatPromptTemplate:
    """The prompt as one user message, the way GPT-4 received it in production."""
    return get_template(template).chat_prompt()


def prompt_variables(request: PepTalkRequest, template: str | None = None) -> dict[str, Any]:
    """The template's variables for `request`."""
    return get_template(template).variables(request)


def render_prompt(request: PepTalkRequest, template: str | None = None) -> str:
    """The exact text the model receives for this request."""
    return get_template(template).render(request)
