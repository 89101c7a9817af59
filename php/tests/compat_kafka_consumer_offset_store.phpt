--TEST--
php-rdkafka parity: KafkaConsumerTopic::offsetStore() of a known partition that is not assigned is "Local: Erroneous state" (-172), of an unknown one "Local: Unknown partition" (-190); commit() with only a logical offset stored is "Local: No offset stored" (-168)
--SKIPIF--
<?php require __DIR__ . '/skipif_broker.inc';
require __DIR__ . '/broker_tools.inc';
if (kafkars_cli() === null) die('skip kafkars CLI not built (set KAFKARS_BIN)');
--FILE--
<?php
require __DIR__ . '/broker_tools.inc';
$name = kafkars_topic('phpt_kc_store');
var_dump(kafkars_create_topic($name, 2));

$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', getenv('KAFKARS_BROKERS'));
$conf->set('group.id', $name);
$conf->set('log_level', '0');
$consumer = new RdKafka\KafkaConsumer($conf);
$topic = $consumer->newTopic($name);
$consumer->getMetadata(false, $topic, 10000);

$calls = [
    'store p0, not assigned' => fn() => $topic->offsetStore(0, 5),
    'store p9, unknown' => fn() => $topic->offsetStore(9, 5),
    'assign p0' => fn() => $consumer->assign([new RdKafka\TopicPartition($name, 0, 0)]),
    'store p1, not assigned' => fn() => $topic->offsetStore(1, 1),
    'store p0 logical' => fn() => $topic->offsetStore(0, -2),
    'commit' => fn() => $consumer->commit(),
    'store p0 at 1' => fn() => $topic->offsetStore(0, 1),
    'commit again' => fn() => $consumer->commit(),
    'committed' => fn() => $consumer->getCommittedOffsets([new RdKafka\TopicPartition($name, 0)], 10000)[0]->getOffset(),
];
foreach ($calls as $label => $call) {
    try {
        $result = json_encode($call());
        echo "$label: $result\n";
    } catch (RdKafka\Exception $e) {
        echo "$label: ", $e->getCode(), ' ', $e->getMessage(), "\n";
    }
}
$consumer->close();
?>
--EXPECT--
bool(true)
store p0, not assigned: -172 Local: Erroneous state
store p9, unknown: -190 Local: Unknown partition
assign p0: null
store p1, not assigned: -172 Local: Erroneous state
store p0 logical: null
commit: -168 Local: No offset stored
store p0 at 1: null
commit again: null
committed: 2
