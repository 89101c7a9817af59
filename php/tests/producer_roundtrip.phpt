--TEST--
Producer: produce/producev round trip with binary payloads, null payload/key, headers, timestamp and opaque in delivery reports
--SKIPIF--
<?php require __DIR__ . '/skipif_broker.inc';
--FILE--
<?php
$topicName = 'phpt_roundtrip_' . getmypid() . '_' . mt_rand();
$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', getenv('KAFKARS_BROKERS'));
$reports = [];
$conf->setDrMsgCb(function (RdKafka\Producer $k, RdKafka\Message $m) use (&$reports) { $reports[] = $m; });
$p = new RdKafka\Producer($conf);
$t = $p->newTopic($topicName);
$t->producev(0, 0, "a\0b\xff", "k\0", ['h1' => 'v1', 'h2' => "x\0y"], 1700000000123, 'opaque-1');
$t->produce(0, 0, null, null, 'opaque-2');
$t->produce(RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_BLOCK, 'ua');
var_dump($p->getOutQLen());
var_dump($p->flush(10000) === RD_KAFKA_RESP_ERR_NO_ERROR, $p->getOutQLen());
var_dump(count($reports));
[$a, $b, $c] = $reports;
var_dump($a->err, $a->topic_name === $topicName, $a->partition, $a->offset, $a->payload === "a\0b\xff", $a->len, $a->key === "k\0", $a->headers === ['h1' => 'v1', 'h2' => "x\0y"], $a->timestamp, $a->opaque);
var_dump($b->offset, $b->payload, $b->key, $b->len, $b->opaque);
var_dump($c->offset, $c->payload, $c->key, $c->opaque, $c->errstr());
$p->queryWatermarkOffsets($topicName, 0, $lo, $hi, 5000);
var_dump($lo, $hi);
$md = $p->getMetadata(false, $t, 5000);
foreach ($md->getTopics() as $topic) {
    var_dump($topic->getTopic() === $topicName, $topic->getErr(), count($topic->getPartitions()));
    foreach ($topic->getPartitions() as $part) { var_dump($part->getId(), $part->getLeader() >= 0, count($part->getReplicas()) >= 1); }
}
var_dump(count($md->getBrokers()) >= 1);
var_dump($p->poll(0));
--EXPECT--
int(3)
bool(true)
int(0)
int(3)
int(0)
bool(true)
int(0)
int(0)
bool(true)
int(4)
bool(true)
bool(true)
int(1700000000123)
string(8) "opaque-1"
int(1)
NULL
NULL
NULL
string(8) "opaque-2"
int(2)
string(2) "ua"
NULL
NULL
string(7) "Success"
int(0)
int(3)
bool(true)
int(0)
int(1)
int(0)
bool(true)
bool(true)
bool(true)
int(0)
