--TEST--
Producer transactions API without a broker: librdkafka's errors (no transactional.id, wrong state, produce outside a transaction, init timeout, conflicting call)
--FILE--
<?php
$conf = new RdKafka\Conf();
$conf->set('log_level', '0'); // no default stderr logger lines (librdkafka prints them)
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
$show = function (string $what, Throwable $e) {
    printf("%s: %s %d %s%s\n", $what, get_class($e), $e->getCode(), $e->getMessage(),
        $e instanceof RdKafka\KafkaErrorException
            ? sprintf(' [fatal=%d retriable=%d abort=%d]', $e->isFatal(), $e->isRetriable(), $e->transactionRequiresAbort())
            : '');
};
foreach (['beginTransaction', 'commitTransaction', 'abortTransaction'] as $method) {
    try {
        $method === 'beginTransaction' ? $producer->$method() : $producer->$method(100);
        echo "$method: ok\n";
    } catch (RdKafka\Exception $e) {
        $show($method, $e);
    }
}
try {
    $producer->newTopic('t')->produce(0, 0, 'x');
} catch (RdKafka\Exception $e) {
    $show('produce', $e);
}
$t0 = microtime(true);
try {
    $producer->initTransactions(500);
} catch (RdKafka\Exception $e) {
    $show('initTransactions', $e);
}
printf("returned within its timeout: %s\n", var_export(microtime(true) - $t0 < 2.0, true));
try {
    $producer->beginTransaction();
} catch (RdKafka\Exception $e) {
    $show('beginTransaction after a timed-out init', $e);
}
--EXPECT--
The Transactional API requires transactional.id to be configured (RD_KAFKA_RESP_ERR__NOT_CONFIGURED)
-145
The Transactional API requires transactional.id to be configured
bool(false)
bool(false)
bool(false)
beginTransaction: RdKafka\KafkaErrorException -172 Operation not valid in state Init (RD_KAFKA_RESP_ERR__STATE) [fatal=0 retriable=0 abort=0]
commitTransaction: RdKafka\KafkaErrorException -172 Operation not valid in state Init (RD_KAFKA_RESP_ERR__STATE) [fatal=0 retriable=0 abort=0]
abortTransaction: RdKafka\KafkaErrorException -172 Operation not valid in state Init (RD_KAFKA_RESP_ERR__STATE) [fatal=0 retriable=0 abort=0]
produce: RdKafka\Exception -172 Local: Erroneous state
initTransactions: RdKafka\KafkaErrorException -185 Timed out waiting for operation to finish, retry call to resume (RD_KAFKA_RESP_ERR__TIMED_OUT) [fatal=0 retriable=1 abort=0]
returned within its timeout: true
beginTransaction after a timed-out init: RdKafka\KafkaErrorException -173 Conflicting init_transactions API call is already in progress (RD_KAFKA_RESP_ERR__CONFLICT) [fatal=0 retriable=1 abort=0]
