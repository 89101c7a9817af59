--TEST--
KafkaConsumer: commitAsync() results reach setOffsetCommitCb inside consume()
--SKIPIF--
<?php require __DIR__ . '/skipif_broker.inc';
--FILE--
<?php
require __DIR__ . '/broker_tools.inc';
$topic = kafkars_topic('phpt_occb');
kafkars_produce($topic, [0 => ['x', 'y']]);
$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', getenv('KAFKARS_BROKERS'));
$conf->set('group.id', "g_$topic");
$conf->set('auto.offset.reset', 'earliest');
$conf->set('enable.auto.commit', 'false');
$commits = [];
$conf->setOffsetCommitCb(function (RdKafka\KafkaConsumer $k, int $err, array $partitions) use (&$commits) {
    foreach ($partitions as $tp) $commits[] = [$err, $tp->getTopic(), $tp->getPartition(), $tp->getOffset()];
});
$c = new RdKafka\KafkaConsumer($conf);
$c->assign([new RdKafka\TopicPartition($topic, 0, RD_KAFKA_OFFSET_BEGINNING)]);
$deadline = microtime(true) + 15;
$m = null;
do { $m = $c->consume(500); } while ($m->err !== RD_KAFKA_RESP_ERR_NO_ERROR && microtime(true) < $deadline);
var_dump($m->payload);
$c->commitAsync($m);
while (!$commits && microtime(true) < $deadline) $c->consume(200);
var_dump($commits[0][0], $commits[0][1] === $topic, $commits[0][2], $commits[0][3]);
$off = $c->getCommittedOffsets([new RdKafka\TopicPartition($topic, 0)], 5000);
var_dump($off[0]->getOffset());
$pos = $c->getOffsetPositions([new RdKafka\TopicPartition($topic, 0)]);
var_dump($pos[0]->getOffset() >= 1);
$c->close();
--EXPECT--
string(1) "x"
int(0)
bool(true)
int(0)
int(1)
int(1)
bool(true)
