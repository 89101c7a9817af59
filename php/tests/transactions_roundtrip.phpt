--TEST--
Producer transactions against the broker: commit and abort as read_committed (default) and read_uncommitted consumers see them, delivery callbacks inside commitTransaction(), fencing by a second producer
--SKIPIF--
<?php require __DIR__ . '/skipif_broker.inc';
--FILE--
<?php
require __DIR__ . '/broker_tools.inc';
$brokers = getenv('KAFKARS_BROKERS');
$topicName = kafkars_topic('txn');
$txnId = kafkars_topic('txn_id');
kafkars_create_topic($topicName, 1);

function txn_producer(string $brokers, string $txnId, ?callable $dr = null): RdKafka\Producer
{
    $conf = new RdKafka\Conf();
    $conf->set('log_level', '0');
    $conf->set('bootstrap.servers', $brokers);
    $conf->set('transactional.id', $txnId);
    if ($dr !== null) {
        $conf->setDrMsgCb($dr);
    }
    return new RdKafka\Producer($conf);
}

$reports = [];
$producer = txn_producer($brokers, $txnId, function ($kafka, $m) use (&$reports) {
    $reports[] = $m->payload . ':' . $m->err;
});
$topic = $producer->newTopic($topicName);
$producer->initTransactions(10000);

$producer->beginTransaction();
$topic->produce(0, 0, 'c1');
$topic->produce(0, 0, 'c2');
$producer->commitTransaction(10000);
echo "committed, reports seen by commitTransaction(): ", implode(' ', $reports), "\n";

$producer->beginTransaction();
$topic->produce(0, 0, 'a1');
$producer->flush(10000);
$producer->abortTransaction(10000);
echo "aborted\n";

$producer->beginTransaction();
$topic->produce(0, 0, 'c3');
$producer->commitTransaction(10000);

// A second producer with the same transactional.id fences this one.
$producer->beginTransaction();
$topic->produce(0, 0, 'fenced');
$producer->flush(10000);
$other = txn_producer($brokers, $txnId);
$other->initTransactions(10000);
try {
    $producer->commitTransaction(10000);
} catch (RdKafka\KafkaErrorException $e) {
    printf("fenced: %d %s fatal=%d\n", $e->getCode(), $e->getMessage(), $e->isFatal());
}
$other->beginTransaction();
$other->newTopic($topicName)->produce(0, 0, 'c4');
$other->commitTransaction(10000);

function read_all(string $brokers, string $topic, ?string $isolation, int $want): string
{
    $conf = new RdKafka\Conf();
    $conf->set('log_level', '0');
    $conf->set('bootstrap.servers', $brokers);
    $conf->set('group.id', kafkars_topic('g'));
    $conf->set('auto.offset.reset', 'earliest');
    $conf->set('enable.partition.eof', 'true');
    if ($isolation !== null) {
        $conf->set('isolation.level', $isolation);
    }
    $consumer = new RdKafka\KafkaConsumer($conf);
    $consumer->assign([new RdKafka\TopicPartition($topic, 0, RD_KAFKA_OFFSET_BEGINNING)]);
    $seen = [];
    $deadline = microtime(true) + 15;
    while (microtime(true) < $deadline) {
        $m = $consumer->consume(200);
        if ($m->err === RD_KAFKA_RESP_ERR__PARTITION_EOF && count($seen) >= $want) {
            break;
        }
        if ($m->err === RD_KAFKA_RESP_ERR_NO_ERROR) {
            $seen[] = $m->payload;
        }
    }
    $consumer->close();
    return implode(' ', $seen);
}
echo "read_committed: ", read_all($brokers, $topicName, null, 4), "\n";
echo "read_uncommitted: ", read_all($brokers, $topicName, 'read_uncommitted', 6), "\n";
--EXPECT--
committed, reports seen by commitTransaction(): c1:0 c2:0
aborted
fenced: -144 Failed to end transaction: Local: This instance has been fenced by a newer instance (RD_KAFKA_RESP_ERR__FENCED) fatal=1
read_committed: c1 c2 c3 c4
read_uncommitted: c1 c2 a1 c3 fenced c4
