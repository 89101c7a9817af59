--TEST--
php-rdkafka parity with no reachable broker: exceptions carry librdkafka's text for the code (rd_kafka_err2str), getControllerId() returns -1
--SKIPIF--
<?php if (!extension_loaded('rdkafka')) die('skip rdkafka (kafkars) not loaded');
--FILE--
<?php
$conf = new RdKafka\Conf();
$conf->set('log_level', '0'); // no default stderr logger lines (librdkafka prints them)
$conf->set('bootstrap.servers', '127.0.0.1:1');
$producer = new RdKafka\Producer($conf);
var_dump($producer->getControllerId(200));
try {
    $low = $high = 0;
    $producer->queryWatermarkOffsets('unreachable', 0, $low, $high, 200);
} catch (RdKafka\Exception $e) {
    echo $e->getCode(), ' ', $e->getMessage(), "\n";
}
try {
    $producer->offsetsForTimes([new RdKafka\TopicPartition('unreachable', 0, 1)], 200);
} catch (RdKafka\Exception $e) {
    echo $e->getCode(), ' ', $e->getMessage(), "\n";
}
?>
--EXPECT--
int(-1)
-187 Local: All broker connections are down
-187 Local: All broker connections are down
