"""The OpenAI wire responses a `FakeOpenAIServer` can be scripted with.

`Reply` (text), `ToolCalls`, `HttpError` (OpenAI's error body and retry headers) and
`Delay` (hold the request, then answer) each describe one response; `Usage` is the
token count a response reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Usage:
    """Token counts reported for one response (`prompt_tokens` includes cached ones)."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0

    def to_wire(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }


@dataclass(frozen=True)
class Reply:
    """An assistant text answer. `model` overrides the echoed request model."""

    text: str
    usage: Usage | None = None
    model: str | None = None


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class ToolCalls:
    """An assistant turn calling tools (optionally with some text before the calls)."""

    calls: list[ToolCall]
    text: str | None = None
    usage: Usage | None = None
    model: str | None = None


@dataclass(frozen=True)
class HttpError:
    """An error response with OpenAI's error body.

    The openai client retries 408/409/429/5xx, waiting `retry-after-ms` or `Retry-After`
    when it is above 0; `Retry-After: 0` does not count and leaves its own 0.4-0.5 s
    backoff, so fast tests set `retry_after_ms`.
    """

    status: int = 500
    message: str = "The server had an error while processing your request."
    type: str | None = None
    code: str | None = None
    retry_after: str | None = None
    retry_after_ms: int | None = None

    def body(self) -> dict[str, Any]:
        if self.status == 429:
            default_type = "requests"
        elif self.status < 500:
            default_type = "invalid_request_error"
        else:
            default_type = "server_error"
        return {
            "error": {
                "message": self.message,
                "type": self.type or default_type,
                "param": None,
                "code": self.code,
            }
        }

    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.retry_after is not None:
            headers["retry-after"] = self.retry_after
        if self.retry_after_ms is not None:
            headers["retry-after-ms"] = str(self.retry_after_ms)
        return headers


Scripted = Reply | ToolCalls | HttpError


@dataclass(frozen=True)
class Delay:
    """Wait `seconds` before sending `then` (before any byte of the response)."""

    seconds: float
    then: Scripted | str = "late reply"


def rate_limited(retry_after_ms: int = 10) -> HttpError:
    """A 429 that the openai client retries after `retry_after_ms` milliseconds."""
    return HttpError(
        status=429,
        message="Rate limit reached for requests",
        type="requests",
        code="rate_limit_exceeded",
        retry_after_ms=retry_after_ms,
    )
