--TEST--
max.poll.interval.ms: a KafkaConsumer not consumed within it leaves the group (partitions revoked as lost), the next consume() returns _MAX_POLL_EXCEEDED, and consuming again rejoins
--SKIPIF--
<?php require __DIR__ . '/skipif_broker.inc';
--FILE--
<?php
require __DIR__ . '/broker_tools.inc';
$topic = kafkars_topic('phpt_maxpoll');
kafkars_produce($topic, [0 => ['a', 'b']]);
$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', getenv('KAFKARS_BROKERS'));
$conf->set('group.id', "g_$topic");
$conf->set('auto.offset.reset', 'earliest');
$conf->set('enable.auto.commit', 'false');
$conf->set('session.timeout.ms', '6000');
$conf->set('max.poll.interval.ms', '6000');
$conf->set('heartbeat.interval.ms', '500');
$events = [];
$conf->setRebalanceCb(function (RdKafka\KafkaConsumer $k, int $err, ?array $parts) use (&$events) {
    $events[] = $err === RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS ? 'assign' : 'revoke';
    $err === RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS ? $k->assign($parts) : $k->assign(null);
});
$logs = [];
$conf->setLogCb(function ($k, $level, $facility, $message) use (&$logs) { $logs[] = "$level $facility"; });
$c = new RdKafka\KafkaConsumer($conf);
$c->subscribe([$topic]);
$deadline = microtime(true) + 15;
do { $m = $c->consume(200); } while ($m->err !== RD_KAFKA_RESP_ERR_NO_ERROR && microtime(true) < $deadline);
var_dump($m->payload);
// A processing step longer than max.poll.interval.ms (the behaviour under test).
usleep(8000000);
$m = $c->consume(1000);
var_dump(rd_kafka_err2name($m->err), $m->errstr(), $m->topic_name, $m->offset);
var_dump(in_array('4 MAXPOLL', $logs, true), $events);
$deadline = microtime(true) + 15;
do { $m = $c->consume(200); } while ($m->err !== RD_KAFKA_RESP_ERR_NO_ERROR && microtime(true) < $deadline);
var_dump($m->err, $events);
$c->close();
--EXPECT--
string(1) "a"
string(18) "_MAX_POLL_EXCEEDED"
string(72) "Local: Maximum application poll interval (max.poll.interval.ms) exceeded"
NULL
int(-1001)
bool(true)
array(1) {
  [0]=>
  string(6) "assign"
}
int(0)
array(3) {
  [0]=>
  string(6) "assign"
  [1]=>
  string(6) "revoke"
  [2]=>
  string(6) "assign"
}
