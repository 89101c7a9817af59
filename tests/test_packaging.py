"""PHP packaging: the root composer.json (stubs + compat layer) and the PIE-style source build.

* `composer validate --strict` is clean, and `composer require --dev` from a path repository
  installs the package into a fresh project whose autoloader finds the `Kafka\\` compat
  classes and never declares the extension's classes (so nothing clashes with kafkars.so).
* `phpize && ./configure && make && make install` in a clean copy of the repository builds
  kafkars.so through cargo and installs it; `php -m` then lists the module (slow).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

TIMEOUT = 120


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


def php_ext() -> Path | None:
    """The built extension: $KAFKARS_EXT, else the release kafkars.so, else the debug build."""
    env = os.environ.get("KAFKARS_EXT")
    if env:
        return Path(env)
    for candidate in (ROOT / "target/release/kafkars.so",
                      ROOT / "target/debug/libkafkars_php.so"):
        if candidate.exists():
            return candidate
    return None


def run(argv, cwd: Path, timeout: float = TIMEOUT, env: dict | None = None,
        check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, argv))} exited {proc.returncode}:\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def composer_project(path: Path) -> Path:
    """A fresh Composer project at `path` with kafkars/kafkars required (dev) from a path
    repository pointing at this checkout."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "composer.json").write_text(
        '{"name": "test/app", "description": "kafkars packaging test", "license": "MIT",'
        ' "repositories": [{"type": "path", "url": "%s", "options": {"symlink": true}}],'
        ' "minimum-stability": "dev", "prefer-stable": true}\n' % ROOT)
    env = dict(os.environ, COMPOSER_HOME=str(path / ".composer-home"),
               COMPOSER_NO_INTERACTION="1", COMPOSER_ALLOW_SUPERUSER="1")
    run(["composer", "require", "--dev", "--no-audit", "kafkars/kafkars:@dev"], cwd=path,
        env=env)
    return path


needs_composer = pytest.mark.skipif(not have("composer"), reason="composer not installed "
                                    "(scripts/install-deps.sh installs it)")


@needs_composer
def test_composer_validate_strict():
    out = run(["composer", "validate", "--strict", "--no-check-publish"], cwd=ROOT,
              env=dict(os.environ, COMPOSER_ALLOW_SUPERUSER="1"))
    assert "is valid" in out.stdout + out.stderr


@needs_composer
def test_composer_require_dev_from_path_repository(tmp_path):
    project = composer_project(tmp_path / "app")
    installed = project / "vendor/kafkars/kafkars"
    assert (installed / "stubs/rdkafka.stub.php").exists()
    assert (installed / "compat/src/Produce.php").exists()
    probe = (
        r"require 'vendor/autoload.php';"
        # The compat layer autoloads...
        r"echo class_exists('Kafka\Produce') ? 'compat' : 'no-compat', ' ';"
        r"echo class_exists('Kafka\Consumer') ? 'compat' : 'no-compat', ' ';"
        # ...the stubs never do: with no extension loaded, RdKafka classes stay undefined.
        r"echo class_exists('RdKafka\Producer') ? 'stub-loaded' : 'no-stub', ' ';"
        # A ZooKeeper address gets an explanation instead of a hang.
        r"try { Kafka\Produce::getInstance('localhost:2181', 1000); }"
        r" catch (Kafka\Exception $e) { echo $e->getMessage(); }"
    )
    out = run(["php", "-n", "-r", probe], cwd=project).stdout
    assert out.startswith("compat compat no-stub ")
    assert "ZooKeeper" in out and "broker list" in out


@needs_composer
def test_autoloader_does_not_clash_with_the_extension(tmp_path):
    ext = php_ext()
    if ext is None:
        pytest.skip("kafkars.so not built")
    project = composer_project(tmp_path / "app")
    probe = (r"require 'vendor/autoload.php';"
             r"$r = new ReflectionClass('RdKafka\Producer');"
             r"echo $r->getExtensionName(), ' ', class_exists('Kafka\Consumer') ? 'ok' : 'x';")
    out = run(["php", "-n", "-d", f"extension={ext}", "-r", probe], cwd=project).stdout
    assert out == "rdkafka ok"


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.skipif(not (have("phpize") and have("php-config") and have("cargo")),
                    reason="needs phpize/php-config (php8.2-dev) and cargo")
def test_pie_style_source_build(tmp_path):
    """`phpize && ./configure && make && make install` on a clean copy; `php -m` lists it."""
    src = tmp_path / "src"
    # A clean copy: what git tracks (plus uncommitted edits), no target/ or vendor/.
    files = run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT).stdout.split()
    for rel in files:
        s = ROOT / rel
        if s.is_file():
            d = src / rel
            d.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(s, d)
    php = src / "php"
    prefix = tmp_path / "extdir"
    prefix.mkdir()
    env = dict(os.environ,
               # Reuse the checkout's build cache so the test builds in minutes, not tens.
               CARGO_TARGET_DIR=os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target")),
               KAFKARS_CARGO_PROFILE="debug")
    run(["phpize"], cwd=php, env=env)
    run(["./configure", "--enable-kafkars"], cwd=php, env=env)
    run(["make"], cwd=php, env=env, timeout=1500)
    assert (php / "modules/kafkars.so").exists()
    run(["make", "install", f"INSTALL_ROOT={prefix}"], cwd=php, env=env)
    ext_dir = run(["php-config", "--extension-dir"], cwd=php).stdout.strip()
    installed = prefix / ext_dir.lstrip("/") / "kafkars.so"
    assert installed.exists(), sorted(str(p) for p in prefix.rglob("*"))
    mods = run(["php", "-n", "-d", f"extension={installed}", "-m"], cwd=tmp_path).stdout
    assert "rdkafka" in mods.split()
    # phpize's own `make clean` leaves nothing of cargo's behind in the source tree.
    assert not (php / "target").exists()
