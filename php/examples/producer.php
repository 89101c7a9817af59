<?php
// Sends COUNT JSON messages to TOPIC, one partition after the other
// (message i goes to partition i % partitions), then flushes.
//
//   php -d extension=kafkars.so producer.php [TOPIC] [COUNT] [BROKERS]
//
// BROKERS defaults to $KAFKARS_BROKERS, then 127.0.0.1:9092.

$topicName = $argv[1] ?? 'xiaojun';
$count = max(0, (int) ($argv[2] ?? 10));
$brokers = $argv[3] ?? (getenv('KAFKARS_BROKERS') ?: '127.0.0.1:9092');

$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', $brokers);
$conf->set('linger.ms', '5');
$failed = 0;
$conf->setDrMsgCb(function (RdKafka\Producer $producer, RdKafka\Message $message) use (&$failed) {
    if ($message->err !== RD_KAFKA_RESP_ERR_NO_ERROR) {
        $failed++;
        fwrite(STDERR, "delivery failed: {$message->errstr()}\n");
    }
});

$producer = new RdKafka\Producer($conf);
$topic = $producer->newTopic($topicName);

$metadata = $producer->getMetadata(false, $topic, 10000);
$partitions = 1;
foreach ($metadata->getTopics() as $t) {
    if ($t->getTopic() === $topicName) {
        $partitions = max(1, count($t->getPartitions()));
    }
}

for ($i = 0; $i < $count; $i++) {
    $partition = $i % $partitions;
    $payload = json_encode([
        'id' => $i,
        'partition' => $partition,
        'sent_at' => date(DATE_ATOM),
        'text' => "message $i",
    ]);
    $topic->produce($partition, 0, $payload, "key-$i");
    $producer->poll(0);
    echo "sent #$i to partition $partition: $payload\n";
}

$result = $producer->flush(10000);
if ($result !== RD_KAFKA_RESP_ERR_NO_ERROR || $failed > 0) {
    fwrite(STDERR, "flush: " . rd_kafka_err2str($result) . ", $failed failed\n");
    exit(1);
}
echo "done: $count messages over $partitions partition(s)\n";
