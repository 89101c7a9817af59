--TEST--
Producer: an exception thrown in the delivery callback comes out of poll()/flush(); undelivered reports stay queued
--SKIPIF--
<?php require __DIR__ . '/skipif_broker.inc';
--FILE--
<?php
$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', getenv('KAFKARS_BROKERS'));
$seen = [];
$conf->setDrMsgCb(function ($k, $m) use (&$seen) {
    $seen[] = $m->payload;
    if ($m->payload === 'm1') throw new LogicException('boom in callback');
});
$p = new RdKafka\Producer($conf);
$t = $p->newTopic('phpt_cbexc_' . getmypid());
foreach (['m0', 'm1', 'm2', 'm3'] as $v) $t->produce(0, 0, $v);
try {
    $p->flush(10000);
    echo "no exception\n";
} catch (LogicException $e) {
    echo "caught: ", $e->getMessage(), "\n";
}
var_dump($seen);
var_dump($p->getOutQLen());
var_dump($p->flush(10000), $seen, $p->getOutQLen());
--EXPECT--
caught: boom in callback
array(2) {
  [0]=>
  string(2) "m0"
  [1]=>
  string(2) "m1"
}
int(2)
int(0)
array(4) {
  [0]=>
  string(2) "m0"
  [1]=>
  string(2) "m1"
  [2]=>
  string(2) "m2"
  [3]=>
  string(2) "m3"
}
int(0)
