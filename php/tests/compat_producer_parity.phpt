--TEST--
php-rdkafka parity: producev() headers end at the first integer key, array header values warn; Producer::pausePartitions(); TypeError text for an argument of the wrong class
--SKIPIF--
<?php require __DIR__ . '/skipif_broker.inc';
--FILE--
<?php
require __DIR__ . '/broker_tools.inc';
$topicName = kafkars_topic('compat_headers');

$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', getenv('KAFKARS_BROKERS'));
$producer = new RdKafka\Producer($conf);
$topic = $producer->newTopic($topicName);
$producer->getMetadata(false, $topic, 10000);

$topic->producev(0, 0, 'list', null, ['key']);
$topic->producev(0, 0, 'stops', null, ['a' => '1', 0 => 'x', 'b' => '2']);
$topic->producev(0, 0, 'array value', null, ['arr' => [1], 'n' => 5]);
var_dump($producer->flush(10000));

// Pausing on a producer answers every partition without error, as librdkafka does.
foreach ($producer->pausePartitions([new RdKafka\TopicPartition($topicName, 0)]) as $tp) {
    var_dump($tp->getTopic() === $topicName, $tp->getPartition(), $tp->getErr());
}
var_dump(count($producer->resumePartitions([new RdKafka\TopicPartition($topicName, 0)])));

try {
    $conf->setDefaultTopicConf($conf);
} catch (TypeError $e) {
    echo $e->getMessage(), "\n";
}
try {
    new RdKafka\Producer(new RdKafka\TopicConf());
} catch (TypeError $e) {
    echo $e->getMessage(), "\n";
}

$cconf = new RdKafka\Conf();
$cconf->set('bootstrap.servers', getenv('KAFKARS_BROKERS'));
$consumer = new RdKafka\Consumer($cconf);
$ctopic = $consumer->newTopic($topicName);
$ctopic->consumeStart(0, RD_KAFKA_OFFSET_BEGINNING);
$deadline = microtime(true) + 20;
$seen = 0;
while ($seen < 3 && microtime(true) < $deadline) {
    $m = $ctopic->consume(0, 500);
    if ($m === null || $m->err) continue;
    $seen++;
    echo $m->payload, ': ', json_encode($m->headers), "\n";
}
$ctopic->consumeStop(0);
?>
--EXPECTF--
Warning: %AArray to string conversion in %s on line %d
int(0)
bool(true)
int(0)
int(0)
int(1)

Deprecated: Method RdKafka\Conf::setDefaultTopicConf() is deprecated in %s on line %d
RdKafka\Conf::setDefaultTopicConf(): Argument #1 ($topic_conf) must be of type RdKafka\TopicConf, RdKafka\Conf given
RdKafka\Producer::__construct(): Argument #1 ($conf) must be of type ?RdKafka\Conf, RdKafka\TopicConf given
list: []
stops: {"a":"1"}
array value: {"arr":"Array","n":"5"}
