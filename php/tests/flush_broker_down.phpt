--TEST--
Producer: flush() against an unreachable broker returns _TIMED_OUT within its timeout (no hang)
--FILE--
<?php
$conf = new RdKafka\Conf();
$conf->set('log_level', '0'); // no default stderr logger lines (librdkafka prints them)
$conf->set('bootstrap.servers', '127.0.0.1:1');
$conf->set('message.timeout.ms', '60000');
$p = new RdKafka\Producer($conf);
$t = $p->newTopic('nowhere');
$t->produce(RD_KAFKA_PARTITION_UA, 0, 'x');
$start = microtime(true);
$r = $p->flush(500);
$elapsed = microtime(true) - $start;
var_dump($r === RD_KAFKA_RESP_ERR__TIMED_OUT, $elapsed >= 0.4 && $elapsed < 3.0, $p->getOutQLen());
$start = microtime(true);
var_dump($p->poll(200) >= 0, microtime(true) - $start < 3.0);
try {
    $p->getMetadata(true, null, 300);
    echo "metadata: no exception\n";
} catch (RdKafka\Exception $e) {
    echo "metadata: ", get_class($e), "\n";
}
$p->purge(RD_KAFKA_PURGE_F_QUEUE);
--EXPECT--
bool(true)
bool(true)
int(1)
bool(true)
bool(true)
metadata: RdKafka\Exception
