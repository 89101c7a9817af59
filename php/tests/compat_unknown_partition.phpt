--TEST--
php-rdkafka parity: low-level per-partition calls on a partition that is neither started nor in the metadata throw "Local: Unknown partition" (consumeCallback returns -1); offsetStore before any consumeStart is "Local: Erroneous state"
--SKIPIF--
<?php require __DIR__ . '/skipif_broker.inc';
require __DIR__ . '/broker_tools.inc';
if (kafkars_cli() === null) die('skip kafkars CLI not built (set KAFKARS_BIN)');
--FILE--
<?php
require __DIR__ . '/broker_tools.inc';
$name = kafkars_topic('phpt_unknown_part');
var_dump(kafkars_create_topic($name, 2));

$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', getenv('KAFKARS_BROKERS'));
$consumer = new RdKafka\Consumer($conf);
$topic = $consumer->newTopic($name);
$missing = $consumer->newTopic($name . '_missing');

// newTopic() asks for the topic's metadata in the background; its partitions are known
// once it arrives.
$deadline = microtime(true) + 10;
$known = false;
while (!$known && microtime(true) < $deadline) {
    try {
        $topic->consume(1, 50);
        $known = true;
    } catch (RdKafka\Exception $e) {
        usleep(20000);
    }
}
var_dump($known);

$cb = function ($m) { echo "callback\n"; };
$calls = [
    'consume p1, known, not started' => fn() => $topic->consume(1, 10),
    'consume p7' => fn() => $topic->consume(7, 10),
    'consume missing topic' => fn() => $missing->consume(0, 10),
    'consumeBatch p7' => fn() => $topic->consumeBatch(7, 10, 5),
    'consumeBatch missing topic' => fn() => $missing->consumeBatch(0, 10, 5),
    'consumeCallback p7' => fn() => $topic->consumeCallback(7, 10, $cb),
    'consumeCallback missing topic' => fn() => $missing->consumeCallback(0, 10, $cb),
    'consumeCallback p1' => fn() => $topic->consumeCallback(1, 10, $cb),
    'consumeStop p7' => fn() => $topic->consumeStop(7),
    'consumeStop missing topic' => fn() => $missing->consumeStop(0),
    'consumeStop p1, not started' => fn() => $topic->consumeStop(1),
    'offsetStore p0 before any start' => fn() => $topic->offsetStore(0, 5),
    'offsetStore p0 logical before any start' => fn() => $topic->offsetStore(0, -2),
    'offsetStore p7' => fn() => $topic->offsetStore(7, 5),
    'start p0' => fn() => $topic->consumeStart(0, RD_KAFKA_OFFSET_END),
    'offsetStore p1, not started' => fn() => $topic->offsetStore(1, 5),
    'start p9' => fn() => $topic->consumeStart(9, 0),
    'consume p9, started' => fn() => $topic->consume(9, 10),
    'offsetStore p9, started' => fn() => $topic->offsetStore(9, 5),
    'stop p9' => fn() => $topic->consumeStop(9),
    'consume p9 after stop' => fn() => $topic->consume(9, 10),
    'consume p-1 (unassigned)' => fn() => $topic->consume(RD_KAFKA_PARTITION_UA, 10),
];
foreach ($calls as $label => $call) {
    try {
        $result = json_encode($call());
        echo "$label: $result\n";
    } catch (RdKafka\Exception $e) {
        echo "$label: ", get_class($e), ' ', $e->getCode(), ' ', $e->getMessage(), "\n";
    }
}
?>
--EXPECT--
bool(true)
bool(true)
consume p1, known, not started: null
consume p7: RdKafka\Exception -190 Local: Unknown partition
consume missing topic: RdKafka\Exception -190 Local: Unknown partition
consumeBatch p7: RdKafka\Exception -190 Local: Unknown partition
consumeBatch missing topic: RdKafka\Exception -190 Local: Unknown partition
consumeCallback p7: -1
consumeCallback missing topic: -1
consumeCallback p1: 0
consumeStop p7: RdKafka\Exception -190 Local: Unknown partition
consumeStop missing topic: RdKafka\Exception -190 Local: Unknown partition
consumeStop p1, not started: null
offsetStore p0 before any start: RdKafka\Exception -172 Local: Erroneous state
offsetStore p0 logical before any start: null
offsetStore p7: RdKafka\Exception -190 Local: Unknown partition
start p0: null
offsetStore p1, not started: null
start p9: null
consume p9, started: null
offsetStore p9, started: RdKafka\Exception -190 Local: Unknown partition
stop p9: null
consume p9 after stop: RdKafka\Exception -190 Local: Unknown partition
consume p-1 (unassigned): null
