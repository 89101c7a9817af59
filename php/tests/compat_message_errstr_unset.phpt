--TEST--
php-rdkafka parity: errstr() on a Message whose err was never set throws PHP's uninitialized typed property Error; once err is set it names the code
--SKIPIF--
<?php if (!extension_loaded('rdkafka')) die('skip rdkafka (kafkars) not loaded');
--FILE--
<?php
$message = new RdKafka\Message();
try {
    var_dump($message->errstr());
} catch (Error $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
$message->err = RD_KAFKA_RESP_ERR_NO_ERROR;
var_dump($message->errstr());
$message->err = RD_KAFKA_RESP_ERR__PARTITION_EOF;
var_dump($message->errstr());
$message->err = 12345;
$message->payload = 'ignored';
var_dump($message->errstr());

class MyMessage extends RdKafka\Message {}
try {
    (new MyMessage())->errstr();
} catch (Error $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
?>
--EXPECT--
Error: Typed property RdKafka\Message::$err must not be accessed before initialization
string(7) "Success"
string(24) "Broker: No more messages"
string(10) "Err-12345?"
Error: Typed property RdKafka\Message::$err must not be accessed before initialization
