--TEST--
Producer: purge(RD_KAFKA_PURGE_F_QUEUE) fails queued messages with _PURGE_QUEUE, opaques come back
--SKIPIF--
<?php require __DIR__ . '/skipif_broker.inc';
--FILE--
<?php
$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', getenv('KAFKARS_BROKERS'));
$conf->set('linger.ms', '60000');
$conf->set('batch.num.messages', '100000');
$errs = [];
$conf->setDrMsgCb(function ($k, $m) use (&$errs) { $errs[] = [$m->err, $m->opaque]; });
$p = new RdKafka\Producer($conf);
$t = $p->newTopic('phpt_purge_' . getmypid());
for ($i = 0; $i < 5; $i++) $t->produce(0, 0, "p$i", null, "o$i");
var_dump($p->getOutQLen());
var_dump($p->purge(RD_KAFKA_PURGE_F_QUEUE));
var_dump($p->flush(5000));
var_dump(count($errs), $errs[0][0] === RD_KAFKA_RESP_ERR__PURGE_QUEUE, $errs[4][1]);
var_dump($p->getOutQLen());
var_dump($p->purge(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT | RD_KAFKA_PURGE_F_NON_BLOCKING));
--EXPECT--
int(5)
int(0)
int(0)
int(5)
bool(true)
string(2) "o4"
int(0)
int(0)
