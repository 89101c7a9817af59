--TEST--
User subclasses of kafkars classes keep their class and inherit methods; skipping parent::__construct() fails like php-rdkafka
--SKIPIF--
<?php if (!extension_loaded('rdkafka')) die('skip rdkafka (kafkars) not loaded');
--FILE--
<?php
// Framework-style wrappers: override __construct, call the parent, add methods and properties.
class AppConf extends RdKafka\Conf {
    public array $notes = [];
    public function __construct(string $clientId) {
        parent::__construct();
        $this->set('client.id', $clientId);
        $this->set('bootstrap.servers', '127.0.0.1:1');
        $this->set('log_level', '0');
    }
    public function clientId(): string { return $this->dump()['client.id']; }
}
class AppTopicConf extends RdKafka\TopicConf {}
class AppProducer extends RdKafka\Producer {
    public int $flushes = 0;
    public function __construct(AppConf $conf) { parent::__construct($conf); }
    public function flush(int $timeout_ms): int { $this->flushes++; return parent::flush($timeout_ms); }
}
class AppConsumer extends RdKafka\Consumer {}
class AppKafkaConsumer extends RdKafka\KafkaConsumer {}
class AppTopicPartition extends RdKafka\TopicPartition {
    public function label(): string { return $this->getTopic() . '/' . $this->getPartition(); }
}
class AppMessage extends RdKafka\Message {}
class NoParentProducer extends RdKafka\Producer { public function __construct() {} }
class NoParentConf extends RdKafka\Conf { public function __construct() {} }
class NoParentKafkaConsumer extends RdKafka\KafkaConsumer { public function __construct() {} }
class NoParentTopicPartition extends RdKafka\TopicPartition { public function __construct() {} }

function attempt(string $label, callable $f): void {
    try {
        $r = $f();
        echo "$label: ", json_encode($r), "\n";
    } catch (Throwable $e) {
        echo "$label: ", get_class($e), ': ', $e->getMessage(), "\n";
    }
}

$conf = new AppConf('app-1');
var_dump(get_class($conf), $conf instanceof RdKafka\Conf, $conf->clientId(), $conf->notes);
$topicConf = new AppTopicConf();
$topicConf->set('acks', '1');
var_dump(get_class($topicConf), $topicConf->dump()['request.required.acks']);

$producer = new AppProducer($conf);
$topic = $producer->newTopic('subclass_topic', $topicConf);
var_dump(get_class($producer), $producer instanceof RdKafka, get_class($topic), $topic->getName());
var_dump($producer->flush(0), $producer->flushes);

$consumer = new AppConsumer($conf);
var_dump(get_class($consumer), get_class($consumer->newQueue()), get_class($consumer->newTopic('t')));

$kconf = new AppConf('app-2');
$kconf->set('group.id', 'subclass-group');
$kafkaConsumer = new AppKafkaConsumer($kconf);
$tp = new AppTopicPartition('subclass_topic', 3, 7);
$tp->setOffset(8)->setPartition(2);
var_dump(get_class($tp), $tp->label(), $tp->getOffset());
$kafkaConsumer->assign([$tp]);
var_dump(count($kafkaConsumer->getAssignment()), get_class($kafkaConsumer));

$message = new AppMessage();
$message->err = RD_KAFKA_RESP_ERR__PARTITION_EOF;
var_dump(get_class($message), $message->errstr());

// Uncloneable like php-rdkafka (Message is a plain object and clones). php-rdkafka's
// error names the subclass, ours the kafkars class: the class name is not checked.
attempt('clone Conf', fn() => clone $conf);
attempt('clone Producer', fn() => clone $producer);
attempt('clone Topic', fn() => clone $topic);
attempt('clone TopicPartition', fn() => clone $tp);
attempt('clone Message', fn() => get_class(clone $message));

// A constructor that skips parent::__construct(): php-rdkafka's \Exception texts.
attempt('no parent Producer', fn() => (new NoParentProducer())->getOutQLen());
attempt('no parent Conf', fn() => (new NoParentConf())->set('a', 'b'));
attempt('no parent KafkaConsumer', fn() => (new NoParentKafkaConsumer())->getAssignment());
attempt('no parent TopicPartition', fn() => (new NoParentTopicPartition())->getTopic());
attempt('reflection Metadata', fn() => (new ReflectionClass(RdKafka\Metadata::class))->newInstanceWithoutConstructor()->getTopics());
attempt('reflection Collection', fn() => (new ReflectionClass(RdKafka\Metadata\Collection::class))->newInstanceWithoutConstructor()->count());
attempt('reflection Queue', fn() => (new ReflectionClass(RdKafka\Queue::class))->newInstanceWithoutConstructor()->consume(0));
attempt('reflection ProducerTopic', fn() => (new ReflectionClass(RdKafka\ProducerTopic::class))->newInstanceWithoutConstructor()->produce(0, 0, 'x'));

// A closed KafkaConsumer refuses every call, as php-rdkafka does.
$kafkaConsumer->close();
attempt('after close getAssignment', fn() => $kafkaConsumer->getAssignment());
attempt('after close close', fn() => $kafkaConsumer->close());
?>
--EXPECTF--
string(7) "AppConf"
bool(true)
string(5) "app-1"
array(0) {
}
string(12) "AppTopicConf"
string(1) "1"
string(11) "AppProducer"
bool(true)
string(21) "RdKafka\ProducerTopic"
string(14) "subclass_topic"
int(0)
int(1)
string(11) "AppConsumer"
string(13) "RdKafka\Queue"
string(21) "RdKafka\ConsumerTopic"
string(17) "AppTopicPartition"
string(16) "subclass_topic/2"
int(8)
int(1)
string(16) "AppKafkaConsumer"
string(10) "AppMessage"
string(24) "Broker: No more messages"
clone Conf: Error: Trying to clone an uncloneable object of class %s
clone Producer: Error: Trying to clone an uncloneable object of class %s
clone Topic: Error: Trying to clone an uncloneable object of class RdKafka\ProducerTopic
clone TopicPartition: Error: Trying to clone an uncloneable object of class %s
clone Message: "AppMessage"
no parent Producer: Exception: RdKafka\Kafka::__construct() has not been called
no parent Conf: Exception: RdKafka\Conf::__construct() has not been called
no parent KafkaConsumer: Exception: RdKafka\KafkaConsumer::__construct() has not been called, or RdKafka\KafkaConsumer::close() was already called
no parent TopicPartition: Exception: RdKafka\TopicPartition::__construct() has not been called
reflection Metadata: Exception: RdKafka\Metadata::__construct() has not been called
reflection Collection: Exception: RdKafka\Metadata\Collection::__construct() has not been called
reflection Queue: Exception: RdKafka\Queue::__construct() has not been called
reflection ProducerTopic: Exception: RdKafka\Topic::__construct() has not been called
after close getAssignment: Exception: RdKafka\KafkaConsumer::__construct() has not been called, or RdKafka\KafkaConsumer::close() was already called
after close close: Exception: RdKafka\KafkaConsumer::__construct() has not been called, or RdKafka\KafkaConsumer::close() was already called
