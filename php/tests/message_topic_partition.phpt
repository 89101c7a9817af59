--TEST--
RdKafka\Message typed properties and errstr(); RdKafka\TopicPartition accessors and fluent setters
--FILE--
<?php
$m = new RdKafka\Message();
$m->err = RD_KAFKA_RESP_ERR__PARTITION_EOF;
var_dump($m->errstr());
$m->err = 0;
var_dump($m->errstr(), $m->payload, $m->key, $m->topic_name, $m->opaque, $m->timestamp, $m->len);
try { $m->err = "abc"; } catch (TypeError $e) { echo "TypeError\n"; }
$m->payload = "a\0b";
var_dump(strlen($m->payload));
$p = new ReflectionProperty(RdKafka\Message::class, 'offset');
var_dump((string) $p->getType(), $p->isPublic());

$tp = new RdKafka\TopicPartition("orders", 3);
var_dump($tp->getTopic(), $tp->getPartition(), $tp->getOffset(), $tp->getErr());
$same = $tp->setTopic("t2")->setPartition("4")->setOffset(RD_KAFKA_OFFSET_BEGINNING);
var_dump($same === $tp, $tp->getTopic(), $tp->getPartition(), $tp->getOffset());
$tp2 = new RdKafka\TopicPartition("x", 1, 99);
var_dump($tp2->getOffset());
try { new RdKafka\TopicPartition("x", "not a number"); } catch (TypeError $e) { echo "TypeError\n"; }
--EXPECT--
string(24) "Broker: No more messages"
string(7) "Success"
NULL
NULL
NULL
NULL
NULL
NULL
TypeError
int(3)
string(3) "int"
bool(true)
string(6) "orders"
int(3)
int(0)
int(0)
bool(true)
string(2) "t2"
int(4)
int(-2)
int(99)
TypeError
