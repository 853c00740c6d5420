"""The HTTP API of an exported model (FastAPI; ``python -m mfnas.serve`` runs it on uvicorn).

Endpoints, whatever the task: ``GET /healthz`` (the process answers), ``GET /readyz`` (the
model is loaded and has answered a first request), ``GET /version`` (what is served: the
task, the model, where it came from, its test metrics), ``GET /metrics`` (Prometheus' text
format), ``/docs`` and ``/openapi.json``. The task's own endpoint:

- recsys: ``POST /recommend`` ``{"user": 196, "k": 10, "exclude_seen": true}`` -> the items
  (raw MovieLens ids) with their scores; a user the model does not know gets the most
  popular items, ``"fallback": true``. ``POST /feedback`` ``{"user": 196, "items": [242]}``
  records what the user then interacted with: a hit when one of them was among the last
  items recommended to that user (``mfnas_online_hit_rate`` in ``/metrics``).
- recsys-rating: ``POST /predict`` ``{"user": 196, "item": 242}`` -> the predicted rating
  (1-5); an unknown user is predicted from the global mean and the item's bias, flagged.
- image, fashion: ``POST /classify`` ``{"pixels": [[...], ...]}`` (one image of raw pixels)
  -> the label, its index and every class's probability; text: ``POST /classify``
  ``{"text": "..."}`` (one document) -> the same for its topic.

Bad input gets a 4xx JSON ``{"error": "..."}`` naming the problem: 422 for a malformed body,
a wrong type, a missing or unexpected field, a ``k`` outside 1..items, an image of the wrong
shape or range; 400 for a body that is not even text; 404 for an unknown item (or path); 413
for a body over ``MAX_BODY_BYTES``.
The server goes on serving.

Metrics: ``mfnas_requests_total{endpoint, status}``, ``mfnas_request_seconds{endpoint}`` (a
latency histogram), ``mfnas_model_info``, ``mfnas_fallbacks_total{endpoint}``,
``mfnas_feedback_total{outcome}`` (hit, miss, or no recommendation to compare with) and
``mfnas_online_hit_rate`` (hits over feedback compared). Each app has its own registry.
"""

import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    generate_latest,
)
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    create_model,
)
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mfnas.deploy.bundle import family, read_bundle
from mfnas.deploy.served import SERVED, Classes, Ratings, Recommendations, RequestError, Topics
from mfnas.tasks.device import resolve_device

MAX_BODY_BYTES = 64 * 1024  # a 28x28 image of raw pixels as JSON is about 4 KB
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
ERRORS = {
    400: {"description": "a body that cannot be parsed at all (not UTF-8 text)"},
    404: {"description": "an unknown item, or no such path"},
    413: {"description": f"a body over {MAX_BODY_BYTES} bytes"},
    422: {"description": "a malformed body, a wrong type or a value out of range"},
}


RECOMMEND_K = "how many items (at most the item count)"


def _integral(value: Any) -> Any:
    """A JSON number with no fraction (``3.0``) as the integer JSON Schema says it is."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


#: A JSON integer: ``3`` or ``3.0``, never ``"3"``, ``3.5`` or ``true``.
JsonInt = Annotated[StrictInt, BeforeValidator(_integral)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class RecommendRequest(_Strict):
    user: JsonInt = Field(description="a raw MovieLens user id")
    k: JsonInt = Field(10, ge=1, description=RECOMMEND_K)
    exclude_seen: StrictBool = Field(True, description="leave out the items the user has seen")


class Recommended(BaseModel):
    user: int
    items: list[int] = Field(description="raw MovieLens item ids, best first")
    scores: list[float] = Field(description="the model's scores (popularity counts on fallback)")
    fallback: bool = Field(description="the user is unknown: the most popular items")


class FeedbackRequest(_Strict):
    user: JsonInt
    items: list[JsonInt] = Field(min_length=1, max_length=1000)


class FeedbackAnswer(BaseModel):
    user: int
    recommended: bool = Field(description="the user had been recommended items to compare with")
    hit: bool | None = Field(description="one of the items was among the last recommended")
    hit_rate: float | None = Field(description="the online hit rate so far")


class PredictRequest(_Strict):
    user: JsonInt
    item: JsonInt


class Predicted(BaseModel):
    user: int
    item: int
    rating: float
    fallback: bool = Field(description="the user is unknown: mean rating plus item bias")


class ClassifyRequest(_Strict):
    pixels: list[list[float]] = Field(description="one image, rows of raw pixel values")


class ClassifyTextRequest(_Strict):
    text: str = Field(max_length=MAX_BODY_BYTES, description="one document, any text")


class Classified(BaseModel):
    label: str
    class_: int = Field(alias="class")
    probabilities: dict[str, float]


class _BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes gets 413 before the app sees it
    (the body is read whole, up to the limit, then handed on)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        messages: list[Message] = []
        size, more = 0, True
        while more:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            more = message.get("more_body", False) and message["type"] == "http.request"
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = f"request body over {self.limit} bytes"
        await JSONResponse({"error": error}, status_code=413)(scope, receive, send)


class Monitor:
    """The app's Prometheus metrics and the last recommendation of each user (for feedback)."""

    def __init__(self, manifest: dict[str, Any]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "mfnas_requests", "requests answered", ["endpoint", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "mfnas_request_seconds",
            "time to answer a request",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.fallbacks = Counter(
            "mfnas_fallbacks", "answers from the fallback", ["endpoint"], registry=self.registry
        )
        self.feedback = Counter(
            "mfnas_feedback", "feedback received", ["outcome"], registry=self.registry
        )
        self.hit_rate = Gauge(
            "mfnas_online_hit_rate",
            "share of feedback with an item among the last recommended (hit rate@k)",
            registry=self.registry,
        )
        source = manifest["source"]
        Info("mfnas_model", "the model served", registry=self.registry).info(
            {
                "task": manifest["task"],
                "model": family(manifest["config"]),
                "strategy": source["strategy"],
                "trial": str(source["trial"]),
                "created": manifest["created"],
            }
        )
        self.recommended: dict[int, frozenset[int]] = {}  # a known user's last items
        self.hits = self.compared = 0
        self._lock = threading.Lock()  # FastAPI runs the endpoints in a thread pool

    def remember(self, user: int, items: list[int]) -> None:
        """Keep ``items`` as known user ``user``'s last recommendation (only users the model
        knows are remembered, so what is kept is bounded by them)."""
        with self._lock:
            self.recommended[user] = frozenset(items)

    def observe(self, user: int, items: list[int]) -> dict[str, Any]:
        """Record the feedback that ``user`` interacted with ``items``."""
        with self._lock:
            last = self.recommended.get(user)
            hit = None if last is None else bool(last.intersection(items))
            if hit is not None:
                self.compared += 1
                self.hits += hit
                self.hit_rate.set(self.hits / self.compared)
            rate = self.hits / self.compared if self.compared else None
        outcome = "no_recommendation" if hit is None else "hit" if hit else "miss"
        self.feedback.labels(outcome).inc()
        return {"user": user, "recommended": last is not None, "hit": hit, "hit_rate": rate}


def _message(exc: RequestValidationError) -> str:
    """One line naming each problem of a request that does not validate."""
    parts = []
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            return f"the body is not valid JSON ({error.get('ctx', {}).get('error', 'malformed')})"
        where = ".".join(str(p) for p in error.get("loc", ())[1:])
        if not where and error.get("type") == "model_attributes_type":
            return "the body must be a JSON object (sent as Content-Type: application/json)"
        parts.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
    return "; ".join(parts) or "invalid request"


def create_app(folder: Path | str, device: str = "auto") -> FastAPI:
    """The API of the model folder ``folder`` (read and loaded now, on ``device``). Raises
    BundleError for a folder that is not a model, ValueError for a task nothing serves."""
    bundle = read_bundle(Path(folder))
    manifest = bundle.manifest
    kind = SERVED.get(manifest.get("task"))
    if kind is None:
        raise ValueError(f"{folder}: task {manifest.get('task')!r} is not servable")
    model = kind(bundle, resolve_device(device))
    monitor = Monitor(manifest)
    app = FastAPI(
        title=f"mfnas {manifest['task']} model",
        version=str(manifest.get("versions", {}).get("mfnas") or "unknown"),
        description=f"Serves the model exported from `{manifest['source']['run_dir']}` "
        f'(`python -m mfnas.serve`). Errors are JSON `{{"error": ...}}`.',
    )
    app.state.ready = False
    app.state.monitor = monitor
    paths = {"/healthz", "/readyz", "/version", "/metrics", f"/{kind.endpoint}", "/feedback"}

    app.add_middleware(_BodyLimit, limit=MAX_BODY_BYTES)  # inside ``measure``: 413s count

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]):
        path = request.url.path
        endpoint = path if path in paths else "other"
        started, status = time.perf_counter(), 500  # an exception is a server error
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            monitor.latency.labels(endpoint).observe(time.perf_counter() - started)
            monitor.requests.labels(endpoint, str(status)).inc()

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": _message(exc)}, status_code=422)

    @app.exception_handler(RequestError)
    async def refused(request: Request, exc: RequestError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", responses={503: {"description": "the model is not ready"}})
    def readyz() -> JSONResponse:
        """The model is loaded and has answered a first request."""
        ready = app.state.ready
        return JSONResponse({"ready": ready}, status_code=200 if ready else 503)

    @app.get("/version")
    def version() -> dict[str, Any]:
        """What is served: the task, the configuration, where it came from, its metrics."""
        keys = ("task", "metric", "config", "seed", "epochs", "source", "metrics", "created")
        return {**{key: manifest[key] for key in keys}, "versions": manifest["versions"]}

    @app.get("/metrics", response_class=Response)
    def metrics() -> Response:
        """Prometheus' text exposition format."""
        return Response(generate_latest(monitor.registry), media_type=CONTENT_TYPE_LATEST)

    if isinstance(model, Recommendations):
        bounded = create_model(  # the schema documents the item count as k's bound
            "RecommendRequest",
            __base__=RecommendRequest,
            k=(JsonInt, Field(10, ge=1, le=model.n_items, description=RECOMMEND_K)),
        )

        @app.post("/recommend", response_model=Recommended, responses=ERRORS)
        def recommend(request: bounded) -> dict[str, Any]:  # type: ignore[valid-type]
            """The top ``k`` items for ``user``; an unknown user gets the most popular ones."""
            answer = model.recommend(request.user, request.k, request.exclude_seen)
            if answer["fallback"]:
                monitor.fallbacks.labels("/recommend").inc()
            else:  # unknown users are not remembered: what is kept stays bounded
                monitor.remember(request.user, answer["items"])
            return answer

        @app.post("/feedback", response_model=FeedbackAnswer, responses=ERRORS)
        def feedback(request: FeedbackRequest) -> dict[str, Any]:
            """Record the items ``user`` then interacted with (feeds the online hit rate)."""
            model.item_indices(request.items)  # 404 for an unknown item
            return monitor.observe(request.user, request.items)

        model.recommend(int(model.users.ids[0]), 1, True)
    elif isinstance(model, Ratings):

        @app.post("/predict", response_model=Predicted, responses=ERRORS)
        def predict(request: PredictRequest) -> dict[str, Any]:
            """``user``'s predicted rating of ``item`` (1-5 stars)."""
            answer = model.predict(request.user, request.item)
            if answer["fallback"]:
                monitor.fallbacks.labels("/predict").inc()
            return answer

        model.predict(int(model.users.ids[0]), int(model.items.ids[0]))
    elif isinstance(model, Classes):

        @app.post("/classify", response_model=Classified, responses=ERRORS)
        def classify(request: ClassifyRequest) -> dict[str, Any]:
            """The class of one image of raw pixels."""
            return model.classify(request.pixels)

        model.classify([[model.range[0]] * model.shape[1]] * model.shape[0])
    elif isinstance(model, Topics):

        @app.post("/classify", response_model=Classified, responses=ERRORS)
        def classify_text(request: ClassifyTextRequest) -> dict[str, Any]:
            """The topic of one document."""
            return model.classify(request.text)

        model.classify(model.names[0])
    app.state.ready = True
    return app
