<?php
// Seed 1's consumer, written for nmred/kafka-php 0.1, with only the address changed and the
// endless loop bounded: reads one partition as group test-consumer-group until it has seen
// MAX messages or ROUNDS fetches came back.
//
//   php -d extension=kafkars.so consumer.php PARTITION [BROKERS] [TOPIC] [MAX] [ROUNDS]
require 'vendor/autoload.php';

$partitionId = isset($argv[1]) ? intval($argv[1]) : 0;
$brokers = $argv[2] ?? (getenv('KAFKARS_BROKERS') ?: '127.0.0.1:9092');
$topicName = $argv[3] ?? 'testtopic';
$max = (int) ($argv[4] ?? 10);
$rounds = (int) ($argv[5] ?? 20);

$consumer = \Kafka\Consumer::getInstance($brokers);
$consumer->setGroup('test-consumer-group');
$consumer->setPartition($topicName, $partitionId);
$consumer->setFromOffset(true);
$consumer->setMaxBytes(102400);
$seen = 0;
for ($round = 0; $round < $rounds && $seen < $max; $round++) {
    $topic = $consumer->fetch();
    foreach ($topic as $topicName => $partition) {
        foreach ($partition as $partId => $messageSet) {
            foreach ($messageSet as $message) {
                echo "$partId\t", (string) $message, "\n";
                $seen++;
            }
        }
    }
}
