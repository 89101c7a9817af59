--TEST--
KafkaConsumer: an exception thrown in the rebalance callback comes out of consume(); the consumer keeps working
--SKIPIF--
<?php require __DIR__ . '/skipif_broker.inc';
--FILE--
<?php
require __DIR__ . '/broker_tools.inc';
$topic = kafkars_topic('phpt_rbexc');
kafkars_produce($topic, [0 => ['only']]);
$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', getenv('KAFKARS_BROKERS'));
$conf->set('group.id', "g_$topic");
$conf->set('auto.offset.reset', 'earliest');
$calls = 0;
$conf->setRebalanceCb(function (RdKafka\KafkaConsumer $k, int $err, ?array $parts) use (&$calls) {
    $calls++;
    $k->assign($err === RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS ? $parts : null);
    if ($calls === 1) throw new DomainException('thrown from rebalance_cb');
});
$c = new RdKafka\KafkaConsumer($conf);
$c->subscribe([$topic]);
$caught = null;
$payload = null;
$deadline = microtime(true) + 20;
while ($payload === null && microtime(true) < $deadline) {
    try {
        $m = $c->consume(500);
        if ($m->err === RD_KAFKA_RESP_ERR_NO_ERROR) $payload = $m->payload;
    } catch (DomainException $e) {
        $caught = $e->getMessage();
    }
}
var_dump($caught, $payload, count($c->getAssignment()));
$c->close();
--EXPECT--
string(24) "thrown from rebalance_cb"
string(4) "only"
int(1)
