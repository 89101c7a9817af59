<?php
// A producer written for php-rdkafka, unchanged apart from the broker address:
// sends ten messages to topic "test" and waits until all are delivered.
//
//   php -d extension=kafkars.so seed_producer.php [BROKERS] [TOPIC]

$brokers = $argv[1] ?? getenv('KAFKARS_BROKERS') ?: '127.0.0.1:9092';
$topicName = $argv[2] ?? 'test';

$conf = new RdKafka\Conf();
$conf->set('metadata.broker.list', $brokers);
$conf->setDrMsgCb(function (RdKafka\Producer $kafka, RdKafka\Message $message) {
    if ($message->err) {
        echo "delivery failed: ", $message->errstr(), "\n";
    } else {
        echo "delivered to partition {$message->partition} at offset {$message->offset}\n";
    }
});

$producer = new RdKafka\Producer($conf);
$topic = $producer->newTopic($topicName);

for ($i = 0; $i < 10; $i++) {
    $topic->produce(RD_KAFKA_PARTITION_UA, 0, "Message $i");
    $producer->poll(0);
}

for ($flushRetries = 0; $flushRetries < 10; $flushRetries++) {
    $result = $producer->flush(10000);
    if (RD_KAFKA_RESP_ERR_NO_ERROR === $result) {
        break;
    }
}

if (RD_KAFKA_RESP_ERR_NO_ERROR !== $result) {
    throw new \RuntimeException('Was unable to flush, messages might be lost!');
}
