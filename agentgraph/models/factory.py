"""The chat model every agent uses: an OpenAI-compatible LLM with an offline fallback.

`build_chat_model(settings)` returns the offline rule-based `OfflineChatModel` when no
LLM is configured (no `OPENAI_API_KEY` and no `OPENAI_BASE_URL`, or
`AGENTGRAPH_OFFLINE=1`). Otherwise it returns a `ResilientChatModel`: a real
`BaseChatModel` (so `bind_tools`, `with_structured_output`, `ainvoke`, `astream`,
LangSmith tracing and LangGraph's `messages` stream mode work as with any chat model)
that calls `ChatOpenAI` and answers with the offline model instead when the daily cost
budget is spent or when the call still fails after the openai client's own retries
(`AGENTGRAPH_LLM_MAX_RETRIES`, each attempt bounded by
`AGENTGRAPH_LLM_TIMEOUT_SECONDS`): any `openai.APIError` (HTTP errors, connection
errors, timeouts) or a stream stall. A fallback answer carries
`response_metadata["fallback"] is True`, `["fallback_reason"]` ("error" or "budget")
and `["model_name"] == "offline"`; an LLM answer keeps the provider's `model_name` and
`usage_metadata`, and its cost is recorded in the budget. A stream that fails after
its first chunk was yielded raises rather than splicing two answers together.
Building a model makes no network call, and no code path here counts tokens with
tiktoken (`get_num_tokens*` use a character-based estimate).
"""

from __future__ import annotations

import inspect
import json
import logging
import math
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import openai
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, BaseMessageChunk
from langchain_core.messages.ai import UsageMetadata, add_usage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableBinding
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_openai import ChatOpenAI
from pydantic import SecretStr, field_validator

from agentgraph.config import Settings
from agentgraph.models.budget import SpendBudget, shared_budget
from agentgraph.models.pricing import estimate_cost_usd

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

__all__ = [
    "KEYLESS_API_KEY",
    "OFFLINE_MODEL_NAME",
    "ResilientChatModel",
    "build_chat_model",
    "build_openai_model",
]

logger = logging.getLogger(__name__)

OFFLINE_MODEL_NAME = "offline"
"""`response_metadata["model_name"]` of an answer given by the fallback model."""

KEYLESS_API_KEY = "not-needed"
"""Sent when only `OPENAI_BASE_URL` is set (local vLLM/Ollama servers ignore it)."""

FallbackReason = Literal["error", "budget"]

# Failures that make the wrapper answer with the fallback. openai's client wraps every
# transport problem (connection refused, read timeout) in APIConnectionError or
# APITimeoutError and HTTP errors in APIStatusError, all APIError subclasses;
# TimeoutError covers langchain-openai's stream-stall timeout (StreamChunkTimeoutError).
_LLM_FAILURES: tuple[type[BaseException], ...] = (openai.APIError, TimeoutError)

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


def _streams(model: BaseChatModel, *, async_api: bool) -> bool:
    """Whether the model implements token streaming itself."""
    cls = type(model)
    if cls._stream is not BaseChatModel._stream:
        return True
    return async_api and cls._astream is not BaseChatModel._astream


def _model_name(model: BaseChatModel) -> str | None:
    name = getattr(model, "model_name", None) or getattr(model, "model", None)
    return name if isinstance(name, str) else None


def _as_chunk(generation: ChatGeneration) -> ChatGenerationChunk:
    """One streaming chunk equal to a finished generation (tool calls included)."""
    message = generation.message
    if isinstance(message, BaseMessageChunk):
        chunk_message: BaseMessageChunk = message
    elif isinstance(message, AIMessage):
        chunks = [
            tool_call_chunk(
                name=call["name"], args=json.dumps(call["args"]), id=call["id"], index=i
            )
            for i, call in enumerate(message.tool_calls)
        ]
        chunks += [
            tool_call_chunk(
                name=bad.get("name"),
                args=bad.get("args"),
                id=bad.get("id"),
                index=len(chunks) + i,
            )
            for i, bad in enumerate(message.invalid_tool_calls)
        ]
        chunk_message = AIMessageChunk(
            content=message.content,
            additional_kwargs=dict(message.additional_kwargs),
            response_metadata=dict(message.response_metadata),
            usage_metadata=message.usage_metadata,
            id=message.id,
            name=message.name,
            tool_call_chunks=chunks,
        )
    else:
        chunk_message = AIMessageChunk(content=message.content, id=message.id)
    return ChatGenerationChunk(message=chunk_message, generation_info=generation.generation_info)


def _fallback_metadata(metadata: Mapping[str, Any], reason: FallbackReason) -> dict[str, Any]:
    return {
        **metadata,
        "fallback": True,
        "fallback_reason": reason,
        "model_name": OFFLINE_MODEL_NAME,
    }


def _tag_generation(generation: ChatGeneration, reason: FallbackReason) -> ChatGeneration:
    message = generation.message.model_copy(
        update={
            "response_metadata": _fallback_metadata(generation.message.response_metadata, reason)
        }
    )
    info = {k: v for k, v in (generation.generation_info or {}).items() if k != "model_name"}
    return ChatGeneration(message=message, generation_info=info or None)


def _tag_chunk(
    chunk: ChatGenerationChunk, reason: FallbackReason, first: bool
) -> ChatGenerationChunk:
    """Tag the first chunk of a fallback stream; drop `model_name` from the others so the
    merged message reads exactly "offline" (string metadata concatenates on merge)."""
    metadata = {k: v for k, v in chunk.message.response_metadata.items() if k != "model_name"}
    if first:
        metadata = _fallback_metadata(metadata, reason)
    message = chunk.message.model_copy(update={"response_metadata": metadata})
    info = {k: v for k, v in (chunk.generation_info or {}).items() if k != "model_name"}
    return ChatGenerationChunk(message=message, generation_info=info or None)


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
    returns a new wrapper sharing the same budget.
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

    def _budget_exhausted(self) -> bool:
        if self.budget is not None and self.budget.exhausted:
            logger.debug("Daily LLM budget spent; answering with the offline model")
            return True
        return False

    def _record(self, model_name: str | None, usage: Mapping[str, Any] | None) -> None:
        if self.budget is not None:
            self.budget.record(estimate_cost_usd(model_name, usage))

    def _record_result(self, primary: BaseChatModel, result: ChatResult) -> None:
        for generation in result.generations:
            message = generation.message
            name = message.response_metadata.get("model_name") or _model_name(primary)
            self._record(name, getattr(message, "usage_metadata", None))

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

    # Non-streaming calls -------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self._budget_exhausted():
            return self._fallback_generate(messages, stop, run_manager, kwargs, "budget")
        primary, bound = _split(self.primary)
        try:
            result = primary._generate(
                messages, stop=stop, run_manager=run_manager, **{**bound, **kwargs}
            )
        except _LLM_FAILURES as exc:
            self._log_failure(primary, exc)
            return self._fallback_generate(messages, stop, run_manager, kwargs, "error")
        self._record_result(primary, result)
        return result

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self._budget_exhausted():
            return await self._afallback_generate(messages, stop, run_manager, kwargs, "budget")
        primary, bound = _split(self.primary)
        try:
            result = await primary._agenerate(
                messages, stop=stop, run_manager=run_manager, **{**bound, **kwargs}
            )
        except _LLM_FAILURES as exc:
            self._log_failure(primary, exc)
            return await self._afallback_generate(messages, stop, run_manager, kwargs, "error")
        self._record_result(primary, result)
        return result

    def _fallback_generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        run_manager: CallbackManagerForLLMRun | None,
        kwargs: dict[str, Any],
        reason: FallbackReason,
    ) -> ChatResult:
        fallback, bound = _split(self.fallback)
        call_kwargs: dict[str, Any] = {**bound, **kwargs}
        if _accepts_run_manager(fallback._generate):
            call_kwargs["run_manager"] = run_manager
        result = fallback._generate(messages, stop=stop, **call_kwargs)
        return ChatResult(
            generations=[_tag_generation(g, reason) for g in result.generations],
            llm_output=result.llm_output,
        )

    async def _afallback_generate(
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
            generations=[_tag_generation(g, reason) for g in result.generations],
            llm_output=result.llm_output,
        )

    # Streaming -----------------------------------------------------------------------

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        if self._budget_exhausted():
            yield from self._fallback_stream(messages, stop, run_manager, kwargs, "budget")
            return
        primary, bound = _split(self.primary)
        if not _streams(primary, async_api=False):
            result = self._generate(messages, stop, run_manager, **kwargs)
            yield from (_as_chunk(g) for g in result.generations)
            return
        stream = primary._stream(
            messages, stop=stop, run_manager=run_manager, **{**bound, **kwargs}
        )
        cost = _StreamCost()
        started = False
        failure: BaseException | None = None
        try:
            while True:
                try:
                    chunk = next(stream)
                except StopIteration:
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
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        if failure is not None:
            self._log_failure(primary, failure)
            yield from self._fallback_stream(messages, stop, run_manager, kwargs, "error")
            return
        self._record(cost.model_name or _model_name(primary), cost.usage)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        if self._budget_exhausted():
            async for chunk in self._afallback_stream(
                messages, stop, run_manager, kwargs, "budget"
            ):
                yield chunk
            return
        primary, bound = _split(self.primary)
        if not _streams(primary, async_api=True):
            result = await self._agenerate(messages, stop, run_manager, **kwargs)
            for generation in result.generations:
                yield _as_chunk(generation)
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
            async for chunk in self._afallback_stream(messages, stop, run_manager, kwargs, "error"):
                yield chunk
            return
        self._record(cost.model_name or _model_name(primary), cost.usage)

    def _fallback_stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        run_manager: CallbackManagerForLLMRun | None,
        kwargs: dict[str, Any],
        reason: FallbackReason,
    ) -> Iterator[ChatGenerationChunk]:
        fallback, bound = _split(self.fallback)
        if _streams(fallback, async_api=False):
            chunks = fallback._stream(
                messages, stop=stop, run_manager=run_manager, **{**bound, **kwargs}
            )
        else:
            result = self._fallback_generate(messages, stop, run_manager, kwargs, reason)
            chunks = iter([_as_chunk(g) for g in result.generations])
        for n, chunk in enumerate(chunks):
            yield _tag_chunk(chunk, reason, first=n == 0)

    async def _afallback_stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        run_manager: AsyncCallbackManagerForLLMRun | None,
        kwargs: dict[str, Any],
        reason: FallbackReason,
    ) -> AsyncIterator[ChatGenerationChunk]:
        fallback, bound = _split(self.fallback)
        if _streams(fallback, async_api=True):
            n = 0
            async for chunk in fallback._astream(
                messages, stop=stop, run_manager=run_manager, **{**bound, **kwargs}
            ):
                yield _tag_chunk(chunk, reason, first=n == 0)
                n += 1
            return
        result = await self._afallback_generate(messages, stop, run_manager, kwargs, reason)
        for n, generation in enumerate(result.generations):
            yield _tag_chunk(_as_chunk(generation), reason, first=n == 0)


def build_openai_model(settings: Settings) -> ChatOpenAI:
    """The `ChatOpenAI` client the settings describe (no network call is made here)."""
    api_key = settings.openai_api_key or SecretStr(KEYLESS_API_KEY)
    return ChatOpenAI(
        model=settings.model,
        api_key=api_key,
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries,
        stream_usage=True,
    )


def _offline_model() -> BaseChatModel:
    # Imported here so that importing the factory never depends on the rule tables.
    from agentgraph.models.offline import OfflineChatModel

    return OfflineChatModel()


def build_chat_model(
    settings: Settings,
    *,
    budget: SpendBudget | None = None,
    fallback: BaseChatModel | None = None,
) -> BaseChatModel:
    """The chat model for agents: offline when no LLM is configured, else a
    `ResilientChatModel` over `ChatOpenAI`.

    `budget` defaults to the process-wide budget for `settings.daily_cost_budget_usd`
    (shared by every model built with that limit). `fallback` replaces the offline
    model, both as the unconfigured answer and as the fallback.
    """
    if not settings.llm_configured:
        return fallback if fallback is not None else _offline_model()
    return ResilientChatModel(
        primary=build_openai_model(settings),
        fallback=fallback if fallback is not None else _offline_model(),
        budget=budget if budget is not None else shared_budget(settings.daily_cost_budget_usd),
    )
