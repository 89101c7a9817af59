--TEST--
OAUTHBEARER: the token refresh callback runs inside poll() with sasl.oauthbearer.config; oauthbearerSetToken()/oauthbearerSetTokenFailure() validate like librdkafka (no broker needed)
--FILE--
<?php
function jwt(int $exp): string {
    $b64 = fn($s) => rtrim(strtr(base64_encode($s), '+/', '-_'), '=');
    return $b64('{"alg":"none"}') . '.' . $b64(json_encode(['sub' => 'alice', 'exp' => $exp])) . '.';
}
function attempt(callable $f): string {
    try { $f(); return 'ok'; } catch (RdKafka\Exception $e) { return $e->getCode() . ' ' . $e->getMessage(); }
}
$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', '127.0.0.1:1');
$conf->set('security.protocol', 'SASL_PLAINTEXT');
$conf->set('sasl.mechanism', 'OAUTHBEARER');
$conf->set('sasl.oauthbearer.config', 'principal=alice scope=test');
$calls = [];
$conf->setOauthbearerTokenRefreshCb(function ($kafka, $config) use (&$calls) {
    $calls[] = [get_class($kafka), $config];
    $kafka->oauthbearerSetToken(jwt(time() + 60), (time() + 60) * 1000, 'alice', ['traceId' => 'abc']);
});
$p = new RdKafka\Producer($conf);
$deadline = microtime(true) + 5;
while (!$calls && microtime(true) < $deadline) $p->poll(50);
var_dump($calls);

echo attempt(fn() => $p->oauthbearerSetToken(jwt(time() - 10), (time() - 10) * 1000, 'alice')), "\n";
echo attempt(fn() => $p->oauthbearerSetToken('', (time() + 60) * 1000, 'alice')), "\n";
echo attempt(fn() => $p->oauthbearerSetToken(jwt(time() + 60), (time() + 60) * 1000, 'alice', ['auth' => 'x'])), "\n";
echo attempt(fn() => $p->oauthbearerSetToken(jwt(time() + 60), (time() + 60) * 1000, 'alice', ['a1' => 'x'])), "\n";
echo attempt(fn() => $p->oauthbearerSetTokenFailure('')), "\n";
echo attempt(fn() => $p->oauthbearerSetTokenFailure('identity provider down')), "\n";

$plainConf = new RdKafka\Conf();
$plainConf->set('log_level', '0'); // no CONFWARN line for the missing bootstrap.servers
$plain = new RdKafka\Producer($plainConf);
echo attempt(fn() => $plain->oauthbearerSetToken(jwt(time() + 60), (time() + 60) * 1000, 'alice')), "\n";

$both = new RdKafka\Conf();
$both->set('security.protocol', 'sasl_plaintext');
$both->set('sasl.mechanisms', 'OAUTHBEARER');
$both->set('enable.sasl.oauthbearer.unsecure.jwt', 'true');
$both->set('sasl.oauthbearer.config', 'principal=alice');
$both->setOauthbearerTokenRefreshCb(function () {});
echo attempt(fn() => new RdKafka\Producer($both)), "\n";

$gssapi = new RdKafka\Conf();
$gssapi->set('security.protocol', 'sasl_ssl');
echo attempt(fn() => new RdKafka\Producer($gssapi)), "\n";
--EXPECTF--
array(1) {
  [0]=>
  array(2) {
    [0]=>
    string(16) "RdKafka\Producer"
    [1]=>
    string(26) "principal=alice scope=test"
  }
}
-186 Must supply an unexpired token: now=%dms, exp=%dms
ok
-186 Cannot explicitly set the reserved `auth` SASL/OAUTHBEARER extension key
-186 SASL/OAUTHBEARER extension keys must only consist of A-Z or a-z characters: a1 (1)
-186 
ok
-172 SASL/OAUTHBEARER is not the configured authentication mechanism
0 `enable.sasl.oauthbearer.unsecure.jwt` and `oauthbearer_token_refresh_cb` are mutually exclusive
0 sasl.mechanisms=GSSAPI (Kerberos) is not supported by kafkars: use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER
