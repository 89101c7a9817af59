--TEST--
php-rdkafka parity: getAssignment() lists partitions sorted, each with the offset it was assigned at (INVALID as STORED), not the position; assign()/incrementalAssign()/incrementalUnassign() refuse duplicates, bad offsets and conflicts with librdkafka's errors
--SKIPIF--
<?php require __DIR__ . '/skipif_broker.inc';
require __DIR__ . '/broker_tools.inc';
if (kafkars_cli() === null) die('skip kafkars CLI not built (set KAFKARS_BIN)');
--FILE--
<?php
require __DIR__ . '/broker_tools.inc';
$topic = kafkars_topic('phpt_assignment');
var_dump(kafkars_create_topic($topic, 3));
kafkars_produce($topic, [0 => ['a', 'b', 'c']]);

function show(string $label, array $list): void {
    echo "$label: ", implode(' ', array_map(fn($tp) => $tp->getPartition() . '@' . $tp->getOffset(), $list)), "\n";
}
function attempt(string $label, callable $call): void {
    try {
        $call();
        echo "$label: ok\n";
    } catch (RdKafka\Exception $e) {
        echo "$label: ", $e->getCode(), ' ', $e->getMessage(), "\n";
    }
}
$tp = fn(int $p, ?int $offset = null) => $offset === null
    ? new RdKafka\TopicPartition($topic, $p)
    : new RdKafka\TopicPartition($topic, $p, $offset);

$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', getenv('KAFKARS_BROKERS'));
$conf->set('group.id', $topic);
$conf->set('log_level', '0');
$consumer = new RdKafka\KafkaConsumer($conf);

$consumer->assign([$tp(1, 3), $tp(0)]);
show('assign p1@3, p0', $consumer->getAssignment());
$got = 0;
$deadline = microtime(true) + 10;
while ($got < 2 && microtime(true) < $deadline) {
    if ($consumer->consume(500)->err === RD_KAFKA_RESP_ERR_NO_ERROR) $got++;
}
var_dump($got);
show('after consuming two', $consumer->getAssignment());
show('positions', $consumer->getOffsetPositions([$tp(0)]));

$consumer->assign([$tp(0, RD_KAFKA_OFFSET_END), $tp(1, -1001), $tp(2, RD_KAFKA_OFFSET_STORED)]);
show('assign END, INVALID, STORED', $consumer->getAssignment());
attempt('assign with a duplicate', fn() => $consumer->assign([$tp(0, 1), $tp(0, 2)]));
show('after the failed assign', $consumer->getAssignment());
attempt('unassign from empty', fn() => $consumer->incrementalUnassign([$tp(0)]));
attempt('incremental p2@7', fn() => $consumer->incrementalAssign([$tp(2, 7)]));
attempt('incremental p2 again', fn() => $consumer->incrementalAssign([$tp(2, 8)]));
attempt('incremental duplicate', fn() => $consumer->incrementalAssign([$tp(1), $tp(1)]));
attempt('incremental bad offset', fn() => $consumer->incrementalAssign([$tp(1, -5)]));
attempt('incremental tail offset', fn() => $consumer->incrementalAssign([$tp(0, rd_kafka_offset_tail(2))]));
attempt('unassign p1 (not assigned)', fn() => $consumer->incrementalUnassign([$tp(1)]));
show('end', $consumer->getAssignment());
$consumer->close();
?>
--EXPECTF--
bool(true)
assign p1@3, p0: 0@0 1@3
int(2)
after consuming two: 0@0 1@3
positions: 0@2
assign END, INVALID, STORED: 0@-1 1@-1000 2@-1000
assign with a duplicate: -186 Local: Invalid argument or configuration
after the failed assign: 
unassign from empty: 0 Can't subtract from empty assignment
incremental p2@7: ok
incremental p2 again: 0 %s [2] is already part of the current assignment
incremental duplicate: 0 Duplicate %s [1] in input list
incremental bad offset: 0 %s [1] has invalid start offset -5
incremental tail offset: ok
unassign p1 (not assigned): 0 %s [1] can't be unassigned since it is not in the current assignment
end: 0@-2002 2@7
