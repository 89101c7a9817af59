"""Cross-component test harness: real brokers, real clients, bounded everything.

Fixtures (all processes are started in their own session and killed at teardown):

* ``kafkars_broker``  -- a fresh ``kafkars broker`` on a free port and a temp data dir, per test.
  The object has ``.bootstrap``, ``.data_dir``, ``.kill9()``, ``.restart()``, ``.stop()``.
* ``shared_kafkars``  -- one ``kafkars broker`` for the whole session (tests use unique topics).
* ``kafka_libs``      -- the Apache Kafka jars dir (``$KAFKA_LIBS``, fetched by
  ``scripts/fetch-kafka.sh`` if missing).
* ``apache_kafka``    -- a real single-node Apache Kafka (KRaft) for the session.
* ``kafka_cluster``   -- a real three-node Apache Kafka (KRaft) cluster, for failover tests.
* ``any_broker``      -- parametrized over ``kafkars`` and ``kafka``: the same client suite runs
  against both, which proves the tests check Kafka behaviour and not ours.
* ``topic``           -- a unique topic name for this test.
* ``java_tool``       -- ``java_tool(cls, args, ...)`` runs one of Kafka's CLI classes.

Markers: ``java`` (needs a JVM and the Kafka jars), ``slow`` (tens of seconds).
Select with ``-m "not java"`` etc.  Binary: ``$KAFKARS_BIN``, else ``target/release/kafkars``,
else ``target/debug/kafkars``.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Callable, Optional, Sequence

import pytest

ROOT = Path(__file__).resolve().parent.parent
KAFKA_VERSION = os.environ.get("KAFKA_VERSION", "4.1.1")
START_TIMEOUT = float(os.environ.get("KAFKARS_START_TIMEOUT", "30"))
STOP_TIMEOUT = 15.0


# --------------------------------------------------------------------------------------------
# Small utilities
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    """A port the kernel considers free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.05):
    """Poll ``predicate`` until it returns a truthy value or ``timeout`` seconds pass.

    Returns the truthy value; raises ``TimeoutError`` naming ``what`` otherwise.
    """
    deadline = time.monotonic() + timeout
    last_exc: Optional[BaseException] = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - the predicate may fail until ready
            last_exc = exc
        if time.monotonic() >= deadline:
            suffix = f" (last error: {last_exc!r})" if last_exc else ""
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}{suffix}")
        time.sleep(interval)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def kafkars_bin() -> Path:
    env = os.environ.get("KAFKARS_BIN")
    if env:
        return Path(env)
    for profile in ("release", "debug"):
        candidate = ROOT / "target" / profile / "kafkars"
        if candidate.exists():
            return candidate
    return ROOT / "target" / "release" / "kafkars"


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-limit:].decode("utf-8", "replace")


def _kill_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


class ManagedProcess:
    """A server process in its own session, logging to a file, with bounded stop."""

    def __init__(self, name: str, argv: Sequence[str], log_path: Path, cwd: Path,
                 env: Optional[dict] = None):
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.cwd = cwd
        self.env = env
        self.proc: Optional[subprocess.Popen] = None
        self.started_in: Optional[float] = None

    def spawn(self) -> None:
        with open(self.log_path, "ab") as log:
            log.write(f"\n==== start {' '.join(self.argv)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.cwd, env=self.env, start_new_session=True)

    def wait_ready(self, ready: Callable[[], object], timeout: float, what: str,
                   interval: float = 0.05) -> None:
        """``wait_until(ready)``; on time-out the error carries the tail of the log."""
        try:
            wait_until(ready, timeout, what, interval=interval)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; log tail:\n{self.log_text()}") from None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with status {self.proc.returncode}; log tail:\n"
                f"{self.log_text()}")

    def log_text(self) -> str:
        return _tail(self.log_path)

    def kill9(self) -> None:
        if self.proc is None:
            return
        _kill_group(self.proc, signal.SIGKILL)
        self.proc.wait(timeout=STOP_TIMEOUT)

    def terminate(self, timeout: float = STOP_TIMEOUT) -> Optional[int]:
        """SIGTERM, wait up to ``timeout``; SIGKILL if it did not exit. Returns the exit code,
        or ``None`` if it had to be killed."""
        if self.proc is None:
            return 0
        if self.proc.poll() is not None:
            return self.proc.returncode
        _kill_group(self.proc, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            return None


class OneProcessServer:
    """What a server run as one ManagedProcess (``self._process``) answers the same way."""

    _process: ManagedProcess

    @property
    def pid(self) -> Optional[int]:
        return self._process.proc.pid if self._process.proc else None

    @property
    def started_in(self) -> Optional[float]:
        """Seconds from spawn to ready (for start-up figures)."""
        return self._process.started_in

    def running(self) -> bool:
        return self._process.running()

    def check_alive(self) -> None:
        self._process.check_alive()

    def kill9(self) -> None:
        """SIGKILL: no shutdown hooks, no flush. The data dir stays."""
        self._process.kill9()

    def log_text(self) -> str:
        return self._process.log_text()


# --------------------------------------------------------------------------------------------
# kafkars broker
# --------------------------------------------------------------------------------------------


class KafkarsBroker(OneProcessServer):
    """``kafkars broker`` on 127.0.0.1:<free port> with a data dir that survives restarts."""

    kind = "kafkars"

    def __init__(self, data_dir: Path, log_path: Path, port: Optional[int] = None,
                 extra_args: Sequence[str] = ()):
        self.binary = kafkars_bin().resolve()
        if not self.binary.exists():
            raise RuntimeError(
                f"kafkars binary not found at {self.binary}: run `make build` "
                "(or `cargo build -p kafkars-cli`) or set KAFKARS_BIN")
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.bootstrap = f"{self.host}:{self.port}"
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.extra_args = list(extra_args)
        argv = [str(self.binary), "broker", "--listen", self.bootstrap,
                "--advertise", self.bootstrap, "--data-dir", str(self.data_dir),
                *self.extra_args]
        env = dict(os.environ)
        env.setdefault("RUST_BACKTRACE", "1")
        self._process = ManagedProcess("kafkars broker", argv, log_path, self.data_dir.parent, env)

    def start(self, timeout: float = START_TIMEOUT) -> "KafkarsBroker":
        t0 = time.monotonic()
        self._process.spawn()

        def ready():
            self._process.check_alive()
            return port_open(self.host, self.port)

        self._process.wait_ready(ready, timeout, f"kafkars broker to listen on {self.bootstrap}")
        self._process.started_in = time.monotonic() - t0
        return self

    def stop(self, timeout: float = STOP_TIMEOUT) -> Optional[int]:
        """SIGTERM and wait (bounded). Returns the exit code, ``None`` if it had to be killed."""
        return self._process.terminate(timeout)

    def restart(self, timeout: float = START_TIMEOUT) -> "KafkarsBroker":
        """Start again on the same port and data dir (stops it first if still running)."""
        if self.running():
            self.stop()
        return self.start(timeout)

    def close(self) -> None:
        if self.running():
            self.kill9()

    def __repr__(self) -> str:
        return f"KafkarsBroker({self.bootstrap}, data_dir={self.data_dir})"


@contextlib.contextmanager
def kafkars_with_properties(tmp_path: Path, properties: str):
    """A kafkars broker in ``tmp_path`` started with these ``server.properties`` lines (its
    ``--config``); closed on exit."""
    props = tmp_path / "server.properties"
    props.write_text(properties)
    broker = KafkarsBroker(tmp_path / "data", tmp_path / "broker.log",
                           extra_args=["--config", str(props)])
    try:
        broker.start()
        yield broker
    finally:
        broker.close()


@pytest.fixture
def kafkars_broker(tmp_path):
    """A fresh kafkars broker for one test."""
    broker = KafkarsBroker(tmp_path / "data", tmp_path / "broker.log")
    try:
        broker.start()
        yield broker
    finally:
        broker.close()


@pytest.fixture(scope="session")
def shared_kafkars(tmp_path_factory):
    """One kafkars broker shared by a whole session; tests must use unique topic names."""
    base = tmp_path_factory.mktemp("kafkars-shared")
    broker = KafkarsBroker(base / "data", base / "broker.log")
    try:
        broker.start()
        yield broker
    finally:
        broker.close()


# --------------------------------------------------------------------------------------------
# Apache Kafka (Maven jars) and its tools
# --------------------------------------------------------------------------------------------


def default_kafka_libs() -> Path:
    env = os.environ.get("KAFKA_LIBS")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "kafkars" / f"kafka-{KAFKA_VERSION}" / "libs"


def ensure_kafka_libs() -> Path:
    libs = default_kafka_libs()
    if not (libs / f"kafka_2.13-{KAFKA_VERSION}.jar").exists():
        if shutil.which("java") is None or shutil.which("mvn") is None:
            pytest.skip("java/mvn not installed: run scripts/install-deps.sh")
        subprocess.run([str(ROOT / "scripts" / "fetch-kafka.sh")], check=True, timeout=600,
                       env={**os.environ, "KAFKA_VERSION": KAFKA_VERSION,
                            "KAFKA_LIBS": str(libs)})
    return libs


def java_cmd(libs: Path, cls: str, args: Sequence[str], heap: str = "256m") -> list:
    log4j = libs.parent / "log4j2.properties"
    argv = ["java", f"-Xmx{heap}", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]
    if log4j.exists():
        argv.append(f"-Dlog4j2.configurationFile={log4j}")
    argv += ["-cp", f"{libs}/*", cls, *args]
    return argv


def run_java_tool(cls: str, args: Sequence[str], *, timeout: float = 60,
                  input: Optional[bytes] = None, check: bool = True, heap: str = "256m",
                  libs: Optional[Path] = None) -> subprocess.CompletedProcess:
    """Run one of Kafka's CLI classes (``org.apache.kafka.tools.TopicCommand``,
    ``org.apache.kafka.tools.ConsoleProducer``,
    ``org.apache.kafka.tools.consumer.ConsoleConsumer``, ``...ProducerPerformance`` ...)
    bounded by ``timeout``. Returns the CompletedProcess (stdout/stderr as bytes).
    ``libs`` defaults to the Kafka jars dir (fetched if missing)."""
    libs = libs if libs is not None else ensure_kafka_libs()
    proc = subprocess.run(java_cmd(libs, cls, args, heap), input=input, capture_output=True,
                          timeout=timeout, stdin=None if input is not None else subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{cls} {' '.join(args)} exited {proc.returncode}\nstdout:\n"
            f"{proc.stdout.decode(errors='replace')[-3000:]}\nstderr:\n"
            f"{proc.stderr.decode(errors='replace')[-3000:]}")
    return proc


@pytest.fixture(scope="session")
def kafka_libs() -> Path:
    """Directory holding the Apache Kafka jars (fetched on first use)."""
    return ensure_kafka_libs()


@pytest.fixture(scope="session")
def java_tool(kafka_libs):
    """``java_tool(cls, args, timeout=60, input=None, check=True)`` -> CompletedProcess."""

    def run(cls: str, args: Sequence[str], **kw) -> subprocess.CompletedProcess:
        return run_java_tool(cls, args, libs=kafka_libs, **kw)

    return run


# What every single-node test Kafka sets after its listeners and log.dirs: internal topics of
# one replica, auto-created topics, no initial rebalance delay.
KAFKA_TEST_DEFAULTS = """\
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions={offsets_partitions}
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
"""

KAFKA_SERVER_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs={log_dir}
""" + KAFKA_TEST_DEFAULTS.format(offsets_partitions=4) + """\
log.flush.interval.messages=9223372036854775807
"""


def new_cluster_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def format_kraft_storage(libs: Path, config: Path, *extra: str, standalone: bool = True,
                         cluster_id: Optional[str] = None) -> None:
    """``kafka-storage format`` for ``config`` (``--standalone``: a single node with a dynamic
    quorum; ``cluster_id``: the one the cluster's nodes share, else a fresh one; ``extra``
    e.g. ``--add-scram`` credentials)."""
    cluster_id = cluster_id or new_cluster_id()
    args = ["format", *(["--standalone"] if standalone else []), f"--cluster-id={cluster_id}",
            "-c", str(config), *extra]
    run_java_tool("kafka.tools.StorageTool", args, timeout=120, libs=libs)


def kcat_broker_count(bootstrap: str) -> int:
    """How many brokers the cluster's metadata names (0 when kcat gets no answer)."""
    out = subprocess.run(["kcat", "-b", bootstrap, "-L", "-m", "2"],
                         capture_output=True, timeout=10)
    m = re.search(rb" (\d+) brokers:", out.stdout)
    return int(m.group(1)) if out.returncode == 0 and m else 0


class ApacheKafka(OneProcessServer):
    """A single-node Apache Kafka (KRaft) from the Maven jars."""

    kind = "kafka"

    def __init__(self, libs: Path, base: Path, heap: str = "512m"):
        self.libs = libs
        self.base = Path(base)
        self.port = free_port()
        self.controller_port = free_port()
        while self.controller_port == self.port:
            self.controller_port = free_port()
        self.host = "127.0.0.1"
        self.bootstrap = f"{self.host}:{self.port}"
        self.data_dir = self.base / "data"
        self.config = self.base / "server.properties"
        self.config.write_text(KAFKA_SERVER_PROPERTIES.format(
            port=self.port, controller_port=self.controller_port, log_dir=self.data_dir))
        format_kraft_storage(libs, self.config)
        self._process = ManagedProcess(
            "Apache Kafka", java_cmd(libs, "kafka.Kafka", [str(self.config)], heap=heap),
            self.base / "kafka.log", self.base)

    def start(self, timeout: float = 120) -> "ApacheKafka":
        t0 = time.monotonic()
        self._process.spawn()

        def ready():
            self._process.check_alive()
            if not port_open(self.host, self.port):
                return False
            # Listening is not enough: wait until metadata names this broker.
            return kcat_broker_count(self.bootstrap) == 1

        self._process.wait_ready(ready, timeout, f"Apache Kafka on {self.bootstrap}", interval=0.2)
        self._process.started_in = time.monotonic() - t0
        return self

    def stop(self, timeout: float = 30) -> Optional[int]:
        return self._process.terminate(timeout)

    def close(self) -> None:
        if self.running():
            self.stop()

    def __repr__(self) -> str:
        return f"ApacheKafka({self.bootstrap})"


@pytest.fixture(scope="session")
def apache_kafka(kafka_libs, tmp_path_factory):
    """A real single-node Apache Kafka (KRaft) for the session."""
    if shutil.which("kcat") is None:
        pytest.skip("kcat not installed")
    kafka = ApacheKafka(kafka_libs, tmp_path_factory.mktemp("apache-kafka"))
    try:
        kafka.start()
        yield kafka
    finally:
        kafka.close()


class ApacheKafkaCluster:
    """An N-node Apache Kafka (KRaft) cluster on 127.0.0.1, every node broker+controller with a
    static voter set (``controller.quorum.voters``). For replication and leader failover tests
    of the client (DESIGN.md 13). ``nodes[i]`` are ApacheKafka-like handles; node ids are 1..N.
    """

    kind = "kafka-cluster"

    def __init__(self, libs: Path, base: Path, size: int = 3, heap: str = "384m"):
        self.libs = libs
        self.base = Path(base)
        ports = set()
        while len(ports) < 2 * size:
            ports.add(free_port())
        ports = sorted(ports)
        self.ports = ports[:size]
        self.controller_ports = ports[size:]
        self.bootstrap = ",".join(f"127.0.0.1:{p}" for p in self.ports)
        voters = ",".join(f"{i + 1}@127.0.0.1:{cp}" for i, cp in enumerate(self.controller_ports))
        cluster_id = new_cluster_id()
        self.nodes = []
        for i in range(size):
            node_dir = self.base / f"node{i + 1}"
            node_dir.mkdir(parents=True, exist_ok=True)
            props = KAFKA_SERVER_PROPERTIES.format(
                port=self.ports[i], controller_port=self.controller_ports[i],
                log_dir=node_dir / "data")
            props = props.replace("node.id=1", f"node.id={i + 1}")
            props = "\n".join(line for line in props.splitlines()
                              if not line.startswith("controller.quorum.bootstrap.servers"))
            rf = min(3, size)
            props += (f"\ncontroller.quorum.voters={voters}\n"
                      f"offsets.topic.replication.factor={rf}\n"
                      f"transaction.state.log.replication.factor={rf}\n"
                      f"default.replication.factor={rf}\nmin.insync.replicas={max(1, rf - 1)}\n")
            config = node_dir / "server.properties"
            config.write_text(props)
            format_kraft_storage(libs, config, standalone=False, cluster_id=cluster_id)
            proc = ManagedProcess(f"Apache Kafka node {i + 1}",
                                  java_cmd(libs, "kafka.Kafka", [str(config)], heap=heap),
                                  node_dir / "kafka.log", node_dir)
            self.nodes.append(proc)

    def start_node(self, i: int) -> None:
        """Start (or restart) node ``i`` (0-based) without waiting."""
        if not self.nodes[i].running():
            self.nodes[i].spawn()

    def kill9_node(self, i: int) -> None:
        self.nodes[i].kill9()

    def stop_node(self, i: int, timeout: float = 30) -> Optional[int]:
        return self.nodes[i].terminate(timeout)

    def brokers_in_metadata(self) -> int:
        return kcat_broker_count(self.bootstrap)

    def wait_for_brokers(self, count: int, timeout: float = 120) -> None:
        wait_until(lambda: self.brokers_in_metadata() >= count, timeout,
                   f"{count} brokers in the cluster's metadata", interval=0.2)

    def start(self, timeout: float = 180) -> "ApacheKafkaCluster":
        for i in range(len(self.nodes)):
            self.start_node(i)
        try:
            self.wait_for_brokers(len(self.nodes), timeout)
        except TimeoutError as exc:
            logs = "\n".join(n.log_text()[-1500:] for n in self.nodes)
            raise TimeoutError(f"{exc}; log tails:\n{logs}") from None
        return self

    def log_text(self) -> str:
        return "\n".join(f"--- {n.name}\n{n.log_text()}" for n in self.nodes)

    def close(self) -> None:
        for node in self.nodes:
            if node.running():
                node.kill9()

    def __repr__(self) -> str:
        return f"ApacheKafkaCluster({self.bootstrap})"


@pytest.fixture(scope="session")
def kafka_cluster(kafka_libs, tmp_path_factory):
    """A real three-node Apache Kafka (KRaft) cluster for the session. Tests that kill nodes
    must start them again (``start_node`` + ``wait_for_brokers``) before they end."""
    if shutil.which("kcat") is None:
        pytest.skip("kcat not installed")
    cluster = ApacheKafkaCluster(kafka_libs, tmp_path_factory.mktemp("kafka-cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(
    scope="session",
    params=["kafkars", pytest.param("kafka", marks=pytest.mark.java)],
)
def any_broker(request):
    """Parametrized: our broker, then Apache Kafka. Both shared by the session."""
    if request.param == "kafkars":
        return request.getfixturevalue("shared_kafkars")
    return request.getfixturevalue("apache_kafka")


@pytest.fixture
def topic(request) -> str:
    """A unique, valid topic name for this test."""
    name = "".join(c if c.isalnum() else "-" for c in request.node.name)[:150].strip("-")
    return f"t-{name}-{uuid.uuid4().hex[:8]}"


# --------------------------------------------------------------------------------------------
# kcat
# --------------------------------------------------------------------------------------------


def kcat(bootstrap: str, *args: str, input: Optional[bytes] = None, timeout: float = 60,
         check: bool = True) -> subprocess.CompletedProcess:
    """Run ``kcat -b bootstrap args...`` bounded by ``timeout``; stdout/stderr as bytes."""
    argv = ["kcat", "-b", bootstrap, *args]
    proc = subprocess.run(argv, input=input, capture_output=True, timeout=timeout,
                          stdin=None if input is not None else subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} exited {proc.returncode}\nstderr:\n"
            f"{proc.stderr.decode(errors='replace')[-3000:]}")
    return proc


def kcat_produce(bootstrap: str, topic: str, lines: Sequence[bytes], *,
                 partition: Optional[int] = None, extra: Sequence[str] = (),
                 timeout: float = 60) -> subprocess.CompletedProcess:
    """Produce newline-delimited messages (``-P``); waits for delivery (kcat exits after flush)."""
    args = ["-P", "-t", topic, "-c", str(len(lines)), *extra]
    if partition is not None:
        args += ["-p", str(partition)]
    payload = b"".join(line + b"\n" for line in lines)
    return kcat(bootstrap, *args, input=payload, timeout=timeout)


def kcat_consume(bootstrap: str, topic: str, count: int, *, partition: Optional[int] = None,
                 offset: str = "beginning", fmt: Optional[str] = None,
                 extra: Sequence[str] = (), timeout: float = 60) -> subprocess.CompletedProcess:
    """Consume ``count`` messages (all up to the end when ``count`` is 0), ``-C -e``, bounded
    by ``timeout``."""
    args = ["-C", "-t", topic, "-o", offset, "-e"]
    if count:
        args += ["-c", str(count)]
    if partition is not None:
        args += ["-p", str(partition)]
    if fmt is not None:
        args += ["-f", fmt]
    return kcat(bootstrap, *args, *extra, timeout=timeout)


@pytest.fixture(scope="session")
def kcat_tool():
    if shutil.which("kcat") is None:
        pytest.skip("kcat not installed")
    return kcat


# --------------------------------------------------------------------------------------------
# Topics (through the Admin API, so the same call works on both brokers)
# --------------------------------------------------------------------------------------------


def create_topic(bootstrap: str, name: str, partitions: int = 1, timeout: float = 30,
                 replication: int = 1) -> None:
    """CreateTopics through confluent-kafka's AdminClient, then wait until Metadata shows every
    partition with a leader."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(name, partitions, replication)],
                                  operation_timeout=timeout, request_timeout=timeout)
    futures[name].result(timeout=timeout)

    def ready():
        md = admin.list_topics(topic=name, timeout=5)
        t = md.topics.get(name)
        return (t is not None and t.error is None and len(t.partitions) == partitions
                and all(p.leader >= 0 for p in t.partitions.values()))

    wait_until(ready, timeout, f"metadata for topic {name} with {partitions} partitions")


# --------------------------------------------------------------------------------------------
# On failure, show the tail of every broker log the test used
# --------------------------------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when != "call" or not rep.failed:
        return
    for name in ("kafkars_broker", "shared_kafkars", "any_broker", "apache_kafka",
                 "kafka_cluster"):
        broker = getattr(item, "funcargs", {}).get(name)
        if broker is not None and hasattr(broker, "log_text"):
            rep.sections.append((f"{name} log tail ({broker!r})", broker.log_text()))
