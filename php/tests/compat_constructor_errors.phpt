--TEST--
Client constructors refuse inconsistent configurations as php-rdkafka does: RdKafka\Exception with librdkafka's text and code 0
--SKIPIF--
<?php if (!extension_loaded('rdkafka')) die('skip rdkafka (kafkars) not loaded');
--FILE--
<?php
function attempt(string $what, array $settings): void {
    $conf = new RdKafka\Conf();
    $conf->set('bootstrap.servers', '127.0.0.1:1');
    $conf->set('log_level', '0');
    foreach ($settings as $k => $v) $conf->set($k, $v);
    try {
        new RdKafka\Producer($conf);
        echo "$what: created\n";
    } catch (RdKafka\Exception $e) {
        printf("%s: %s: %s (%d)\n", $what, get_class($e), $e->getMessage(), $e->getCode());
    }
}
attempt('idempotence with acks=1', ['enable.idempotence' => 'true', 'acks' => '1']);
attempt('idempotence with acks=all', ['enable.idempotence' => 'true', 'acks' => 'all']);
$txn = ['transactional.id' => 'phpt-ctor', 'transaction.timeout.ms' => '60000'];
attempt('message.timeout.ms above transaction.timeout.ms', $txn + ['message.timeout.ms' => '600000']);
attempt('message.timeout.ms equal to transaction.timeout.ms', $txn + ['message.timeout.ms' => '60000']);
attempt('message.timeout.ms 0 (none) with transactions', $txn + ['message.timeout.ms' => '0']);
attempt('default message.timeout.ms with transactions', $txn);
?>
--EXPECT--
idempotence with acks=1: RdKafka\Exception: `acks` must be set to `all` when `enable.idempotence` is true (0)
idempotence with acks=all: created
message.timeout.ms above transaction.timeout.ms: RdKafka\Exception: `message.timeout.ms` must be set <= `transaction.timeout.ms` (0)
message.timeout.ms equal to transaction.timeout.ms: created
message.timeout.ms 0 (none) with transactions: created
default message.timeout.ms with transactions: created
