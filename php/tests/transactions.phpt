--TEST--
Producer transactions API: KafkaErrorException like librdkafka without transactional.id, a clear one with it
--FILE--
<?php
$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', '127.0.0.1:1');
$producer = new RdKafka\Producer($conf);
try {
    $producer->initTransactions(1000);
} catch (RdKafka\KafkaErrorException $e) {
    echo $e->getMessage(), "\n", $e->getCode(), "\n", $e->getErrorString(), "\n";
    var_dump($e->isFatal(), $e->isRetriable(), $e->transactionRequiresAbort());
}
$conf->set('transactional.id', 'tx-1');
$producer = new RdKafka\Producer($conf);
foreach (['initTransactions', 'beginTransaction', 'commitTransaction', 'abortTransaction'] as $method) {
    try {
        $method === 'beginTransaction' ? $producer->$method() : $producer->$method(100);
    } catch (RdKafka\KafkaErrorException $e) {
        echo "$method: ", $e->getMessage(), "\n";
    }
}
--EXPECT--
The Transactional API requires transactional.id to be configured (RD_KAFKA_RESP_ERR__NOT_CONFIGURED)
-145
The Transactional API requires transactional.id to be configured
bool(false)
bool(false)
bool(false)
initTransactions: Transactions are not supported by kafkars yet (RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED)
beginTransaction: Transactions are not supported by kafkars yet (RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED)
commitTransaction: Transactions are not supported by kafkars yet (RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED)
abortTransaction: Transactions are not supported by kafkars yet (RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED)
