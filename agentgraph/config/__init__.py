"""Every environment variable agentgraph reads, in one pydantic-settings object.

`get_settings()` builds the object once per process from the environment (and an
optional `.env` file); a malformed value raises `ConfigError` with a message that
names the variable, so the server and the CLI fail at start-up rather than on the
first request. Tests build their own `Settings(...)` and pass it explicitly.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import SettingsConfigDict

from agentgraph.config.engagement import EngagementSettings
from agentgraph.prompts import DEFAULT_PROMPTS_DIR

CrashPoint = Literal["after_effect", "after_checkpoint", "after_commit", "after_send"]


class ConfigError(RuntimeError):
    """The environment holds a value agentgraph cannot use."""


class Settings(EngagementSettings):
    """Process configuration. Field docs are the README's variable table; the
    conductor's `ENGAGEMENT_*` fields are declared in `agentgraph.config.engagement`."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    # Storage and queues
    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="postgresql://... for Postgres; unset for SQLite under AGENTGRAPH_DATA_DIR.",
    )
    redis_url: str | None = Field(
        default=None,
        validation_alias="REDIS_URL",
        description="redis://... to share queues, locks and limits between processes.",
    )
    data_dir: Path = Field(
        default=Path(".agentgraph"),
        validation_alias="AGENTGRAPH_DATA_DIR",
        description="Directory for the embedded SQLite databases.",
    )

    prompts_dir: Path = Field(
        default=DEFAULT_PROMPTS_DIR,
        validation_alias="AGENTGRAPH_PROMPTS_DIR",
        description="Where agent prompts and intent tables are read from.",
    )

    # Models
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(
        default=None,
        validation_alias="OPENAI_BASE_URL",
        description="Any OpenAI-compatible server (vLLM, Ollama, a proxy).",
    )
    model: str = Field(default="gpt-4o-mini", validation_alias="AGENTGRAPH_MODEL")
    offline: bool = Field(
        default=False,
        validation_alias="AGENTGRAPH_OFFLINE",
        description="Force the offline rule-based model even when a key is set.",
    )
    llm_timeout_seconds: float = Field(
        default=30.0, gt=0, validation_alias="AGENTGRAPH_LLM_TIMEOUT_SECONDS"
    )
    llm_max_retries: int = Field(
        default=2, ge=0, le=10, validation_alias="AGENTGRAPH_LLM_MAX_RETRIES"
    )
    daily_cost_budget_usd: float = Field(
        default=100.0,
        ge=0,
        validation_alias="AGENTGRAPH_DAILY_COST_BUDGET_USD",
        description="LLM spend per process per UTC day; past it agents use the offline model.",
    )
    model_allowlist: str = Field(
        default="gpt-4o-mini,gpt-4o,gpt-4.1-mini,gpt-4.1,gpt-4.1-nano",
        validation_alias="AGENTGRAPH_MODEL_ALLOWLIST",
        description="Comma-separated models an agent's model config may name "
        "(AGENTGRAPH_MODEL is always allowed).",
    )
    registry_refresh_seconds: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        validation_alias="AGENTGRAPH_REGISTRY_REFRESH_SECONDS",
        description="How often the assistant re-reads the agent registry's change counter "
        "from the database (with REDIS_URL, changes also show on the next turn).",
    )

    # Conversation behaviour
    default_tenant: str = Field(default="easymo", validation_alias="AGENTGRAPH_DEFAULT_TENANT")
    history_window: int = Field(
        default=20,
        ge=4,
        le=500,
        validation_alias="AGENTGRAPH_HISTORY_WINDOW",
        description="Messages kept verbatim; older ones are folded into a running summary.",
    )
    checkpoint_retention: int = Field(
        default=10,
        ge=1,
        validation_alias="AGENTGRAPH_CHECKPOINT_RETENTION",
        description="Checkpoints kept per thread; older ones are pruned.",
    )
    prune_every_turns: int = Field(
        default=5,
        ge=1,
        validation_alias="AGENTGRAPH_PRUNE_EVERY_TURNS",
        description="Prune a thread's old checkpoints every this many turns.",
    )
    confirmation_ttl_seconds: int = Field(
        default=600,
        ge=10,
        validation_alias="AGENTGRAPH_CONFIRMATION_TTL_SECONDS",
        description="A money/cancellation confirmation older than this is void.",
    )
    durability: Literal["sync", "async", "exit"] = Field(
        default="exit",
        validation_alias="AGENTGRAPH_DURABILITY",
        description=(
            "LangGraph checkpoint durability. 'exit' saves once per turn (and at every "
            "confirmation pause): a process that dies mid-turn leaves no half-done "
            "state and the turn re-runs whole, which idempotency keys make safe."
        ),
    )

    # Money limits (integer RWF)
    transfer_limit: int = Field(default=500_000, gt=0, validation_alias="AGENTGRAPH_TRANSFER_LIMIT")
    daily_transfer_limit: int = Field(
        default=500_000, gt=0, validation_alias="AGENTGRAPH_DAILY_TRANSFER_LIMIT"
    )

    # Fault injection, for crash tests only
    crash_at: CrashPoint | None = Field(
        default=None,
        validation_alias="AGENTGRAPH_CRASH_AT",
        description=(
            "Tests only: the process SIGKILLs itself at this point of a turn "
            "(after_effect, after_checkpoint, after_commit, after_send; see "
            "agentgraph.faults). Unset in normal operation."
        ),
    )
    crash_mode: Literal["kill", "raise"] = Field(
        default="kill",
        validation_alias="AGENTGRAPH_CRASH_MODE",
        description="Tests only: 'raise' raises SimulatedCrash at the crash point instead.",
    )

    # WhatsApp Cloud API
    whatsapp_access_token: SecretStr | None = Field(
        default=None, validation_alias="WHATSAPP_ACCESS_TOKEN"
    )
    whatsapp_phone_number_id: str | None = Field(
        default=None, validation_alias="WHATSAPP_PHONE_NUMBER_ID"
    )
    whatsapp_app_secret: SecretStr | None = Field(
        default=None, validation_alias="WHATSAPP_APP_SECRET"
    )
    whatsapp_verify_token: SecretStr | None = Field(
        default=None, validation_alias="WHATSAPP_VERIFY_TOKEN"
    )
    whatsapp_api_base_url: str = Field(
        default="https://graph.facebook.com/v21.0", validation_alias="WHATSAPP_API_BASE_URL"
    )

    # WhatsApp channel runtime (server and workers)
    production: bool = Field(
        default=False,
        validation_alias="AGENTGRAPH_PRODUCTION",
        description="Production mode: the server refuses to start without WHATSAPP_APP_SECRET "
        "and AGENTGRAPH_JWT_SECRET.",
    )
    redis_prefix: str = Field(
        default="agentgraph", validation_alias="AGENTGRAPH_REDIS_PREFIX", min_length=1
    )
    debounce_seconds: float = Field(
        default=1.5,
        ge=0,
        validation_alias="AGENTGRAPH_DEBOUNCE_SECONDS",
        description="Messages arriving this close together during a turn join the next turn.",
    )
    rate_limit_per_minute: int = Field(
        default=20, ge=1, validation_alias="AGENTGRAPH_RATE_LIMIT_PER_MINUTE"
    )
    rate_limit_per_day: int = Field(
        default=100, ge=1, validation_alias="AGENTGRAPH_RATE_LIMIT_PER_DAY"
    )
    max_inbound_chars: int = Field(
        default=2000, ge=1, validation_alias="AGENTGRAPH_MAX_INBOUND_CHARS"
    )
    worker_concurrency: int = Field(
        default=16, ge=1, validation_alias="AGENTGRAPH_WORKER_CONCURRENCY"
    )
    server_consumes_queue: bool = Field(
        default=True,
        validation_alias="AGENTGRAPH_SERVER_CONSUMES_QUEUE",
        description="The server process also runs turns; false leaves them to separate workers.",
    )
    queue_claim_idle_seconds: float = Field(
        default=30.0,
        gt=0,
        validation_alias="AGENTGRAPH_QUEUE_CLAIM_IDLE_SECONDS",
        description="A queued message unacknowledged this long is reclaimed by another worker.",
    )
    lock_ttl_seconds: float = Field(
        default=30.0, gt=0, validation_alias="AGENTGRAPH_LOCK_TTL_SECONDS"
    )
    escalate_after_failures: int = Field(
        default=3,
        ge=0,
        validation_alias="AGENTGRAPH_ESCALATE_AFTER_FAILURES",
        description="Hand a WhatsApp conversation to a person after this many failed turns "
        "in a row (0: never).",
    )
    outbox_max_attempts: int = Field(
        default=6, ge=1, validation_alias="AGENTGRAPH_OUTBOX_MAX_ATTEMPTS"
    )
    outbox_backoff_seconds: float = Field(
        default=0.5,
        ge=0,
        validation_alias="AGENTGRAPH_OUTBOX_BACKOFF_SECONDS",
        description="First retry delay after a 429/5xx; doubles per attempt, capped at 60 s.",
    )

    # LangSmith (read by the langsmith client itself; mirrored here for /health/detailed)
    langsmith_tracing: bool = Field(
        default=False, validation_alias=AliasChoices("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2")
    )
    langsmith_endpoint: str | None = Field(default=None, validation_alias="LANGSMITH_ENDPOINT")
    langsmith_project: str | None = Field(default=None, validation_alias="LANGSMITH_PROJECT")
    langsmith_api_key: SecretStr | None = Field(default=None, validation_alias="LANGSMITH_API_KEY")
    trace_masking: bool = Field(
        default=True,
        validation_alias="AGENTGRAPH_TRACE_MASKING",
        description="Mask phone numbers, emails and tokens in LangSmith traces (as in logs).",
    )
    # OpenTelemetry (agentgraph.observability.otel); export is off while both are unset
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT",
        description="OTLP/HTTP base URL (http://collector:4318): spans go to {url}/v1/traces.",
    )
    otel_exporter_otlp_traces_endpoint: str | None = Field(
        default=None,
        validation_alias="OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        description="Full OTLP/HTTP traces URL; wins over OTEL_EXPORTER_OTLP_ENDPOINT.",
    )
    otel_service_name: str = Field(
        default="agentgraph", min_length=1, validation_alias="OTEL_SERVICE_NAME"
    )
    pseudonym_key: SecretStr | None = Field(
        default=None,
        validation_alias="AGENTGRAPH_PSEUDONYM_KEY",
        description="Key of the hash that turns a user's phone into the pseudonym in thread "
        "ids; unset, a random key is made once and kept in the database.",
    )

    # Operator API (accounts, roles, API keys): docs/api.md
    jwt_secret: SecretStr | None = Field(
        default=None,
        min_length=32,
        validation_alias="AGENTGRAPH_JWT_SECRET",
        description="HMAC key of operator JWTs (32+ characters); required in production. "
        "Unset: a random key made once and kept in the database (a warning is logged).",
    )
    login_max_failures: int = Field(
        default=5, ge=1, validation_alias="AGENTGRAPH_LOGIN_MAX_FAILURES"
    )
    login_max_failures_per_ip: int = Field(
        default=20, ge=1, validation_alias="AGENTGRAPH_LOGIN_MAX_FAILURES_PER_IP"
    )
    login_window_seconds: int = Field(
        default=900, ge=1, validation_alias="AGENTGRAPH_LOGIN_WINDOW_SECONDS"
    )

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        value = value.strip()
        if value.startswith("postgres://"):
            value = "postgresql://" + value[len("postgres://") :]
        if not value.startswith(("postgresql://", "postgresql+psycopg://")):
            raise ValueError(
                "must start with postgresql:// (leave it unset to use the embedded SQLite)"
            )
        return value.replace("postgresql+psycopg://", "postgresql://", 1)

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value.strip()

    @field_validator("model_allowlist")
    @classmethod
    def _check_model_allowlist(cls, value: str) -> str:
        names = [n.strip() for n in value.split(",") if n.strip()]
        if not names:
            raise ValueError("must name at least one model, e.g. gpt-4o-mini,gpt-4o")
        return ",".join(names)

    @field_validator("openai_base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as http://localhost:8000/v1")
        return value.strip().rstrip("/")

    @field_validator("otel_exporter_otlp_endpoint", "otel_exporter_otlp_traces_endpoint")
    @classmethod
    def _check_otlp_endpoint(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if not value.strip().startswith(("http://", "https://")):
            raise ValueError("must be an OTLP/HTTP URL such as http://localhost:4318")
        return value.strip()

    @property
    def uses_postgres(self) -> bool:
        """True when `DATABASE_URL` names a Postgres database."""
        return self.database_url is not None

    @property
    def allowed_models(self) -> frozenset[str]:
        """Models an agent may be configured with: the allow-list plus AGENTGRAPH_MODEL."""
        return frozenset(self.model_allowlist.split(",")) | {self.model}

    @property
    def llm_configured(self) -> bool:
        """True when a real LLM should be tried before the offline model."""
        if self.offline:
            return False
        return self.openai_api_key is not None or self.openai_base_url is not None


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment, turning validation errors into ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ())) or "settings"
            problems.append(f"{loc.upper()}: {err.get('msg')}")
        raise ConfigError("Invalid configuration: " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
