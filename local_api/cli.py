"""``python -m local_api``: read the template, set up the store and environment, serve.

This is where the pieces meet: the gateway, and the tool's own routes (the API docs) that
plug into it; the store and the mail outbox; the data directory's lock, held while the server runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from contract.project import TITLE
from local_api.authorizer import TokenAuthorizers
from local_api.docs import DOCS_PATH, DOCUMENT_PATH, ApiDocs
from local_api.environment import (
    ENV_FILE_NAME,
    LOCAL_ACCOUNT_ID,
    EnvironmentPlan,
    EnvironmentSwitcher,
    local_jwt_secret,
    parameter_overrides,
    parse_parameter_overrides,
    provided,
    pseudo_parameters,
    read_env_file,
    read_samconfig,
    region,
)
from local_api.gateway import Gateway
from local_api.intrinsics import Intrinsics
from local_api.outbox import Outbox
from local_api.project import JWT_SECRET, LAYER_PACKAGE, MONGODB_URI, process_wide_variables, set_correlation_id
from local_api.runtime import FunctionRuntime
from local_api.server import LocalApiServer
from local_api.store import DataDirLock, EmbeddedStore, StoreError
from local_api.template import Application, TemplateError, load_application, load_yaml, parameter_defaults

logger = logging.getLogger("local_api")

DATA_DIR_NAME = ".local"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m local_api",
        description="Serve the SAM template's API locally, without Docker.",
    )
    parser.add_argument("--template", type=Path, default=Path("template.yaml"), help="SAM template (template.yaml)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=3000, help="port to listen on (3000; 0 picks a free one)")
    parser.add_argument(
        "--in-memory",
        action="store_true",
        help="throwaway store and JWT secret: nothing is read from or written to disk",
    )
    parser.add_argument(
        "--env-vars",
        type=Path,
        default=None,
        help=f"env file in SAM's --env-vars JSON format (default: {ENV_FILE_NAME} next to the template, if present)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=(
            "where the embedded store and the local JWT secret live, one server at a time "
            f"(default: {DATA_DIR_NAME}/ next to the template)"
        ),
    )
    parser.add_argument(
        "--parameter-overrides",
        nargs="+",
        action="extend",
        default=[],
        metavar="KEY=VALUE",
        help="template parameters, as sam local start-api takes them (they win over samconfig.toml's)",
    )
    parser.add_argument(
        "--no-reload", action="store_true", help=f"do not watch the functions' code and {LAYER_PACKAGE}/ for edits"
    )
    return parser.parse_args(argv)


@dataclass
class LocalApi:
    """Everything ``python -m local_api`` built, ready to serve."""

    application: Application
    server: LocalApiServer
    runtime: FunctionRuntime
    docs: ApiDocs
    store: EmbeddedStore | None
    outbox: Outbox
    lock: DataDirLock | None
    loaded_documents: int
    jwt_secret_source: str
    unresolved: list[str]
    hot_reload: bool

    def close(self) -> None:
        """Stop listening and let the next server have the data directory."""
        self.server.server_close()
        if self.lock is not None:
            self.lock.release()


def assemble(args: argparse.Namespace) -> LocalApi:
    """Read the template and the configuration layers; wire store, runtime, gateway and server.

    The data directory is locked first (DataDirBusy when another server has it) and stays
    locked until ``LocalApi.close()``.
    """
    template_path: Path = args.template.resolve()
    root = template_path.parent
    document = load_yaml(template_path)
    samconfig = read_samconfig(root)
    defaults = parameter_defaults(document)
    overrides = parse_parameter_overrides(args.parameter_overrides)
    unknown = sorted(set(overrides) - set(document.get("Parameters") or {}))
    if unknown:
        raise ValueError(f"--parameter-overrides: {', '.join(unknown)} not a parameter of {template_path.name}")
    parameters = {**defaults, **parameter_overrides(samconfig), **overrides}
    application = load_application(template_path, Intrinsics(parameters, pseudo_parameters(samconfig)), document)

    data_dir = None if args.in_memory else (args.data_dir or root / DATA_DIR_NAME).resolve()
    lock = DataDirLock(data_dir) if data_dir is not None else None
    if lock is not None:
        lock.acquire()
    try:
        return _wire(args, application, samconfig, data_dir, lock)
    except BaseException:
        if lock is not None:
            lock.release()
        raise


def _wire(
    args: argparse.Namespace,
    application: Application,
    samconfig: Mapping[str, Any],
    data_dir: Path | None,
    lock: DataDirLock | None,
) -> LocalApi:
    """Environment, store, runtime, gateway (with the docs plugged in) and server, for ``application``."""
    env_path = args.env_vars or application.root / ENV_FILE_NAME
    env_file = read_env_file(env_path)
    process = dict(os.environ)

    # Embedded-metric-format lines are for CloudWatch; in a terminal they would bury the request log
    # (POWERTOOLS_METRICS_DISABLED=false in the shell or the env file shows them, the cold-start metric
    # included: shared.metrics makes that one obey the setting too).
    local_defaults: dict[str, str] = {"POWERTOOLS_METRICS_DISABLED": "true"}
    if provided(JWT_SECRET, env_file, process):
        secret_source = "from the environment" if process.get(JWT_SECRET) else f"from {env_path.name}"
    else:
        local_defaults[JWT_SECRET] = local_jwt_secret(data_dir)
        secret_source = "generated, kept for this run only" if data_dir is None else f"generated, kept in {data_dir}"
    plan = EnvironmentPlan.compose(application.functions, env_file, local_defaults, process)
    plan.require_one_value(
        process_wide_variables(),
        process,
        why="here all functions run in one process and share one database client, which reads it once",
        env_file=env_path.name,
    )

    store = None if provided(MONGODB_URI, env_file, process) else EmbeddedStore(data_dir)
    loaded = store.load() if store is not None else 0

    account = LOCAL_ACCOUNT_ID
    aws_region = str(samconfig.get("region") or region())
    outbox = Outbox(data_dir)
    runtime = FunctionRuntime(
        application,
        EnvironmentSwitcher(plan),
        store,
        region=aws_region,
        account_id=account,
        hot_reload=not args.no_reload,
        outbox=outbox,
        before_invoke=set_correlation_id,
    )
    docs = ApiDocs(runtime)
    authorizers = TokenAuthorizers()
    gateway = Gateway(application, runtime, authorizers, region=aws_region, account_id=account, extra_routes=[docs])
    server = LocalApiServer((args.host, args.port), gateway)
    functions = application.functions.values()
    unresolved = sorted({name for f in functions for name in f.unresolved if name not in plan.managed})
    hot_reload = not args.no_reload
    return LocalApi(
        application, server, runtime, docs, store, outbox, lock, loaded, secret_source, unresolved, hot_reload
    )


def banner(api: LocalApi) -> str:
    """What the terminal shows on start: where to call, what is served, where data lives."""
    host, port = api.server.server_address[:2]
    host = host.decode() if isinstance(host, bytes) else host
    base = f"http://{host}:{port}"
    lines = [f"{TITLE} (local, no Docker) on {base}"]
    for route in sorted(api.application.routes, key=lambda r: (r.path, r.method)):
        auth = f"  [{route.authorizer}]" if route.authorizer else ""
        lines.append(f"  {route.method:<7} {route.path:<32} -> {route.function_id}{auth}")
    if api.application.preflights:
        functions = ", ".join(sorted({route.function_id for route in api.application.preflights}))
        lines.append(f"  OPTIONS (CORS preflight) on {len(api.application.preflights)} paths -> {functions}")
    shadowed = api.server.gateway.shadowed(api.docs.paths)
    if shadowed:
        lines.append(f"API docs: not served, the template routes {', '.join(shadowed)}")
    else:
        lines.append(f"API docs: {base}{DOCS_PATH} (Swagger UI), {base}{DOCUMENT_PATH} (OpenAPI, live)")
    if api.store is not None:
        lines.append(f"Store: embedded, {api.store.describe()} ({api.loaded_documents} documents loaded)")
    else:
        lines.append(f"Store: MongoDB at {MONGODB_URI}")
    lines.append(f"Mail: {api.outbox.describe()}")
    lines.append(f"JWT secret: {api.jwt_secret_source}")
    if api.unresolved:
        lines.append(f"Left unset (only resolvable once deployed): {', '.join(api.unresolved)}")
    if api.hot_reload:
        lines.append(f"Edits under functions/ and {LAYER_PACKAGE}/ apply on the next request. Ctrl+C stops.")
    else:
        lines.append("Hot reload is off (--no-reload): restart to apply edits. Ctrl+C stops.")
    return "\n".join(lines)


def configure_logging() -> None:
    """Request lines and tracebacks on stderr, readable in a terminal."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m local_api``."""
    args = parse_args(argv)
    configure_logging()
    try:
        api = assemble(args)
    except (TemplateError, StoreError, OSError, ValueError) as e:
        print(f"local_api: {e}", file=sys.stderr)
        return 2
    print(banner(api), file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, _stop)
    try:
        api.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        api.close()
    return 0
