--TEST--
php-rdkafka parity: Conf::set() with null (PHP's deprecation, then an empty value), empty and non-numeric values get librdkafka's errors
--SKIPIF--
<?php if (!extension_loaded('rdkafka')) die('skip rdkafka (kafkars) not loaded');
--FILE--
<?php
$conf = new RdKafka\Conf();
foreach ([['linger.ms', null], ['linger.ms', ''], ['linger.ms', 'abc'], ['batch.size', ''], ['enable.idempotence', ''], ['linger.ms', '5ms']] as [$name, $value]) {
    try {
        $conf->set($name, $value);
        echo "$name: ", $conf->dump()[$name === 'linger.ms' ? 'queue.buffering.max.ms' : $name], "\n";
    } catch (RdKafka\Exception $e) {
        echo get_class($e), ' ', $e->getCode(), ': ', $e->getMessage(), "\n";
    }
}
try {
    $conf->set('linger.ms', [5]);
} catch (TypeError $e) {
    echo $e->getMessage(), "\n";
}
?>
--EXPECTF--
Deprecated: RdKafka\Conf::set(): Passing null to parameter #2 ($value) of type string is deprecated in %s on line %d
RdKafka\Exception -1: Float configuration property "queue.buffering.max.ms" cannot be set to empty value
RdKafka\Exception -1: Float configuration property "queue.buffering.max.ms" cannot be set to empty value
RdKafka\Exception -1: Invalid value for configuration property "queue.buffering.max.ms"
RdKafka\Exception -1: Integer configuration property "batch.size" cannot be set to empty value
RdKafka\Exception -1: Bool configuration property "enable.idempotence" cannot be set to empty value
linger.ms: 5
RdKafka\Conf::set(): Argument #2 ($value) must be of type string, array given
