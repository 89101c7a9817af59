--TEST--
php-rdkafka parity: KafkaConsumer::getCommittedOffsets() with no reachable broker waits out its timeout and throws "Local: Timed out" (-185)
--SKIPIF--
<?php if (!extension_loaded('rdkafka')) die('skip rdkafka (kafkars) not loaded');
--FILE--
<?php
$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', '127.0.0.1:1');
$conf->set('group.id', 'phpt_committed_down');
$conf->set('log_level', '0');
$consumer = new RdKafka\KafkaConsumer($conf);
foreach ([0, 700] as $timeout) {
    $t0 = microtime(true);
    try {
        $consumer->getCommittedOffsets([new RdKafka\TopicPartition('t', 0)], $timeout);
        echo "no exception\n";
    } catch (RdKafka\Exception $e) {
        $took = microtime(true) - $t0;
        printf("timeout %d: %d %s, waited the timeout: %s\n", $timeout, $e->getCode(), $e->getMessage(),
            json_encode($took >= $timeout / 1000 - 0.05 && $took < $timeout / 1000 + 2));
    }
}
?>
--EXPECT--
timeout 0: -185 Local: Timed out, waited the timeout: true
timeout 700: -185 Local: Timed out, waited the timeout: true
