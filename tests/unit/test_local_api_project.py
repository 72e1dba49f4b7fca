"""local_api.project is the local API's one door into the layer's package."""

from __future__ import annotations

from pathlib import Path

import mongomock
import pytest

from local_api import project
from shared import config
from shared.data import client as db
from tests.support import ROOT, imported_modules

LOCAL_API = ROOT / "local_api"


@pytest.mark.parametrize("path", sorted(p for p in LOCAL_API.glob("*.py") if p.name != "project.py"))
def test_only_the_project_module_imports_the_layer(path: Path) -> None:
    package = project.LAYER_PACKAGE
    layer = {m for m in imported_modules(path) if m == package or m.startswith(f"{package}.")}
    source = path.read_text(encoding="utf-8")

    assert layer == set()
    assert "import_module(" not in source


def test_clear_settings_cache_makes_the_layer_read_the_environment_again(monkeypatch: pytest.MonkeyPatch) -> None:
    before = (config.token_settings(), config.password_settings(), config.database_settings(), config.http_settings())
    monkeypatch.setenv("JWT_EXPIRE_MINUTES", "7")
    monkeypatch.setenv("BCRYPT_ROUNDS", "5")
    monkeypatch.setenv("MONGODB_DB_NAME", "other")
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "https://app.example")

    project.clear_settings_cache()

    assert before[0].jwt_expire_minutes == 60
    assert config.token_settings().jwt_expire_minutes == 7
    assert config.password_settings().bcrypt_rounds == 5
    assert config.database_settings().mongodb_db_name == "other"
    assert config.http_settings().cors_allow_origins == ("https://app.example",)


def test_settings_variables_are_the_layers() -> None:
    assert project.settings_variables() == config.VARIABLES


def test_process_wide_variables_are_the_database_settings() -> None:
    assert set(project.process_wide_variables()) == {
        "AWS_LAMBDA_FUNCTION_NAME",
        "MONGODB_URI",
        "MONGODB_URI_SECRET_ARN",
        "MONGODB_DB_NAME",
        "MONGODB_TIMEOUT_MS",
        "MONGODB_PING_TIMEOUT_MS",
        "SECRETS_MAX_AGE",
    }


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
