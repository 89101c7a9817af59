--TEST--
Examples: producer.php spreads JSON messages over the partitions; consumer.php PARTITION reads exactly its partition
--SKIPIF--
<?php require __DIR__ . '/skipif_broker.inc';
require __DIR__ . '/broker_tools.inc';
if (kafkars_cli() === null) die('skip kafkars CLI not built (set KAFKARS_BIN)');
--FILE--
<?php
require __DIR__ . '/broker_tools.inc';
$topic = kafkars_topic('phpt_demo');
var_dump(kafkars_create_topic($topic, 2));
$so = null;
foreach (file('/proc/self/maps') as $line) {
    if (preg_match('#(/\S*(?:kafkars|rdkafka)[^/\s]*\.so)\s*$#', $line, $m)) { $so = $m[1]; break; }
}
$examples = __DIR__ . '/../examples';
$php = escapeshellarg(PHP_BINARY) . ' -n -d extension=' . escapeshellarg($so);
exec("$php $examples/producer.php $topic 10 2>&1", $out, $rc);
var_dump($rc, end($out));
foreach ([0, 1] as $p) {
    $lines = [];
    exec("$php $examples/consumer.php $p $topic 5 15 2>&1", $lines, $rc);
    $payloads = array_map(fn($l) => json_decode(substr($l, strpos($l, ': ') + 2), true), preg_grep('/^partition \d+ offset/', $lines));
    var_dump($rc, count($payloads), array_unique(array_column($payloads, 'partition')) === [$p], end($lines));
}
--EXPECT--
bool(true)
int(0)
string(37) "done: 10 messages over 2 partition(s)"
int(0)
int(5)
bool(true)
string(25) "partition 0: 5 message(s)"
int(0)
int(5)
bool(true)
string(25) "partition 1: 5 message(s)"
