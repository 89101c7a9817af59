--TEST--
RdKafka\KafkaErrorException: constructor, getters, hierarchy
--FILE--
<?php
$e = new RdKafka\KafkaErrorException('exception message', -100, 'exception description', true, false, true);
echo sprintf('Exception message: %s', $e->getMessage()) . PHP_EOL;
echo sprintf('Exception code: %d', $e->getCode()) . PHP_EOL;
echo sprintf('Exception description: %s', $e->getErrorString()) . PHP_EOL;
echo sprintf('Exception is fatal: %b', $e->isFatal()) . PHP_EOL;
echo sprintf('Exception is retriable: %b', $e->isRetriable()) . PHP_EOL;
echo sprintf('Exception requires transaction abort: %b', $e->transactionRequiresAbort()) . PHP_EOL;
var_dump($e instanceof RdKafka\Exception, $e instanceof Exception);
try { throw $e; } catch (RdKafka\Exception $c) { echo get_class($c), "\n"; }
$plain = new RdKafka\Exception("x", 5);
var_dump($plain->getCode());
--EXPECT--
Exception message: exception message
Exception code: -100
Exception description: exception description
Exception is fatal: 1
Exception is retriable: 0
Exception requires transaction abort: 1
bool(true)
bool(true)
RdKafka\KafkaErrorException
int(5)
