--TEST--
php-rdkafka parity: starting a partition the same low-level Consumer already consumes throws; after consumeStop() it can start again
--SKIPIF--
<?php if (!extension_loaded('rdkafka')) die('skip rdkafka (kafkars) not loaded');
--FILE--
<?php
$conf = new RdKafka\Conf();
$conf->set('log_level', '0'); // no default stderr logger lines (librdkafka prints them)
$conf->set('bootstrap.servers', '127.0.0.1:1');
$consumer = new RdKafka\Consumer($conf);
$topic = $consumer->newTopic('twice');
$queue = $consumer->newQueue();
$calls = [
    'start p0' => fn() => $topic->consumeStart(0, 0),
    'start p0 again' => fn() => $topic->consumeStart(0, 5),
    'queue start p0' => fn() => $topic->consumeQueueStart(0, 0, $queue),
    'queue start p1' => fn() => $topic->consumeQueueStart(1, 0, $queue),
    'queue start p1 again' => fn() => $topic->consumeQueueStart(1, 0, $queue),
    'start p1' => fn() => $topic->consumeStart(1, 0),
    'other topic p0' => fn() => $consumer->newTopic('twice_other')->consumeStart(0, 0),
    'stop p0' => fn() => $topic->consumeStop(0),
    'start p0 after stop' => fn() => $topic->consumeStart(0, 0),
];
foreach ($calls as $label => $call) {
    try {
        var_dump($call());
        echo "$label: ok\n";
    } catch (RdKafka\Exception $e) {
        echo "$label: ", $e->getCode(), ' ', $e->getMessage(), "\n";
    }
}
?>
--EXPECT--
NULL
start p0: ok
start p0 again: 0 twice:0 is already being consumed by the same Consumer instance
queue start p0: 0 twice:0 is already being consumed by the same Consumer instance
NULL
queue start p1: ok
queue start p1 again: 0 twice:1 is already being consumed by the same Consumer instance
start p1: 0 twice:1 is already being consumed by the same Consumer instance
NULL
other topic p0: ok
NULL
stop p0: ok
NULL
start p0 after stop: ok
