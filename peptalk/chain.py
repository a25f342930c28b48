"""The pep-talk chain: request -> prompt | routed chat model | output parser."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from langchain_core.messages import BaseMessage
from langchain_core.runnables import ConfigurableField, Runnable, RunnableLambda
from pydantic import Field, WithJsonSchema

from peptalk.output import PepTalkOutputParser
from peptalk.prompt import get_template
from peptalk.schema import PepTalkRequest, PepTalkResponse
from peptalk.cache.facts import CACHE_MODES, CacheMode
from peptalk.chat_model import REQUEST_KWARG, TEMPLATE_VERSION_KWARG, RoutedChatModel, chain_call
from router.call import Call, ChatLayer
from router.router import Router

MODEL_FIELD = "model"
CACHE_FIELD = "cache"


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


class ChainPlan:
    """How the chain turns one input into its chat model's call: validate, fill the prompt, bind the request.

    The chain runs it; the exact-hit fast path uses the same steps to build the same `Call` without the chain.
    """

    def __init__(self, request_model: type[PepTalkRequest] = PepTalkRequest, template: str | None = None) -> None:
        self.request_model = request_model
        self.spec = get_template(template)
        self.prompt = self.spec.chat_prompt()
        self.parser = PepTalkOutputParser(template=self.spec.id, template_version=self.spec.version)

    def request(self, payload: Any) -> PepTalkRequest:
        """The validated input; pydantic's `ValidationError` when it is invalid."""
        return self.request_model.model_validate(payload)

    def bound(self, request: PepTalkRequest) -> dict[str, Any]:
        """The kwargs the chat model gets besides the messages: the request, the template's version."""
        return {REQUEST_KWARG: request.model_dump(mode="json"), TEMPLATE_VERSION_KWARG: self.spec.version}

    def messages(self, request: PepTalkRequest) -> list[BaseMessage]:
        """The prompt for `request`, as the chain's prompt step renders it."""
        return self.prompt.format_messages(**self.spec.variables(request))

    def call(self, request: PepTalkRequest, *, model: str | None, cache: CacheMode | None,
             messages: list[BaseMessage] | None = None) -> Call:
        """The call the chain's chat model makes for `request` (`messages` default: none yet)."""
        bound = self.bound(request)
        return chain_call(messages or [], request=bound[REQUEST_KWARG], model=model, cache=cache,
                          template_version=bound[TEMPLATE_VERSION_KWARG])

    @property
    def template_meta(self) -> dict[str, str]:
        """What the output parser adds to an answer's metadata about the template."""
        return {"template": self.spec.id, "template_version": self.spec.version}


def build_chain(router: Router, *, layer: ChatLayer | None = None,
                request_model: type[PepTalkRequest] = PepTalkRequest, template: str | None = None,
                plan: ChainPlan | None = None) -> Runnable:
    """The LCEL chain LangServe serves: input `request_model`, output `PepTalkResponse` (as a dict).

    `layer` is the serving stack the chat model calls (cache, shadow ... over the router); default the router.
    `template` is the prompt template id (default: `PEPTALK_PROMPT_TEMPLATE`, `slam`). `plan`, when given,
    replaces both `request_model` and `template`.
    """
    chain = plan or ChainPlan(request_model, template)
    model = configurable_model(router, layer)

    def steps(payload: Any) -> Runnable:
        # Returning a runnable makes LCEL run it on the same input, streaming included; the
        # validated request rides along as a bound kwarg so routing, caching and shadowing can see it.
        request = chain.request(payload)
        variables = chain.spec.variables(request)
        bound = model.bind(**chain.bound(request))
        return RunnableLambda(lambda _: variables, name="PromptVariables") | chain.prompt | bound | chain.parser

    return RunnableLambda(steps, name="PepTalk").with_types(input_type=chain.request_model,
                                                            output_type=PepTalkResponse)
