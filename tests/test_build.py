"""The SharedLayer as Lambda gets it: the shared package, its dependencies as Linux aarch64 wheels
for CPython 3.13, bytecode compiled by python3.13, and nothing Lambda provides or only development
needs.

The layer is built here exactly as ``sam build`` builds it (``make build-SharedLayer`` in a copy of
the layer's source with ARTIFACTS_DIR set; about 10 s with pip's cache, it downloads the wheels from
PyPI otherwise). After ``make build`` the same checks also run on ``.aws-sam/build/SharedLayer``.
Without a python3.13 (on PATH or under pyenv) everything here is skipped, and says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
LAYER_SOURCE = ROOT / "layers" / "shared"
SAM_BUILT_LAYER = ROOT / ".aws-sam" / "build" / "SharedLayer"
EM_AARCH64 = 183
LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024
PROVIDED_BY_LAMBDA = {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "python_dateutil", "six"}
PROVIDED_BY_LAMBDA |= {"snapshot_restore_py"}  # SnapStart's runtime hooks (shared/snapstart.py)
DEV_ONLY = {"pytest", "_pytest", "moto", "mongomock", "samcli", "aws_sam_cli", "aws_lambda_builders", "cfnlint"}
DEV_ONLY |= {"cfn_lint", "ruff", "mypy", "yaml", "pyyaml", "requests", "local_api", "tests", "functions"}
IMPORTS = {"shared", "aws_lambda_powertools", "pydantic", "pydantic_core", "pymongo", "bson", "jwt", "bcrypt", "dns"}
IMPORTS |= {"pymongo_auth_aws"}  # pymongo's aws extra (MongoAuth=iam)


def python313_dir() -> tuple[Path | None, str]:
    """The directory of a working python3.13, or None and why there is none."""
    found = subprocess.run(
        [str(ROOT / "layers" / "find-python313.sh")], capture_output=True, text=True, check=False, timeout=30
    )
    if found.returncode:
        return None, found.stderr.strip()
    return Path(found.stdout.strip()), ""


@pytest.fixture(scope="module")
def python313() -> Path:
    directory, reason = python313_dir()
    if directory is None:
        pytest.skip(f"the layer build needs python3.13: {reason}")
    return directory / "python3.13"


@pytest.fixture(scope="module")
def layer_built_here(python313: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``sam build``'s way: copy ContentUri (following the shared symlink), run make there."""
    work = tmp_path_factory.mktemp("layer")
    scratch, artifacts = work / "scratch", work / "SharedLayer"
    shutil.copytree(LAYER_SOURCE, scratch, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "ARTIFACTS_DIR": str(artifacts), "PATH": f"{python313.parent}{os.pathsep}{os.environ['PATH']}"}
    build = subprocess.run(
        ["make", "--makefile", str(LAYER_SOURCE / "Makefile"), "build-SharedLayer"],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert build.returncode == 0, f"layer build failed:\n{build.stdout}\n{build.stderr}"
    return artifacts


def sam_built_layer() -> Path:
    if not SAM_BUILT_LAYER.is_dir():
        pytest.skip("no .aws-sam/build/SharedLayer: `make build` makes one")
    built = SAM_BUILT_LAYER / "python" / "shared"
    stale = [str(p) for p in shared_sources() if not same_file(ROOT / "shared" / p, built / p)]
    if stale:
        pytest.skip(f".aws-sam/build is older than shared/ ({', '.join(sorted(stale))}): `make build` updates it")
    return SAM_BUILT_LAYER


def shared_sources() -> list[Path]:
    """Every module of the shared package, subpackages included, relative to shared/."""
    return sorted(p.relative_to(ROOT / "shared") for p in (ROOT / "shared").rglob("*.py"))


def same_file(a: Path, b: Path) -> bool:
    return b.is_file() and a.read_bytes() == b.read_bytes()


@pytest.fixture(scope="module", params=["layer Makefile", "sam build"])
def layer(request: pytest.FixtureRequest, python313: Path) -> Path:
    if request.param == "sam build":
        return sam_built_layer()
    built: Path = request.getfixturevalue("layer_built_here")
    return built


@pytest.fixture(scope="module")
def magic_number_313(python313: Path) -> bytes:
    code = "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"
    magic = subprocess.run([str(python313), "-c", code], capture_output=True, text=True, check=True, timeout=30)
    return bytes.fromhex(magic.stdout)


def top_level_names(site: Path) -> set[str]:
    """Import names and distribution names (normalised) found in the layer's python/ folder."""
    names = set()
    for entry in site.iterdir():
        name = entry.name.split("-")[0] if entry.name.endswith(".dist-info") else entry.name.removesuffix(".py")
        names.add(name.lower().replace("-", "_"))
    return names


def test_layer_holds_only_the_python_folder(layer: Path) -> None:
    assert [p.name for p in layer.iterdir()] == ["python"]
    assert not (layer / "python" / "bin").exists()


def test_shared_package_is_in_the_python_folder_with_every_subpackage(layer: Path) -> None:
    built = layer / "python" / "shared"

    assert (built / "__init__.py").is_file()
    assert (built / "accounts" / "authorize.py").is_file()  # the subpackages too
    assert sorted(p.relative_to(built) for p in built.rglob("*.py")) == shared_sources()
    assert all(same_file(ROOT / "shared" / p, built / p) for p in shared_sources())


def test_runtime_dependencies_are_there_at_their_pins(layer: Path) -> None:
    site = layer / "python"
    pins = dict(
        line.split("#")[0].strip().lower().split("==")
        for line in (LAYER_SOURCE / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.split("#")[0].strip()
    )
    installed = dict(
        p.name.removesuffix(".dist-info").lower().replace("_", "-").rsplit("-", 1) for p in site.glob("*.dist-info")
    )

    assert top_level_names(site) >= IMPORTS
    assert {name: installed.get(name) for name in pins} == pins


def test_nothing_lambda_provides_or_only_development_needs(layer: Path) -> None:
    names = top_level_names(layer / "python")

    assert names & PROVIDED_BY_LAMBDA == set()
    assert names & DEV_ONLY == set()


def test_compiled_extensions_are_linux_aarch64(layer: Path) -> None:
    extensions = sorted((layer / "python").rglob("*.so"))

    assert {p.name.split(".")[0] for p in extensions} >= {"_pydantic_core", "_bcrypt", "_cbson"}
    for path in extensions:
        header = path.read_bytes()[:20]
        assert header[:4] == b"\x7fELF", path.name
        assert (header[4], header[5]) == (2, 1), f"{path.name}: not 64-bit little-endian"
        assert int.from_bytes(header[18:20], "little") == EM_AARCH64, f"{path.name}: not aarch64"


def test_every_module_has_python313_bytecode_that_needs_no_source_check(layer: Path, magic_number_313: bytes) -> None:
    site = layer / "python"
    sources = sorted(site.rglob("*.py"))
    missing = [p for p in sources if not (p.parent / "__pycache__" / f"{p.stem}.cpython-313.pyc").is_file()]
    other = [p for p in site.rglob("*.pyc") if not p.name.endswith(".cpython-313.pyc")]

    assert sources
    assert missing == []
    assert other == []
    for source in (site / "shared").rglob("*.py"):
        header = (source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc").read_bytes()[:8]
        assert header[:4] == magic_number_313, source.name
        assert int.from_bytes(header[4:8], "little") == 0b01, f"{source.name}: not an unchecked hash-based pyc"


def test_layer_fits_in_lambda(layer: Path) -> None:
    size = sum(p.stat().st_size for p in layer.rglob("*") if p.is_file())

    assert size < LAMBDA_UNZIPPED_LIMIT_BYTES
