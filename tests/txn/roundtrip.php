<?php
// Transactional round trip with php-rdkafka's API: a committed transaction, an aborted one
// (its messages reach the log before the abort), another committed one; then what a
// read_committed (librdkafka's default) and a read_uncommitted KafkaConsumer see.
// Usage: php roundtrip.php BROKERS TOPIC TXN_ID
[$_, $brokers, $topic, $txnId] = $argv;
require __DIR__ . '/consume_all.php';

$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', $brokers);
$conf->set('transactional.id', $txnId);
$delivered = ['ok' => 0, 'failed' => 0];
$conf->setDrMsgCb(function ($kafka, $message) use (&$delivered) {
    $delivered[$message->err === RD_KAFKA_RESP_ERR_NO_ERROR ? 'ok' : 'failed']++;
});
$producer = new RdKafka\Producer($conf);
$t = $producer->newTopic($topic);

try {
    $t->produce(RD_KAFKA_PARTITION_UA, 0, 'too-early');
    echo "produce before begin: accepted\n";
} catch (RdKafka\Exception $e) {
    echo "produce before begin: ", get_class($e), " ", $e->getCode(), " ", $e->getMessage(), "\n";
}

$producer->initTransactions(30000);
echo "init: ok\n";

$producer->beginTransaction();
for ($i = 0; $i < 3; $i++) {
    $t->produce(0, 0, "commit-$i", "k$i");
}
$producer->commitTransaction(15000);
echo "commit 1: ok, delivered {$delivered['ok']}\n";

$producer->beginTransaction();
for ($i = 0; $i < 2; $i++) {
    $t->produce(0, 0, "abort-$i");
}
$producer->flush(15000);
$producer->abortTransaction(15000);
echo "abort: ok, delivered {$delivered['ok']}\n";

$producer->beginTransaction();
for ($i = 0; $i < 2; $i++) {
    $t->produce(0, 0, "after-$i");
}
$producer->commitTransaction(15000);
echo "commit 2: ok, delivered {$delivered['ok']}, failed {$delivered['failed']}\n";

try {
    $producer->commitTransaction(1000);
} catch (RdKafka\KafkaErrorException $e) {
    echo "commit outside a transaction: ", $e->getMessage(), "\n";
}

echo "read_committed: ", implode(',', consume_all($brokers, $topic, 'default', 5)), "\n";
echo "read_uncommitted: ", implode(',', consume_all($brokers, $topic, 'read_uncommitted', 7)), "\n";
