--TEST--
php-rdkafka parity: ConsumerTopic::consumeStart(p, RD_KAFKA_OFFSET_STORED) returns at once and resolves the committed offset in the background: with the broker down there is no exception, consume() gives nothing and consumeStop() works
--SKIPIF--
<?php if (!extension_loaded('rdkafka')) die('skip rdkafka (kafkars) not loaded');
--FILE--
<?php
function low_level(string $brokers, string $group): RdKafka\Consumer {
    $conf = new RdKafka\Conf();
    $conf->set('bootstrap.servers', $brokers);
    $conf->set('group.id', $group);
    $conf->set('auto.offset.reset', 'smallest');
    $conf->set('log_level', '0');
    return new RdKafka\Consumer($conf);
}

// Nothing listens on port 1: the committed offset cannot be fetched.
$topic = low_level('127.0.0.1:1', 'phpt_stored_down')->newTopic('stored_down');
$t0 = microtime(true);
$topic->consumeStart(0, RD_KAFKA_OFFSET_STORED);
echo 'consumeStart returned in under a second: ', json_encode(microtime(true) - $t0 < 1), "\n";
var_dump($topic->consume(0, 300));
$topic->consumeStop(0);
echo "stopped\n";
?>
--EXPECT--
consumeStart returned in under a second: true
NULL
stopped
