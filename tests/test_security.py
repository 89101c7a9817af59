"""TLS and SASL against a real Apache Kafka 4.1.1: kafkars' client core (through the
`kafkars` command with `-X key=value`) and kafkars.so, with confluent-kafka (librdkafka 2.16)
side by side as the reference.

One Kafka for the whole module, with a listener per security protocol:

* ``SSL``            -- TLS with client certificates required (mTLS), advertised as localhost;
* ``SASL_SSL``       -- PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 over TLS (SCRAM-SHA-256 sessions
                        last 3 s: clients must re-authenticate, KIP-368);
* ``SASL_PLAINTEXT`` -- OAUTHBEARER with Kafka's unsecured-JWT validator, 3 s sessions;
* ``PLAINTEXT``      -- inter-broker traffic and topic creation.

Certificates are made at test time with the openssl command (a CA, a server certificate for
DNS:localhost only, a client certificate with an encrypted PKCS#8 key, and an unrelated CA);
SCRAM users are created by ``kafka-storage format --add-scram``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from conftest import (KAFKA_TEST_DEFAULTS, ManagedProcess, create_topic,
                      format_kraft_storage, free_port, java_cmd, kafkars_bin, kcat_broker_count,
                      port_open)
from test_packaging import php_ext

pytestmark = pytest.mark.java

USER, PASSWORD = "alice", "alice-secret"
KEY_PASSWORD = "client-key-pass"
REAUTH_MS = 3000
# A failing client must say so well within this (no hangs).
FAIL_WITHIN = 20.0


def openssl(cwd: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certs(d: Path) -> dict:
    """A CA, a localhost server certificate, a client certificate with an encrypted key, and
    an unrelated CA. EC P-256 keys: quick to make."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for ca in ("ca", "other-ca"):
        openssl(d, "req", "-x509", *ec, "-keyout", f"{ca}.key", "-out", f"{ca}.pem",
                "-days", "2", "-subj", f"/CN=kafkars test {ca}")
    (d / "server.ext").write_text("subjectAltName=DNS:localhost\n")
    (d / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name, cn in (("server", "localhost"), ("client", "kafkars-client")):
        openssl(d, "req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={cn}")
        openssl(d, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.crt", "-days", "2",
                "-extfile", f"{name}.ext")
    # Revocation lists from the CA: one empty, one revoking the server certificate.
    (d / "ca.cnf").write_text("[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\n"
                              "crlnumber=crlnumber\ndefault_md=sha256\ndefault_crl_days=2\n")
    (d / "index.txt").write_text("")
    (d / "crlnumber").write_text("01\n")
    ca = ["-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.pem"]
    openssl(d, "ca", *ca, "-gencrl", "-out", "crl-empty.pem")
    openssl(d, "ca", *ca, "-revoke", "server.crt")
    openssl(d, "ca", *ca, "-gencrl", "-out", "crl-revoked.pem")
    openssl(d, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", "client.key",
            "-out", "client.enc.key", "-passout", f"pass:{KEY_PASSWORD}")
    keystore = d / "server-keystore.pem"
    keystore.write_text((d / "server.key").read_text() + (d / "server.crt").read_text()
                        + (d / "ca.pem").read_text())
    return {k: str(d / v) for k, v in {
        "ca": "ca.pem", "other_ca": "other-ca.pem", "keystore": "server-keystore.pem",
        "client_cert": "client.crt", "client_key": "client.enc.key",
        "client_key_plain": "client.key", "crl_empty": "crl-empty.pem",
        "crl_revoked": "crl-revoked.pem"}.items()}


SERVER_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{ctrl}
listeners=PLAINTEXT://127.0.0.1:{plain},CONTROLLER://127.0.0.1:{ctrl},SSL://127.0.0.1:{ssl},\
SASL_SSL://127.0.0.1:{sasl_ssl},SASL_PLAINTEXT://127.0.0.1:{oauth}
advertised.listeners=PLAINTEXT://127.0.0.1:{plain},SSL://localhost:{ssl},\
SASL_SSL://localhost:{sasl_ssl},SASL_PLAINTEXT://127.0.0.1:{oauth}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,\
SASL_SSL:SASL_SSL,SASL_PLAINTEXT:SASL_PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs={data}
""" + KAFKA_TEST_DEFAULTS.format(offsets_partitions=2) + """\
ssl.keystore.type=PEM
ssl.keystore.location={keystore}
ssl.truststore.type=PEM
ssl.truststore.location={ca}
listener.name.ssl.ssl.client.auth=required
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER
listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=\
org.apache.kafka.common.security.plain.PlainLoginModule required user_{user}="{password}";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=\
org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=\
org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-256.connections.max.reauth.ms={reauth}
listener.name.sasl_plaintext.sasl.enabled.mechanisms=OAUTHBEARER
listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config=\
org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
unsecuredLoginStringClaim_sub="admin";
listener.name.sasl_plaintext.oauthbearer.connections.max.reauth.ms={reauth}
"""


class SecureKafka:
    def __init__(self, libs: Path, base: Path):
        self.base = base
        self.certs = make_certs(base)
        ports = set()
        while len(ports) < 5:
            ports.add(free_port())
        self.plain, self.ctrl, self.ssl, self.sasl_ssl, self.oauth = sorted(ports)
        self.bootstrap = f"127.0.0.1:{self.plain}"
        config = base / "server.properties"
        config.write_text(SERVER_PROPERTIES.format(
            plain=self.plain, ctrl=self.ctrl, ssl=self.ssl, sasl_ssl=self.sasl_ssl,
            oauth=self.oauth, data=base / "data", keystore=self.certs["keystore"],
            ca=self.certs["ca"], user=USER, password=PASSWORD, reauth=REAUTH_MS))
        format_kraft_storage(
            libs, config,
            "--add-scram", f"SCRAM-SHA-256=[name={USER},password={PASSWORD}]",
            "--add-scram", f"SCRAM-SHA-512=[name={USER},password={PASSWORD}]")
        self.process = ManagedProcess(
            "Apache Kafka (secured)", java_cmd(libs, "kafka.Kafka", [str(config)], heap="512m"),
            base / "kafka.log", base)

    def start(self) -> None:
        self.process.spawn()

        def ready():
            self.process.check_alive()
            if not all(port_open("127.0.0.1", p)
                       for p in (self.plain, self.ssl, self.sasl_ssl, self.oauth)):
                return False
            return kcat_broker_count(self.bootstrap) == 1

        self.process.wait_ready(ready, 120, "secured Apache Kafka", interval=0.2)

    def log_text(self) -> str:
        return self.process.log_text()

    # librdkafka-style client properties for each listener.
    def ssl_conf(self, **extra) -> dict:
        return {"bootstrap.servers": f"localhost:{self.ssl}", "security.protocol": "ssl",
                "ssl.ca.location": self.certs["ca"],
                "ssl.certificate.location": self.certs["client_cert"],
                "ssl.key.location": self.certs["client_key"],
                "ssl.key.password": KEY_PASSWORD, **extra}

    def sasl_conf(self, mechanism: str, password: str = PASSWORD, **extra) -> dict:
        return {"bootstrap.servers": f"localhost:{self.sasl_ssl}",
                "security.protocol": "sasl_ssl", "ssl.ca.location": self.certs["ca"],
                "sasl.mechanisms": mechanism, "sasl.username": USER,
                "sasl.password": password, **extra}

    def oauth_conf(self, **extra) -> dict:
        return {"bootstrap.servers": f"127.0.0.1:{self.oauth}",
                "security.protocol": "sasl_plaintext", "sasl.mechanisms": "OAUTHBEARER",
                "enable.sasl.oauthbearer.unsecure.jwt": "true",
                "sasl.oauthbearer.config": "principal=admin", **extra}

    def close(self) -> None:
        self.process.terminate(30)


@pytest.fixture(scope="module")
def secure_kafka(kafka_libs, tmp_path_factory):
    for tool in ("kcat", "openssl"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed")
    k = SecureKafka(kafka_libs, tmp_path_factory.mktemp("secure-kafka"))
    try:
        k.start()
        yield k
    finally:
        k.close()


@pytest.fixture
def sec_topic(secure_kafka, topic):
    create_topic(secure_kafka.bootstrap, topic, partitions=1)
    return topic


# --------------------------------------------------------------------------------------------
# The kafkars command (client core)
# --------------------------------------------------------------------------------------------


def cli(conf: dict, *args: str, input: bytes | None = None, timeout: float = 60):
    argv = [str(kafkars_bin()), *args, "-b", conf["bootstrap.servers"],
            "--request-timeout-ms", "10000"]
    for k, v in conf.items():
        if k != "bootstrap.servers":
            argv += ["-X", f"{k}={v}"]
    return subprocess.run(argv, input=input, capture_output=True, timeout=timeout,
                          stdin=None if input is not None else subprocess.DEVNULL)


def cli_round_trip(conf: dict, topic: str, n: int = 20) -> list:
    lines = [f"{topic}-{i}".encode() for i in range(n)]
    p = cli(conf, "produce", topic, input=b"\n".join(lines) + b"\n")
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    c = cli(conf, "consume", topic, "--from-beginning", "--max-messages", str(n))
    assert c.returncode == 0, c.stderr.decode(errors="replace")
    assert c.stdout.splitlines() == lines
    return lines


def confluent_consume(conf: dict, topic: str, n: int, timeout: float = 30) -> list:
    from confluent_kafka import Consumer

    c = Consumer({**conf, "group.id": f"g-{uuid.uuid4().hex[:8]}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    try:
        c.subscribe([topic])
        got, deadline = [], time.monotonic() + timeout
        while len(got) < n and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is not None and m.error() is None:
                got.append(m.value())
        return got
    finally:
        c.close()


def test_ssl_mutual_tls_round_trip(secure_kafka, sec_topic):
    """TLS with a client certificate (encrypted PKCS#8 key + ssl.key.password); librdkafka
    reads what we wrote."""
    conf = secure_kafka.ssl_conf()
    lines = cli_round_trip(conf, sec_topic)
    assert confluent_consume(conf, sec_topic, len(lines)) == lines


def test_ssl_ca_pem_and_key_pem(secure_kafka, sec_topic):
    """The same with certificates given inline (ssl.ca.pem, ssl.certificate.pem, ssl.key.pem)."""
    c = secure_kafka.certs
    conf = {"bootstrap.servers": f"localhost:{secure_kafka.ssl}", "security.protocol": "ssl",
            "ssl.ca.pem": Path(c["ca"]).read_text(),
            "ssl.certificate.pem": Path(c["client_cert"]).read_text(),
            "ssl.key.pem": Path(c["client_key_plain"]).read_text()}
    cli_round_trip(conf, sec_topic, n=3)


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_ssl_round_trip(secure_kafka, sec_topic, mechanism):
    conf = secure_kafka.sasl_conf(mechanism)
    lines = cli_round_trip(conf, sec_topic)
    assert confluent_consume(conf, sec_topic, len(lines)) == lines


def test_oauthbearer_unsecured_jwt_round_trip(secure_kafka, sec_topic):
    conf = secure_kafka.oauth_conf(**{
        "sasl.oauthbearer.config": "principal=admin lifeSeconds=600 extension_traceId=abc"})
    cli_round_trip(conf, sec_topic)


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-512"])
def test_wrong_password_is_an_authentication_error(secure_kafka, sec_topic, mechanism):
    conf = secure_kafka.sasl_conf(mechanism, password="not-the-password")
    t0 = time.monotonic()
    p = cli(conf, "produce", sec_topic, input=b"x\n", timeout=FAIL_WITHIN + 10)
    took = time.monotonic() - t0
    err = p.stderr.decode(errors="replace")
    assert p.returncode != 0
    assert "SASL authentication error" in err and "Authentication failed" in err, err
    assert took < FAIL_WITHIN, f"took {took:.1f}s"


def test_untrusted_ca_is_a_tls_error(secure_kafka, sec_topic):
    conf = secure_kafka.ssl_conf(**{"ssl.ca.location": secure_kafka.certs["other_ca"]})
    t0 = time.monotonic()
    p = cli(conf, "produce", sec_topic, input=b"x\n", timeout=FAIL_WITHIN + 10)
    err = p.stderr.decode(errors="replace")
    assert p.returncode != 0
    assert "SSL handshake failed" in err and "certificate verify failed" in err, err
    assert time.monotonic() - t0 < FAIL_WITHIN
    # With verification off the same CA mismatch is accepted (as librdkafka's
    # enable.ssl.certificate.verification=false).
    ok = secure_kafka.ssl_conf(**{"ssl.ca.location": secure_kafka.certs["other_ca"],
                                  "enable.ssl.certificate.verification": "false"})
    cli_round_trip(ok, sec_topic, n=2)


def test_hostname_verification(secure_kafka, sec_topic):
    """The certificate names DNS:localhost only: 127.0.0.1 fails verification unless
    ssl.endpoint.identification.algorithm=none."""
    conf = secure_kafka.ssl_conf(**{"bootstrap.servers": f"127.0.0.1:{secure_kafka.ssl}"})
    p = cli(conf, "produce", sec_topic, input=b"x\n", timeout=FAIL_WITHIN + 10)
    err = p.stderr.decode(errors="replace")
    assert p.returncode != 0
    assert "certificate verify failed" in err and "does not match host" in err, err
    cli_round_trip({**conf, "ssl.endpoint.identification.algorithm": "none"}, sec_topic, n=2)


def test_certificate_revocation_list(secure_kafka, sec_topic):
    certs = secure_kafka.certs
    cli_round_trip(secure_kafka.ssl_conf(**{"ssl.crl.location": certs["crl_empty"]}), sec_topic,
                   n=2)
    conf = secure_kafka.ssl_conf(**{"ssl.crl.location": certs["crl_revoked"]})
    p = cli(conf, "produce", sec_topic, input=b"x\n", timeout=FAIL_WITHIN + 10)
    err = p.stderr.decode(errors="replace")
    assert p.returncode != 0
    assert "certificate verify failed" in err and "revoked" in err.lower(), err


def test_plaintext_client_on_tls_listener_fails_fast(secure_kafka, sec_topic):
    conf = {"bootstrap.servers": f"localhost:{secure_kafka.ssl}"}
    t0 = time.monotonic()
    p = cli(conf, "produce", sec_topic, input=b"x\n", timeout=FAIL_WITHIN + 10)
    assert p.returncode != 0
    assert time.monotonic() - t0 < FAIL_WITHIN


def established_ports(remote_port: int, pid: int) -> set:
    """Local ports of this process's established TCP connections to ``remote_port``."""
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            local, remote, state, inode = f[1], f[2], f[3], f[9]
            if state == "01" and int(remote.rsplit(":", 1)[1], 16) == remote_port \
                    and inode in inodes:
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


@pytest.mark.parametrize("listener", ["oauthbearer", "scram-sha-256"])
def test_reauthentication_keeps_the_connection(secure_kafka, sec_topic, listener):
    """Sessions on these listeners last 3 s (connections.max.reauth.ms); Kafka closes a
    connection used after that. A producer sending for ~8 s must re-authenticate in place
    (KIP-368): same TCP connection throughout, every message delivered."""
    if listener == "oauthbearer":
        conf, port = secure_kafka.oauth_conf(), secure_kafka.oauth
    else:
        conf, port = secure_kafka.sasl_conf("SCRAM-SHA-256"), secure_kafka.sasl_ssl
    argv = [str(kafkars_bin()), "produce", sec_topic, "-b", conf["bootstrap.servers"]]
    for k, v in conf.items():
        if k != "bootstrap.servers":
            argv += ["-X", f"{k}={v}"]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    lines, seen, history, t0 = [], set(), [], time.monotonic()
    try:
        deadline = time.monotonic() + REAUTH_MS / 1000 * 2.7
        i = 0
        while time.monotonic() < deadline:
            line = f"reauth-{i}".encode()
            proc.stdin.write(line + b"\n")
            proc.stdin.flush()
            lines.append(line)
            i += 1
            time.sleep(0.2)  # pacing the producer, not waiting for a state
            if proc.poll() is not None:
                break
            now = established_ports(port, proc.pid)
            if now and (not history or history[-1][1] != now):
                history.append((round(time.monotonic() - t0, 2), now))
            if time.monotonic() - t0 > 1.0:  # after start-up (the CLI's metadata lookup
                seen |= now                     # uses a connection of its own)
        _, err = proc.communicate(timeout=30)  # closes stdin: the producer flushes, exits
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0, err.decode(errors="replace")
    assert err.strip() == b"", err.decode(errors="replace")
    assert len(seen) == 1, f"connections to the broker over time (s, local ports): {history}"
    c = cli(conf, "consume", sec_topic, "--from-beginning", "--max-messages", str(len(lines)))
    assert c.returncode == 0, c.stderr.decode(errors="replace")
    assert c.stdout.splitlines() == lines


def test_bad_security_config_fails_at_creation(secure_kafka, sec_topic):
    for conf, needle in [
        (secure_kafka.ssl_conf(**{"ssl.ca.location": "/nonexistent/ca.pem"}), "ssl.ca.location"),
        (secure_kafka.ssl_conf(**{"ssl.key.password": "wrong"}), "decrypt"),
        (secure_kafka.sasl_conf("GSSAPI"), "GSSAPI"),
        (secure_kafka.oauth_conf(**{"sasl.oauthbearer.config": "scope=x"}), "principal"),
    ]:
        p = cli(conf, "produce", sec_topic, input=b"x\n", timeout=FAIL_WITHIN)
        assert p.returncode != 0
        assert needle in p.stderr.decode(errors="replace"), p.stderr


# --------------------------------------------------------------------------------------------
# kafkars.so
# --------------------------------------------------------------------------------------------


PHP_ROUND_TRIP = r"""<?php
$conf_in = json_decode(getenv('CONF'), true);
$topic = getenv('TOPIC');
$oauth = getenv('OAUTH_CB') === '1';
$errors = [];
$refreshes = 0;
$conf = new RdKafka\Conf();
foreach ($conf_in as $k => $v) { $conf->set($k, $v); }
$conf->setErrorCb(function ($kafka, $err, $reason) use (&$errors) {
    $errors[] = [$err, $reason];
});
if ($oauth) {
    $conf->setOauthbearerTokenRefreshCb(function ($kafka, $config) use (&$refreshes) {
        $refreshes++;
        $b64 = fn($s) => rtrim(strtr(base64_encode($s), '+/', '-_'), '=');
        $exp = time() + 60;
        $jwt = $b64('{"alg":"none"}') . '.' . $b64(json_encode(['sub' => 'php-admin', 'iat' => time(), 'exp' => $exp])) . '.';
        $kafka->oauthbearerSetToken($jwt, $exp * 1000, 'php-admin', ['traceId' => 'php']);
    });
}
$p = new RdKafka\Producer($conf);
$t = $p->newTopic($topic);
for ($i = 0; $i < 10; $i++) { $t->produce(RD_KAFKA_PARTITION_UA, 0, "php-$i"); $p->poll(0); }
$flushed = $p->flush(20000);
if ($oauth) {
    // php-rdkafka's KafkaConsumer has no oauthbearerSetToken(): the consumer side uses the
    // built-in unsecured-JWT handler instead of the callback.
    $conf = new RdKafka\Conf();
    foreach ($conf_in as $k => $v) { $conf->set($k, $v); }
    $conf->set('enable.sasl.oauthbearer.unsecure.jwt', 'true');
    $conf->set('sasl.oauthbearer.config', 'principal=php-consumer');
}
$conf->set('group.id', 'php-' . bin2hex(random_bytes(4)));
$conf->set('auto.offset.reset', 'earliest');
$c = new RdKafka\KafkaConsumer($conf);
$c->subscribe([$topic]);
$got = [];
$deadline = microtime(true) + (float)(getenv('CONSUME_SECS') ?: 20);
while (count($got) < 10 && microtime(true) < $deadline) {
    $m = $c->consume(500);
    if ($m->err === RD_KAFKA_RESP_ERR_NO_ERROR) { $got[] = $m->payload; }
}
$c->close();
echo json_encode(['flush' => $flushed, 'got' => $got, 'errors' => $errors,
                  'refreshes' => $refreshes]), "\n";
"""


def php_run(ext: Path, script: Path, conf: dict, topic: str, oauth_cb: bool = False,
            timeout: float = 60, consume_secs: float = 20) -> dict:
    env = dict(os.environ, CONF=json.dumps(conf), TOPIC=topic, OAUTH_CB="1" if oauth_cb else "0",
               CONSUME_SECS=str(consume_secs))
    p = subprocess.run(["php", "-n", "-d", f"extension={ext}", str(script)], env=env,
                       capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def php_script(tmp_path_factory):
    ext = php_ext()
    if ext is None or shutil.which("php") is None:
        pytest.skip("php or kafkars.so not available")
    script = tmp_path_factory.mktemp("php") / "round_trip.php"
    script.write_text(PHP_ROUND_TRIP)
    return ext, script


@pytest.mark.parametrize("listener", ["ssl", "scram-sha-512", "oauthbearer-unsecured-jwt"])
def test_php_round_trip(secure_kafka, sec_topic, php_script, listener):
    ext, script = php_script
    conf = {"ssl": secure_kafka.ssl_conf(),
            "scram-sha-512": secure_kafka.sasl_conf("SCRAM-SHA-512"),
            "oauthbearer-unsecured-jwt": secure_kafka.oauth_conf()}[listener]
    out = php_run(ext, script, conf, sec_topic)
    assert out["flush"] == 0, out
    assert out["got"] == [f"php-{i}" for i in range(10)], out


def test_php_oauthbearer_token_refresh_callback(secure_kafka, sec_topic, php_script):
    """The application's refresh callback runs on the PHP thread (from poll/flush/consume) and
    its oauthbearerSetToken() token is what the broker accepts."""
    ext, script = php_script
    conf = {"bootstrap.servers": f"127.0.0.1:{secure_kafka.oauth}",
            "security.protocol": "sasl_plaintext", "sasl.mechanisms": "OAUTHBEARER",
            "sasl.oauthbearer.config": "anything"}
    out = php_run(ext, script, conf, sec_topic, oauth_cb=True)
    assert out["flush"] == 0, out
    assert out["got"] == [f"php-{i}" for i in range(10)], out
    assert out["refreshes"] >= 1, out


def test_php_wrong_password_error_callback(secure_kafka, sec_topic, php_script):
    ext, script = php_script
    conf = secure_kafka.sasl_conf("SCRAM-SHA-256", password="wrong", **{
        "message.timeout.ms": "3000"})
    t0 = time.monotonic()
    out = php_run(ext, script, conf, sec_topic, timeout=90, consume_secs=3)
    assert out["got"] == []
    assert out["flush"] == 0  # every message failed (timed out) and was reported
    codes = {e[0] for e in out["errors"]}
    assert -169 in codes, out["errors"]  # RD_KAFKA_RESP_ERR__AUTHENTICATION
    assert any("Authentication failed" in e[1] for e in out["errors"]), out["errors"]
    assert time.monotonic() - t0 < 60
