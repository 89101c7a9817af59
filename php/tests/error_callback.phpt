--TEST--
Error callback: broker connection failures reach setErrorCb inside poll(), with the client, a librdkafka code and a reason
--FILE--
<?php
$conf = new RdKafka\Conf();
$conf->set('log_level', '0'); // no default stderr logger lines (librdkafka prints them)
$conf->set('bootstrap.servers', '127.0.0.1:1');
$errors = [];
$conf->setErrorCb(function ($kafka, int $err, string $reason) use (&$errors) {
    $errors[] = [get_class($kafka), rd_kafka_err2name($err), $reason];
});
$p = new RdKafka\Producer($conf);
$p->newTopic('nowhere')->produce(RD_KAFKA_PARTITION_UA, 0, 'x');
$deadline = microtime(true) + 10;
while (!$errors && microtime(true) < $deadline) $p->poll(100);
var_dump(count($errors) > 0);
[$class, $name, $reason] = $errors[0];
var_dump($class, in_array($name, ['_TRANSPORT', '_ALL_BROKERS_DOWN', '_RESOLVE'], true), str_contains($reason, '127.0.0.1:1'));
$p->purge(RD_KAFKA_PURGE_F_QUEUE);
--EXPECT--
bool(true)
string(16) "RdKafka\Producer"
bool(true)
bool(true)
