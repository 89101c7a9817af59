--TEST--
Consumer (low level): consumeStart/consume/consumeBatch/consumeCallback, Queue, offsets, null on timeout
--SKIPIF--
<?php require __DIR__ . '/skipif_broker.inc';
require __DIR__ . '/broker_tools.inc';
if (kafkars_cli() === null) die('skip kafkars CLI not built (set KAFKARS_BIN)');
--FILE--
<?php
require __DIR__ . '/broker_tools.inc';
$topic = kafkars_topic('phpt_ll');
var_dump(kafkars_create_topic($topic, 2));
kafkars_produce($topic, [0 => ['a0', 'a1', 'a2', 'a3', 'a4'], 1 => ['b0', 'b1']]);

$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', getenv('KAFKARS_BROKERS'));
$rk = new RdKafka\Consumer($conf);
$t = $rk->newTopic($topic);
var_dump(get_class($t), $t->getName() === $topic);

$t->consumeStart(0, RD_KAFKA_OFFSET_BEGINNING);
$first = null;
$deadline = microtime(true) + 10;
while ($first === null && microtime(true) < $deadline) $first = $t->consume(0, 500);
var_dump($first->payload, $first->offset, $first->partition);
$batch = [];
while (count($batch) < 2 && microtime(true) < $deadline) $batch = array_merge($batch, $t->consumeBatch(0, 1000, 2 - count($batch)));
var_dump(array_map(fn($m) => $m->payload, $batch));
$seen = [];
$n = 0;
while (count($seen) < 2 && microtime(true) < $deadline) {
    $n += $t->consumeCallback(0, 500, function (RdKafka\Message $m) use (&$seen) { if (!$m->err) $seen[] = $m->payload; });
}
var_dump($seen);
$t->offsetStore(0, 4);
$t->consumeStop(0);

// Tail offset on partition 1 through a queue.
$queue = $rk->newQueue();
$t->consumeQueueStart(1, rd_kafka_offset_tail(1), $queue);
$m = null;
while ($m === null && microtime(true) < $deadline) $m = $queue->consume(500);
var_dump($m->payload, $m->partition);
$t->consumeStop(1);

$t->consumeStart(1, RD_KAFKA_OFFSET_END);
$t0 = microtime(true);
$none = $t->consume(1, 300);
var_dump($none === null || $none->err === RD_KAFKA_RESP_ERR__PARTITION_EOF, microtime(true) - $t0 < 3);
$t->consumeStop(1);
try { $t->consumeBatch(0, 100, 0); } catch (InvalidArgumentException $e) { echo $e->getMessage(), "\n"; }
try { $t->consumeStart(-5, 0); } catch (InvalidArgumentException $e) { echo $e->getMessage(), "\n"; }
--EXPECT--
bool(true)
string(21) "RdKafka\ConsumerTopic"
bool(true)
string(2) "a0"
int(0)
int(0)
array(2) {
  [0]=>
  string(2) "a1"
  [1]=>
  string(2) "a2"
}
array(2) {
  [0]=>
  string(2) "a3"
  [1]=>
  string(2) "a4"
}
string(2) "b1"
int(1)
bool(true)
bool(true)
Out of range value '0' for batch_size
Out of range value '-5' for $partition
