<?php
// Reads a topic from the beginning with a KafkaConsumer until the end (partition EOF after
// at least WANT messages) and prints the payloads, comma separated.
// Usage: php consume.php BROKERS TOPIC ISOLATION(default|read_committed|read_uncommitted) WANT
[$_, $brokers, $topic, $isolation, $want] = $argv;
require __DIR__ . '/consume_all.php';
echo implode(',', consume_all($brokers, $topic, $isolation, (int) $want)), "\n";
