--TEST--
Regex subscription: a "^pattern" subscription is matched against the cluster's topics, and a matching topic created after subscribe() joins the assignment
--SKIPIF--
<?php require __DIR__ . '/skipif_broker.inc';
--FILE--
<?php
require __DIR__ . '/broker_tools.inc';
$prefix = kafkars_topic('phpt_rx');
kafkars_produce("{$prefix}_a", [0 => ['first']]);
kafkars_produce(kafkars_topic('phpt_other'), [0 => ['not matched']]);
$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', getenv('KAFKARS_BROKERS'));
$conf->set('group.id', "g_$prefix");
$conf->set('auto.offset.reset', 'earliest');
$conf->set('topic.metadata.refresh.interval.ms', '500');
$c = new RdKafka\KafkaConsumer($conf);
$c->subscribe(["^{$prefix}_.*"]);
var_dump($c->getSubscription() === ["^{$prefix}_.*"]);
function next_message(RdKafka\KafkaConsumer $c): ?RdKafka\Message {
    $deadline = microtime(true) + 15;
    while (microtime(true) < $deadline) {
        $m = $c->consume(200);
        if ($m->err === RD_KAFKA_RESP_ERR_NO_ERROR) return $m;
    }
    return null;
}
$m = next_message($c);
var_dump($m->topic_name === "{$prefix}_a", $m->payload);
kafkars_produce("{$prefix}_b", [0 => ['second']]);
$m = next_message($c);
var_dump($m->topic_name === "{$prefix}_b", $m->payload);
$topics = array_map(fn($tp) => $tp->getTopic(), $c->getAssignment());
sort($topics);
var_dump($topics === ["{$prefix}_a", "{$prefix}_b"]);
$c->close();
--EXPECT--
bool(true)
bool(true)
string(5) "first"
bool(true)
string(6) "second"
bool(true)
