<?php
// Reads one partition of TOPIC from the beginning and prints each message,
// the way one process per partition is run today.
//
//   php -d extension=kafkars.so consumer.php PARTITION [TOPIC] [MAX_MESSAGES] [MAX_SECONDS] [BROKERS]
//
// Stops after MAX_MESSAGES messages (0 = no limit) or MAX_SECONDS seconds
// (default 10; 0 = no limit). BROKERS defaults to $KAFKARS_BROKERS, then
// 127.0.0.1:9092.

if (!isset($argv[1]) || !preg_match('/^\d+$/', $argv[1])) {
    fwrite(STDERR, "usage: php consumer.php PARTITION [TOPIC] [MAX_MESSAGES] [MAX_SECONDS] [BROKERS]\n");
    exit(2);
}
$partition = (int) $argv[1];
$topicName = $argv[2] ?? 'xiaojun';
$maxMessages = (int) ($argv[3] ?? 0);
$maxSeconds = (float) ($argv[4] ?? 10);
$brokers = $argv[5] ?? (getenv('KAFKARS_BROKERS') ?: '127.0.0.1:9092');

$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', $brokers);
$consumer = new RdKafka\Consumer($conf);
$topic = $consumer->newTopic($topicName);
$topic->consumeStart($partition, RD_KAFKA_OFFSET_BEGINNING);

$received = 0;
$deadline = $maxSeconds > 0 ? microtime(true) + $maxSeconds : INF;
while (microtime(true) < $deadline && ($maxMessages === 0 || $received < $maxMessages)) {
    $message = $topic->consume($partition, 500);
    if ($message === null || $message->err === RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        continue;
    }
    if ($message->err !== RD_KAFKA_RESP_ERR_NO_ERROR) {
        fwrite(STDERR, "partition $partition: {$message->errstr()}\n");
        continue;
    }
    $received++;
    echo "partition {$message->partition} offset {$message->offset}: {$message->payload}\n";
}
$topic->consumeStop($partition);
echo "partition $partition: $received message(s)\n";
