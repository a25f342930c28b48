"""The pep-talk chain: request -> prompt | routed chat model | output parser."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from langchain_core.runnables import ConfigurableField, Runnable, RunnableLambda
from pydantic import Field, WithJsonSchema

from peptalk.output import PepTalkOutputParser
from peptalk.prompt import get_template
from peptalk.schema import PepTalkRequest, PepTalkResponse
from router.call import ChatLayer
from router.chat_model import RoutedChatModel
from router.router import Router

MODEL_FIELD = "model"
CACHE_FIELD = "cache"


CACHE_MODES = ("use", "bypass", "refresh")


def _optional_choice(choices: tuple[str, ...]) -> Any:
    """`Literal[choices] | None` for validation, published as a plain string enum.

    A `null` may still be sent (it means "unset", like leaving the key out), but the schema has no
    `{"type": "null"}` branch and no `null` default: LangServe's playground cannot render the branch
    (`Unknown type`, a blank page) and flags the default as invalid.
    """
    return Annotated[Literal[choices] | None,  # type: ignore[valid-type]
                     WithJsonSchema({"type": "string", "enum": list(choices)}),
                     Field(json_schema_extra=_without_default)]


def _without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def configurable_model(router: Router, layer: ChatLayer | None = None) -> Runnable:
    """The routed chat model, with `model` and `cache` settable per call (`config={"configurable": {...}}`)."""
    return RoutedChatModel(layer=layer or router).configurable_fields(
        model=ConfigurableField(
            id=MODEL_FIELD,
            name="Model",
            description=f"`backend:model` that answers; default {router.default}.",
            annotation=_optional_choice(tuple(router.known_models())),
        ),
        cache_mode=ConfigurableField(
            id=CACHE_FIELD,
            name="Cache",
            description="Semantic cache for this call: use (default), bypass (neither read nor write), or "
                        "refresh (skip the lookup, store the new answer).",
            annotation=_optional_choice(CACHE_MODES),
        ),
    )


def build_chain(router: Router, *, layer: ChatLayer | None = None,
                request_model: type[PepTalkRequest] = PepTalkRequest, template: str | None = None) -> Runnable:
    """The LCEL chain LangServe serves: input `request_model`, output `PepTalkResponse` (as a dict).

    `layer` is the serving stack the chat model calls (cache, shadow ... over the router); default the router.
    `template` is the prompt template id (default: `PEPTALK_PROMPT_TEMPLATE`, `slam`).
    """
    spec = get_template(template)
    prompt = spec.chat_prompt()
    model = configurable_model(router, layer)
    parser = PepTalkOutputParser(template=spec.id, template_version=spec.version)

    def plan(payload: Any) -> Runnable:
        # Returning a runnable makes LCEL run it on the same input, streaming included; the
        # validated request rides along as a bound kwarg so routing, caching and shadowing can see it.
        request = request_model.model_validate(payload)
        variables = spec.variables(request)
        bound = model.bind(peptalk_request=request.model_dump(mode="json"), peptalk_template_version=spec.version)
        return RunnableLambda(lambda _: variables, name="PromptVariables") | prompt | bound | parser

    return RunnableLambda(plan, name="PepTalk").with_types(input_type=request_model, output_type=PepTalkResponse)
