--TEST--
Seed scripts: the php-rdkafka producer and the KafkaConsumer with Assign/Revoke callbacks run unchanged
--SKIPIF--
<?php require __DIR__ . '/skipif_broker.inc';
--FILE--
<?php
require __DIR__ . '/broker_tools.inc';
$topic = kafkars_topic('phpt_seed');
$so = null;
foreach (file('/proc/self/maps') as $line) {
    if (preg_match('#(/\S*(?:kafkars|rdkafka)[^/\s]*\.so)\s*$#', $line, $m)) { $so = $m[1]; break; }
}
$examples = __DIR__ . '/../examples';
$php = escapeshellarg(PHP_BINARY) . ' -n -d extension=' . escapeshellarg($so);
$brokers = escapeshellarg(getenv('KAFKARS_BROKERS'));
exec("$php $examples/seed_producer.php $brokers $topic 2>&1", $out, $rc);
var_dump($rc, count(preg_grep('/^delivered to partition 0 at offset \d+$/', $out)));
exec("timeout 60 $php $examples/seed_consumer.php $brokers $topic 6 2>&1", $cout, $crc);
$text = implode("\n", $cout);
var_dump($crc);
var_dump(substr_count($text, 'Assign: ') >= 1, substr_count($text, 'Revoke: ') >= 1);
var_dump(preg_match_all('/string\(9\) "Message \d"/', $text));
var_dump(str_contains($text, 'No more messages; will wait for more'));
var_dump(strpos($text, 'Assign: ') < strpos($text, 'Message 0'), strrpos($text, 'Revoke: ') > strrpos($text, 'Message 9'));
--EXPECT--
int(0)
int(10)
int(0)
bool(true)
bool(true)
int(10)
bool(true)
bool(true)
bool(true)
