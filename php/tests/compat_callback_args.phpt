--TEST--
php-rdkafka parity: a callback setter given something not callable throws PHP's own TypeError text
--SKIPIF--
<?php if (!extension_loaded('rdkafka')) die('skip rdkafka (kafkars) not loaded');
--FILE--
<?php
$conf = new RdKafka\Conf();
foreach (['nope_fn', null, [1, 2], 'strlen', ['RdKafka\Conf', 'nope'], 5] as $cb) {
    try { $conf->setErrorCb($cb); echo "ok\n"; } catch (TypeError $e) { echo $e->getMessage(), "\n"; }
}
try { $conf->setRebalanceCb(new stdClass); } catch (TypeError $e) { echo $e->getMessage(), "\n"; }
?>
--EXPECT--
RdKafka\Conf::setErrorCb(): Argument #1 ($callback) must be a valid callback, function "nope_fn" not found or invalid function name
RdKafka\Conf::setErrorCb(): Argument #1 ($callback) must be a valid callback, no array or string given
RdKafka\Conf::setErrorCb(): Argument #1 ($callback) must be a valid callback, first array member is not a valid class name or object
ok
RdKafka\Conf::setErrorCb(): Argument #1 ($callback) must be a valid callback, class RdKafka\Conf does not have a method "nope"
RdKafka\Conf::setErrorCb(): Argument #1 ($callback) must be a valid callback, no array or string given
RdKafka\Conf::setRebalanceCb(): Argument #1 ($callback) must be a valid callback, no array or string given
