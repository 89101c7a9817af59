--TEST--
KafkaConsumer::commit() with the cluster unreachable waits session.timeout.ms for a coordinator and throws _WAIT_COORD (-180); commitAsync() returns at once and its offset commit callback gets -180 (php-rdkafka 6.0.4 / librdkafka 2.0.2)
--SKIPIF--
<?php if (!extension_loaded('rdkafka')) die('skip rdkafka (kafkars) not loaded');
--FILE--
<?php
$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', '127.0.0.1:1');
$conf->set('group.id', 'phpt-commit-down');
$conf->set('log_level', '0');
$conf->set('session.timeout.ms', '2000');
$conf->setOffsetCommitCb(function ($kafka, $err, $partitions) {
    printf("offset commit callback: %d %s, %d partition(s)\n", $err, rd_kafka_err2str($err), count($partitions)); $GLOBALS["done"] = true;
});
$c = new RdKafka\KafkaConsumer($conf);
$c->assign([new RdKafka\TopicPartition('t', 0, 5)]);
$s = microtime(true);
try {
    $c->commit([new RdKafka\TopicPartition('t', 0, 5)]);
    echo "commit returned\n";
} catch (RdKafka\Exception $e) {
    printf("commit: %s (%d)\n", $e->getMessage(), $e->getCode());
}
$waited = microtime(true) - $s;
var_dump($waited >= 1.5 && $waited < 30);
$c->commitAsync([new RdKafka\TopicPartition('t', 0, 6)]);
echo "commitAsync returned\n";
$deadline = microtime(true) + 10;
while (microtime(true) < $deadline) {
    $m = $c->consume(200);
    if ($m && $m->err !== RD_KAFKA_RESP_ERR__TIMED_OUT && $m->err !== RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && $m->err !== RD_KAFKA_RESP_ERR__TRANSPORT) {
        printf("message err %d\n", $m->err);
    }
    if (isset($GLOBALS['done'])) break;
}
?>
--EXPECT--
commit: Local: Waiting for coordinator (-180)
bool(true)
commitAsync returned
offset commit callback: -180 Local: Waiting for coordinator, 1 partition(s)
