"""`ResilientChatModel`: an LLM that answers with the offline model when it cannot.

Agents must answer even when the LLM is down, slow or too expensive, and LangGraph,
LangSmith and the `messages` stream mode must see one ordinary chat model while that
happens. So the wrapper is a real `BaseChatModel` (`bind_tools`,
`with_structured_output`, `ainvoke`, `astream` and tracing work as with any chat
model) around `primary` (`ChatOpenAI`, from `agentgraph.models.factory`) and
`fallback` (the offline model). It answers with the fallback when the budget says no
(`await SpendBudget.aallows()`, through the shared ledger when the budget has one)
or when the primary still fails after the openai client's own retries: any
`openai.APIError` (HTTP errors, connection errors, timeouts) or a stream stall. A
fallback answer carries `response_metadata["fallback"] is True`,
`["fallback_reason"]` ("error" or "budget") and `["model_name"] == "offline"`; an
LLM answer keeps the provider's `model_name` and `usage_metadata`, and its cost is
recorded with `await SpendBudget.arecord()`. A stream that fails after its first
chunk was yielded raises rather than splicing two answers together. It is async
only, as the server is: `invoke`, `stream` and `batch` raise `TypeError` naming
`ainvoke`/`astream`, because a sync LLM call would block the event loop for the
length of a provider timeout. No code path here counts tokens with tiktoken
(`get_num_tokens*` use a character-based estimate).
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import openai
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams
from langchain_core.messages import BaseMessage
from langchain_core.messages.ai import UsageMetadata, add_usage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableBinding
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import field_validator

from agentgraph.models.answers import FallbackReason, as_chunk, tag_chunk, tag_generation
from agentgraph.models.budget import SpendBudget
from agentgraph.models.pricing import estimate_cost_usd

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

__all__ = ["ResilientChatModel"]

logger = logging.getLogger(__name__)

# Failures that make the wrapper answer with the fallback. openai's client wraps every
# transport problem (connection refused, read timeout) in APIConnectionError or
# APITimeoutError and HTTP errors in APIStatusError, all APIError subclasses;
# TimeoutError covers langchain-openai's stream-stall timeout (StreamChunkTimeoutError).
_LLM_FAILURES: tuple[type[BaseException], ...] = (openai.APIError, TimeoutError)

_SYNC_REFUSED = (
    "ResilientChatModel is async only: call ainvoke/astream/abatch (and run graphs with "
    "ainvoke/astream); a sync invoke/stream/batch would block the event loop for as long "
    "as the LLM takes to answer or time out"
)

# Keys a binding may carry for LangSmith only; they must not reach the provider call.
_TRACING_ONLY_KWARGS = frozenset({"ls_structured_output_format", "structured_output_format"})


def _split(runnable: Runnable[Any, Any]) -> tuple[BaseChatModel, dict[str, Any]]:
    """A chat model and the call kwargs its bindings add (`bind_tools` -> tools, ...)."""
    kwargs: dict[str, Any] = {}
    while isinstance(runnable, RunnableBinding):
        kwargs = {**runnable.kwargs, **kwargs}
        runnable = runnable.bound
    if not isinstance(runnable, BaseChatModel):
        raise TypeError(
            "ResilientChatModel wraps chat models or their bindings (bind_tools/bind), "
            f"not {type(runnable).__name__}"
        )
    return runnable, {k: v for k, v in kwargs.items() if k not in _TRACING_ONLY_KWARGS}


def _accepts_run_manager(method: Callable[..., Any]) -> bool:
    return "run_manager" in inspect.signature(method).parameters


def _streams(model: BaseChatModel) -> bool:
    """Whether the model streams tokens itself (`astream` falls back to a sync `_stream`)."""
    cls = type(model)
    return cls._stream is not BaseChatModel._stream or cls._astream is not BaseChatModel._astream


def _model_name(model: BaseChatModel) -> str | None:
    name = getattr(model, "model_name", None) or getattr(model, "model", None)
    return name if isinstance(name, str) else None


class _StreamCost:
    """Adds up the usage and model name seen in a primary model's stream."""

    def __init__(self) -> None:
        self.usage: UsageMetadata | None = None
        self.model_name: str | None = None

    def add(self, chunk: ChatGenerationChunk) -> None:
        message = chunk.message
        usage = getattr(message, "usage_metadata", None)
        if usage:
            self.usage = add_usage(self.usage, usage)
        info = chunk.generation_info or {}
        name = message.response_metadata.get("model_name") or info.get("model_name")
        if isinstance(name, str) and name:
            self.model_name = name


class ResilientChatModel(BaseChatModel):
    """`primary` (an LLM, possibly tool-bound) with `fallback` (the offline model).

    Build it with `build_chat_model`; construct it directly to wrap other models (both
    must be chat models or bindings of chat models). `bind_tools` binds both and
    returns a new wrapper sharing the same budget. Call it with `ainvoke`/`astream`
    (or `abatch`); the sync entry points raise `TypeError`.
    """

    primary: Runnable[Any, Any]
    fallback: Runnable[Any, Any]
    budget: SpendBudget | None = None

    @field_validator("primary", "fallback")
    @classmethod
    def _check_wrapped(cls, value: Runnable[Any, Any]) -> Runnable[Any, Any]:
        try:
            _split(value)
        except TypeError as exc:
            raise ValueError(str(exc)) from None
        return value

    # Identity and tracing -------------------------------------------------------

    @property
    def _llm_type(self) -> str:
        return "agentgraph-resilient"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        primary, _ = _split(self.primary)
        fallback, _ = _split(self.fallback)
        return {
            "primary": {"_type": primary._llm_type, **primary._identifying_params},
            "fallback": fallback._llm_type,
        }

    def _get_invocation_params(
        self, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """The primary's parameters (model, bound tools, ...), as a traced run shows them."""
        primary, bound = _split(self.primary)
        params = primary._get_invocation_params(stop=stop, **{**bound, **kwargs})
        fallback, _ = _split(self.fallback)
        return {**params, "_type": self._llm_type, "fallback": fallback._llm_type}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        """Provider and model name of the primary, so LangSmith prices the run."""
        primary, bound = _split(self.primary)
        return primary._get_ls_params(stop=stop, **{**bound, **kwargs})

    def get_num_tokens(self, text: str) -> int:
        """Character-based estimate (about 4 characters a token); never tiktoken."""
        return math.ceil(len(text) / 4)

    def get_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """Character-based estimate of a prompt's size; never tiktoken."""
        tool_schemas: list[BaseTool | dict[str, Any]] | None = (
            [convert_to_openai_tool(t) for t in tools] if tools else None
        )
        return count_tokens_approximately(messages, tools=tool_schemas)

    # Tools -------------------------------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> ResilientChatModel:
        """A wrapper whose primary and fallback both know `tools`; `tool_choice` and
        other options go to the primary (`ChatOpenAI.bind_tools`)."""
        primary, _ = _split(self.primary)
        fallback, _ = _split(self.fallback)
        options = {k: v for k, v in kwargs.items() if k not in _TRACING_ONLY_KWARGS}
        return self.model_copy(
            update={
                "primary": primary.bind_tools(tools, tool_choice=tool_choice, **options),
                "fallback": fallback.bind_tools(tools),
            }
        )

    # Budget and accounting -----------------------------------------------------------

    async def _budget_allows(self) -> bool:
        if self.budget is None or await self.budget.aallows():
            return True
        logger.debug("LLM budget spent; answering with the offline model")
        return False

    async def _record(self, model_name: str | None, usage: Mapping[str, Any] | None) -> None:
        if self.budget is not None:
            await self.budget.arecord(estimate_cost_usd(model_name, usage))

    async def _record_result(self, primary: BaseChatModel, result: ChatResult) -> None:
        for generation in result.generations:
            message = generation.message
            name = message.response_metadata.get("model_name") or _model_name(primary)
            await self._record(name, getattr(message, "usage_metadata", None))

    def _log_failure(self, primary: BaseChatModel, exc: BaseException) -> None:
        # Only the error class, the HTTP status and the model: provider messages can
        # echo parts of the API key, and the conversation must not reach the logs.
        status = getattr(exc, "status_code", None)
        logger.warning(
            "LLM call to %s failed (%s%s) after the client's retries; "
            "answering with the offline model",
            _model_name(primary) or type(primary).__name__,
            type(exc).__name__,
            f", HTTP {status}" if status else "",
            extra={
                "llm_model": _model_name(primary),
                "llm_error": type(exc).__name__,
                "llm_status": status,
            },
        )

    # Sync entry points: refused -------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        # invoke, batch and sync structured output all end here.
        raise TypeError(_SYNC_REFUSED)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        # Defined, not inherited: sync stream() and the sync event-stream bridge call
        # _stream directly, and must get this message, not the base class's bare error.
        raise TypeError(_SYNC_REFUSED)

    # Non-streaming calls -------------------------------------------------------------

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if not await self._budget_allows():
            return await self._fallback_generate(messages, stop, run_manager, kwargs, "budget")
        return await self._primary_generate(messages, stop, run_manager, kwargs)

    async def _primary_generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        run_manager: AsyncCallbackManagerForLLMRun | None,
        kwargs: dict[str, Any],
    ) -> ChatResult:
        """The primary's answer, or the fallback's when the primary fails."""
        primary, bound = _split(self.primary)
        try:
            result = await primary._agenerate(
                messages, stop=stop, run_manager=run_manager, **{**bound, **kwargs}
            )
        except _LLM_FAILURES as exc:
            self._log_failure(primary, exc)
            return await self._fallback_generate(messages, stop, run_manager, kwargs, "error")
        await self._record_result(primary, result)
        return result

    async def _fallback_generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        run_manager: AsyncCallbackManagerForLLMRun | None,
        kwargs: dict[str, Any],
        reason: FallbackReason,
    ) -> ChatResult:
        fallback, bound = _split(self.fallback)
        call_kwargs: dict[str, Any] = {**bound, **kwargs}
        if _accepts_run_manager(fallback._agenerate):
            call_kwargs["run_manager"] = run_manager
        result = await fallback._agenerate(messages, stop=stop, **call_kwargs)
        return ChatResult(
            generations=[tag_generation(g, reason) for g in result.generations],
            llm_output=result.llm_output,
        )

    # Streaming -----------------------------------------------------------------------

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        if not await self._budget_allows():
            async for chunk in self._fallback_stream(messages, stop, run_manager, kwargs, "budget"):
                yield chunk
            return
        primary, bound = _split(self.primary)
        if not _streams(primary):
            result = await self._primary_generate(messages, stop, run_manager, kwargs)
            for generation in result.generations:
                yield as_chunk(generation)
            return
        stream = primary._astream(
            messages, stop=stop, run_manager=run_manager, **{**bound, **kwargs}
        )
        cost = _StreamCost()
        started = False
        failure: BaseException | None = None
        try:
            while True:
                try:
                    chunk = await anext(stream)
                except StopAsyncIteration:
                    break
                except _LLM_FAILURES as exc:
                    if started:
                        raise
                    failure = exc
                    break
                started = True
                cost.add(chunk)
                yield chunk
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        if failure is not None:
            self._log_failure(primary, failure)
            async for chunk in self._fallback_stream(messages, stop, run_manager, kwargs, "error"):
                yield chunk
            return
        await self._record(cost.model_name or _model_name(primary), cost.usage)

    async def _fallback_stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        run_manager: AsyncCallbackManagerForLLMRun | None,
        kwargs: dict[str, Any],
        reason: FallbackReason,
    ) -> AsyncIterator[ChatGenerationChunk]:
        fallback, bound = _split(self.fallback)
        if _streams(fallback):
            n = 0
            async for chunk in fallback._astream(
                messages, stop=stop, run_manager=run_manager, **{**bound, **kwargs}
            ):
                yield tag_chunk(chunk, reason, first=n == 0)
                n += 1
            return
        result = await self._fallback_generate(messages, stop, run_manager, kwargs, reason)
        for n, generation in enumerate(result.generations):
            yield tag_chunk(as_chunk(generation), reason, first=n == 0)
