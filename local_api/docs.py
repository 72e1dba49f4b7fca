"""Dev-only routes of the local API: the OpenAPI document and Swagger UI to read and try it.

``GET /api/openapi.json`` is built live from the functions the server runs (``contract.openapi``, as
``make openapi`` builds it), cached until hot reload sees an edit. ``GET /api/docs`` is a Swagger UI
page whose script and stylesheet come from the copy Powertools ships, so it works offline.
These paths are answered only where no route of the template matches: the template always wins.
"""

from __future__ import annotations

import json
import logging
import threading
from importlib.resources import files

from contract.openapi import document
from local_api.events import HttpRequest
from local_api.responses import JSON, HttpResponse
from local_api.runtime import FunctionRuntime

logger = logging.getLogger(__name__)

DOCUMENT_PATH = "/api/openapi.json"
DOCS_PATH = "/api/docs"
_ASSETS_PACKAGE = "aws_lambda_powertools.event_handler.openapi.swagger_ui"
_ASSETS = {
    f"{DOCS_PATH}/swagger-ui-bundle.min.js": "application/javascript; charset=utf-8",
    f"{DOCS_PATH}/swagger-ui.min.css": "text/css; charset=utf-8",
}
_SERVED_METHODS = frozenset({"GET", "HEAD"})

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>API docs (local)</title>
  <link rel="stylesheet" href="/api/docs/swagger-ui.min.css">
  <style>body { margin: 0; } .swagger-ui .topbar { display: none; }</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/docs/swagger-ui-bundle.min.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "/api/openapi.json",
      dom_id: "#swagger-ui",
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      deepLinking: true,
      docExpansion: "list",
      displayRequestDuration: true,
      persistAuthorization: true,
    });
  </script>
</body>
</html>
"""


class ApiDocs:
    """Answers the dev-only paths; everything else is left to the gateway's routes.

    The gateway takes it as one of its extra routes (``local_api.gateway.ExtraRoutes``).
    """

    label = "local API docs"
    paths = (DOCUMENT_PATH, DOCS_PATH, *_ASSETS)

    def __init__(self, runtime: FunctionRuntime) -> None:
        self.runtime = runtime
        self._document: bytes | None = None
        self._assets: dict[str, bytes] = {}
        self._lock = threading.Lock()
        runtime.on_reload(self.forget)

    def forget(self) -> None:
        """Drop the cached document (the sources changed)."""
        self._document = None

    def handle(self, request: HttpRequest) -> HttpResponse | None:
        """The response for a dev path, or None when ``request`` is not for one."""
        if request.path not in self.paths or request.method not in _SERVED_METHODS:
            return None
        if request.path == DOCS_PATH:
            return HttpResponse(200, [("Content-Type", "text/html; charset=utf-8")], PAGE.encode())
        if request.path == DOCUMENT_PATH:
            return self._document_response()
        return HttpResponse(200, [("Content-Type", _ASSETS[request.path])], self._asset(request.path))

    def _document_bytes(self) -> bytes:
        return self.runtime.inspect(self._cached_document)

    def _cached_document(self, runtime: FunctionRuntime) -> bytes:
        # Called under the runtime's lock, after its reload check (which may have forgotten the cache).
        if self._document is None:
            merged = document(runtime.application, lambda function: runtime.module(function.logical_id))
            self._document = json.dumps(merged, ensure_ascii=False).encode()
        return self._document

    def _document_response(self) -> HttpResponse:
        try:
            body = self._document_bytes()
        except Exception as e:
            logger.exception("The OpenAPI document could not be built")
            detail = f"The OpenAPI document could not be built: {type(e).__name__}: {e}"
            return HttpResponse(500, [("Content-Type", JSON)], json.dumps({"detail": detail}).encode())
        return HttpResponse(200, [("Content-Type", JSON), ("Cache-Control", "no-cache")], body)

    def _asset(self, path: str) -> bytes:
        with self._lock:
            if path not in self._assets:
                name = path.rsplit("/", 1)[1]
                self._assets[path] = files(_ASSETS_PACKAGE).joinpath(name).read_bytes()
            return self._assets[path]
