<?php
// Seed 1's producer, written for nmred/kafka-php 0.1, with only the address changed (a Kafka
// broker list where it had ZooKeeper's localhost:2181). Sends COUNT messages (default 10)
// round robin over the topic's available partitions.
//
//   php -d extension=kafkars.so producer.php [BROKERS] [TOPIC] [COUNT]
require 'vendor/autoload.php';

$brokers = $argv[1] ?? (getenv('KAFKARS_BROKERS') ?: '127.0.0.1:9092');
$topicName = $argv[2] ?? 'testtopic';
$count = (int) ($argv[3] ?? 10);

$produce = \Kafka\Produce::getInstance($brokers, 3000);
$produce->setRequireAck(-1);

$partitions = $produce->getAvailablePartitions($topicName);
if (count($partitions) === 0) {
    echo "no available partitions for $topicName\n";
    exit(1);
}
for ($i = 0; $i < $count; $i++) {
    $partitionId = $partitions[$i % count($partitions)];
    $produce->setMessages($topicName, $partitionId, array("message $i to partition $partitionId"));
    $result = $produce->send();
    echo json_encode($result), "\n";
}
