--TEST--
Consume callback: setConsumeCb is accepted and listed by dump(); KafkaConsumer::consume() returns the messages itself and does not call it (librdkafka's consumer poll never serves consume_cb, as with php-rdkafka)
--SKIPIF--
<?php require __DIR__ . '/skipif_broker.inc';
--FILE--
<?php
require __DIR__ . '/broker_tools.inc';
$topic = kafkars_topic('phpt_consumecb');
kafkars_produce($topic, [0 => ['a', 'b']]);
$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', getenv('KAFKARS_BROKERS'));
$conf->set('group.id', "g_$topic");
$conf->set('auto.offset.reset', 'earliest');
$called = 0;
$conf->setConsumeCb(function ($message) use (&$called) { $called++; });
var_dump(array_key_exists('consume_cb', $conf->dump()));
$c = new RdKafka\KafkaConsumer($conf);
$c->subscribe([$topic]);
$got = [];
$deadline = microtime(true) + 15;
while (count($got) < 2 && microtime(true) < $deadline) {
    $m = $c->consume(500);
    if ($m->err === RD_KAFKA_RESP_ERR_NO_ERROR) $got[] = $m->payload;
}
var_dump($got, $called);
$c->close();
--EXPECT--
bool(true)
array(2) {
  [0]=>
  string(1) "a"
  [1]=>
  string(1) "b"
}
int(0)
