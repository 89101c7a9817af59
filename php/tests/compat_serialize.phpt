--TEST--
php-rdkafka parity: clients, Conf, TopicConf and their subclasses serialize as empty objects instead of throwing; an unserialized one refuses work like an object whose constructor never ran
--SKIPIF--
<?php if (!extension_loaded('rdkafka')) die('skip rdkafka (kafkars) not loaded');
--FILE--
<?php
class MyConf extends RdKafka\Conf {}
$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', '127.0.0.1:1');
$conf->set('log_level', '0');
$objects = [
    new RdKafka\Conf(),
    new MyConf(),
    new RdKafka\TopicConf(),
    new RdKafka\Producer($conf),
    new RdKafka\Consumer($conf),
];
foreach ($objects as $object) {
    echo serialize($object), "\n";
}
$copy = unserialize(serialize(new RdKafka\Conf()));
var_dump($copy);
try {
    $copy->set('client.id', 'x');
} catch (Exception $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
try {
    unserialize(serialize(new RdKafka\Producer($conf)))->poll(0);
} catch (Exception $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
?>
--EXPECTF--
O:12:"RdKafka\Conf":0:{}
O:6:"MyConf":0:{}
O:17:"RdKafka\TopicConf":0:{}
O:16:"RdKafka\Producer":0:{}
O:16:"RdKafka\Consumer":0:{}
object(RdKafka\Conf)#%d (0) {
}
Exception: RdKafka\Conf::__construct() has not been called
Exception: RdKafka\Kafka::__construct() has not been called
