"""FastAPI dependencies, as ``Annotated`` aliases the routers put in their signatures."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Request

from assistant.config import Settings
from assistant.service import Assistant
from storage import Stores

from .cache import AnswerCache
from .metrics import Metrics
from .security import INVALID_KEY, ApiError, key_is_valid, presented_key


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_assistant(request: Request) -> Assistant:
    return request.app.state.assistant


async def get_stores(request: Request) -> Stores:
    return request.app.state.stores


async def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


async def get_answer_cache(request: Request) -> AnswerCache:
    return request.app.state.answer_cache


async def get_audience(request: Request) -> Literal["public", "internal"]:
    """Anonymous requests see public documents only; a valid key also opens internal ones.
    A key that is present but wrong is refused, so a typo never silently narrows answers."""
    key = presented_key({k.lower(): v for k, v in request.headers.items()})
    if key is None:
        return "public"
    if key_is_valid(key, request.app.state.settings.api_keys):
        return "internal"
    raise ApiError(401, "invalid_key", INVALID_KEY, {"WWW-Authenticate": "Bearer"})


SettingsDep = Annotated[Settings, Depends(get_settings)]
AssistantDep = Annotated[Assistant, Depends(get_assistant)]
StoresDep = Annotated[Stores, Depends(get_stores)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
AudienceDep = Annotated[Literal["public", "internal"], Depends(get_audience)]
AnswerCacheDep = Annotated[AnswerCache, Depends(get_answer_cache)]
