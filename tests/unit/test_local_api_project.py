"""local_api.project is the one module of the local API that knows this project."""

from __future__ import annotations

import ast
from pathlib import Path

import mongomock
import pytest

import shared
from local_api import project
from shared import config
from shared.data import client as db
from tests.support import ROOT

LOCAL_API = ROOT / "local_api"


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("path", sorted(p for p in LOCAL_API.glob("*.py") if p.name != "project.py"))
def test_only_the_project_module_imports_the_layer(path: Path) -> None:
    package = project.LAYER_PACKAGE
    layer = {m for m in _imported_modules(path) if m == package or m.startswith(f"{package}.")}
    source = path.read_text(encoding="utf-8")

    assert layer == set()
    assert "import_module(" not in source


def test_version_is_the_layer_packages() -> None:
    assert project.version(ROOT) == shared.__version__


def test_clear_settings_cache_makes_the_layer_read_the_environment_again(monkeypatch: pytest.MonkeyPatch) -> None:
    before = config.get_settings()
    monkeypatch.setenv("JWT_EXPIRE_MINUTES", "7")

    project.clear_settings_cache()

    assert before.jwt_expire_minutes == 60
    assert config.get_settings().jwt_expire_minutes == 7


def test_database_hook_installs_once_per_layer_module() -> None:
    client = mongomock.MongoClient(tz_aware=True)
    hook = project.DatabaseHook()

    hook.install(client)
    database = db.get_database()
    hook.install(client)

    assert db.get_client() is client
    assert db.get_database() is database  # not installed again


def test_database_hook_creates_the_indexes_in_the_functions_database() -> None:
    client = mongomock.MongoClient(tz_aware=True)

    project.DatabaseHook().install(client)

    users = client[config.DEFAULT_DB_NAME].users.index_information()
    sessions = client[config.DEFAULT_DB_NAME].sessions.index_information()
    assert users["email_unique"]["unique"] is True
    assert sessions["expires"]["expireAfterSeconds"] == 0


def test_mail_hook_installs_the_stand_in_as_the_layers_mailer() -> None:
    from local_api.outbox import Outbox
    from shared.mail import mailer

    outbox = Outbox(None)
    project.MailHook().install(outbox)

    assert mailer.get_mailer() is outbox


def test_outbox_prints_each_mail_and_keeps_it_under_the_data_directory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import email
    import email.policy

    from local_api.outbox import Outbox

    outbox = Outbox(tmp_path)
    with caplog.at_level("INFO", logger="local_api"):
        outbox.send(sender="a@example.org", to="b@example.org", subject="Hello", text="Line one\nhttps://x?token=t\n")

    (path,) = (tmp_path / "mail").glob("*.eml")
    kept = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert (kept["From"], kept["To"], kept["Subject"]) == ("a@example.org", "b@example.org", "Hello")
    assert kept.get_content() == "Line one\nhttps://x?token=t\n"  # type: ignore[attr-defined]
    assert "https://x?token=t" in caplog.text
    assert str(path) in caplog.text
    assert len(outbox.sent) == 1


def test_an_in_memory_outbox_writes_nothing(tmp_path: Path) -> None:
    from local_api.outbox import Outbox

    outbox = Outbox(None)
    outbox.send(sender="a@example.org", to="b@example.org", subject="Hello", text="x")

    assert outbox.folder is None
    assert [m["To"] for m in outbox.sent] == ["b@example.org"]
