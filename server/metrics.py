"""`GET /metrics`: every agentgraph metric in Prometheus text format."""

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from agentgraph.observability.metrics import render

router = APIRouter(tags=["metrics"])


@router.get("/metrics")
async def metrics() -> Response:
    """Every agentgraph metric in Prometheus text format."""
    return Response(render(), media_type=CONTENT_TYPE_LATEST)
