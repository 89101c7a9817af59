<?php
// A second producer with the same transactional.id fences the first: the first one's open
// transaction is aborted by the coordinator and its next transactional call fails fatally.
// Usage: php fenced.php BROKERS TOPIC TXN_ID
[$_, $brokers, $topic, $txnId] = $argv;

function producer(string $brokers, string $txnId): RdKafka\Producer
{
    $conf = new RdKafka\Conf();
    $conf->set('bootstrap.servers', $brokers);
    $conf->set('transactional.id', $txnId);
    return new RdKafka\Producer($conf);
}

$a = producer($brokers, $txnId);
$a->initTransactions(30000);
$a->beginTransaction();
$a->newTopic($topic)->produce(0, 0, 'from-a');
$a->flush(15000);
echo "a: produced in an open transaction\n";

$b = producer($brokers, $txnId);
$b->initTransactions(30000);
echo "b: init ok\n";

try {
    $a->commitTransaction(15000);
    echo "a: commit succeeded\n";
} catch (RdKafka\KafkaErrorException $e) {
    printf("a: commit: code %d fatal %s retriable %s abort %s: %s\n", $e->getCode(),
        var_export($e->isFatal(), true), var_export($e->isRetriable(), true),
        var_export($e->transactionRequiresAbort(), true), $e->getMessage());
}
try {
    $a->beginTransaction();
    echo "a: begin succeeded\n";
} catch (RdKafka\KafkaErrorException $e) {
    printf("a: begin: code %d fatal %s\n", $e->getCode(), var_export($e->isFatal(), true));
}

$b->beginTransaction();
$b->newTopic($topic)->produce(0, 0, 'from-b');
$b->commitTransaction(15000);
echo "b: committed\n";
