"""Every function of the template, loaded into this one process and invoked one at a time.

Handlers are imported from ``CodeUri`` + ``Handler`` under a unique module name (registered
in ``sys.modules`` before it runs: pydantic generics look their module up there), with the
template's folder first on ``sys.path`` so the layer's package (``project.LAYER_PACKAGE``)
imports as it does in Lambda. Invocations hold one lock (the embedded store is not
thread-safe, and Lambda runs one request per container anyway). Before each one the watched
sources are checked, and a change purges the layer's package, its submodules and the
function modules so the next import sees it.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from local_api.environment import EnvironmentSwitcher
from local_api.events import LocalLambdaContext
from local_api.outbox import Outbox
from local_api.project import LAYER_PACKAGE
from local_api.store import EmbeddedStore
from local_api.template import Application, Function

logger = logging.getLogger(__name__)

LambdaHandler = Callable[[dict[str, Any], Any], Any]
"""A function's entry point: ``shared.http.handler.LambdaHandler``, typed for any template's functions."""
T = TypeVar("T")
Snapshot = dict[str, tuple[int, int]]
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "site-packages"})  # and hidden ones (.venv, .git)


def module_name(function: Function) -> str:
    """A name no other function's module (or any real package) uses."""
    module = function.handler.rpartition(".")[0].replace(".", "_")
    return f"_local_api_{function.logical_id}_{module}"


def _python_files(folder: Path) -> Iterator[os.DirEntry[str]]:
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if entry.name not in _SKIPPED_DIRS and not entry.name.startswith("."):
                yield from _python_files(Path(entry.path))
        elif entry.name.endswith(".py"):
            yield entry


class SourceWatcher:
    """Notices edits to the ``.py`` files under some folders (mtime and size, per request)."""

    def __init__(self, folders: Iterable[Path]) -> None:
        self.folders = sorted(set(folders))
        self.snapshot = self._take()

    def _take(self) -> Snapshot:
        snapshot: Snapshot = {}
        for folder in self.folders:
            for entry in _python_files(folder):
                stat = entry.stat()
                snapshot[entry.path] = (stat.st_mtime_ns, stat.st_size)
        return snapshot

    def changes(self) -> list[str]:
        """The files added, edited or removed since the last call."""
        current = self._take()
        changed = [p for p in current.keys() | self.snapshot.keys() if current.get(p) != self.snapshot.get(p)]
        self.snapshot = current
        return sorted(changed)


class FunctionRuntime:
    """Loads, reloads and invokes the template's functions under one lock."""

    def __init__(
        self,
        application: Application,
        environment: EnvironmentSwitcher,
        store: EmbeddedStore | None,
        *,
        region: str,
        account_id: str,
        hot_reload: bool = True,
        outbox: Outbox | None = None,
        before_invoke: Callable[[str], None] | None = None,
    ) -> None:
        self.application = application
        self.before_invoke = before_invoke
        self.environment = environment
        self.store = store
        self.outbox = outbox
        self.region = region
        self.account_id = account_id
        self.lock = threading.Lock()
        self._modules: dict[str, ModuleType] = {}
        self._on_reload: list[Callable[[], None]] = []
        folders = [f.code_dir for f in application.functions.values()] + [application.root / LAYER_PACKAGE]
        self.watcher = SourceWatcher(folders) if hot_reload else None
        root = str(application.root)
        if root in sys.path:
            sys.path.remove(root)
        sys.path.insert(0, root)

    def on_reload(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever sources changed and modules were purged."""
        self._on_reload.append(callback)

    def invoke(self, function_id: str, event: dict[str, Any], *, request_id: str, may_write: bool) -> Any:
        """Run one function with ``event``; its exceptions propagate to the caller."""
        function = self.application.functions[function_id]
        with self.lock:
            self._reload_if_changed()
            self.environment.activate(function_id)
            self._install()
            if self.store is not None:
                self.store.expire_due()
            handler = self.handler(function_id)
            if self.before_invoke is not None:
                self.before_invoke(request_id)
            context = LocalLambdaContext(
                function, region=self.region, account_id=self.account_id, request_id=request_id
            )
            try:
                return handler(event, context)
            finally:
                if may_write and self.store is not None:
                    self.store.save()

    def handler(self, function_id: str) -> LambdaHandler:
        """The function's handler, imported on first use (callers hold the lock)."""
        function = self.application.functions[function_id]
        handler = getattr(self.module(function_id), function.attribute, None)
        if not callable(handler):
            raise ImportError(f"{function_id}: {function.module_path} has no function {function.attribute}")
        return handler  # type: ignore[no-any-return]

    def module(self, function_id: str) -> ModuleType:
        """The function's module, imported on first use in its own environment (callers hold the lock)."""
        module = self._modules.get(function_id)
        if module is None:
            self.environment.activate(function_id)
            self._install()
            module = load_module(self.application.functions[function_id])
            self._modules[function_id] = module
        return module

    def _install(self) -> None:
        """Hand the store and the outbox to the layer (once per layer module: reloads make new ones)."""
        if self.store is not None:
            self.store.install()
        if self.outbox is not None:
            self.outbox.install()

    def inspect(self, use: Callable[[FunctionRuntime], T]) -> T:
        """``use(self)`` under the lock, after the same reload check as an invocation: for reading
        the loaded modules (their routes, say) exactly as the next request will run them."""
        with self.lock:
            self._reload_if_changed()
            return use(self)

    def _reload_if_changed(self) -> None:
        if self.watcher is None:
            return
        changed = self.watcher.changes()
        if not changed:
            return
        for path in changed:
            drop_bytecode(path)
        purge_modules(module_name(f) for f in self.application.functions.values())
        importlib.invalidate_caches()
        self._modules.clear()
        self.environment.forget()
        for callback in self._on_reload:
            callback()
        names = ", ".join(os.path.relpath(p, self.application.root) for p in changed[:5])
        logger.info("Reloaded after changes to %s%s", names, " ..." if len(changed) > 5 else "")


def load_module(function: Function) -> ModuleType:
    """Import the function's module under its unique name, registered in ``sys.modules`` first."""
    path = function.module_path
    name = module_name(function)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{function.logical_id}: cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def purge_modules(function_modules: Iterable[str]) -> None:
    """Forget the layer's package, its submodules and the function modules, so they import afresh."""
    names = set(function_modules)
    for name in list(sys.modules):
        if name in names or name == LAYER_PACKAGE or name.startswith(LAYER_PACKAGE + "."):
            del sys.modules[name]


def drop_bytecode(path: str) -> None:
    """Remove a changed file's cached bytecode: an edit in the same second with the same size
    would otherwise look unchanged to the import system."""
    with contextlib.suppress(OSError, ValueError, NotImplementedError):
        Path(importlib.util.cache_from_source(path)).unlink(missing_ok=True)
