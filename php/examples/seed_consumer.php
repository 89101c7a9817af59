<?php
// A high-level KafkaConsumer written for php-rdkafka, unchanged apart from the
// broker address: joins group "myConsumerGroup", prints Assign/Revoke from the
// rebalance callback and every message it receives.
//
//   php -d extension=kafkars.so seed_consumer.php [BROKERS] [TOPIC] [MAX_SECONDS]

$brokers = $argv[1] ?? getenv('KAFKARS_BROKERS') ?: '127.0.0.1:9092';
$topicName = $argv[2] ?? 'test';
$maxSeconds = (int) ($argv[3] ?? 0);   // 0 = run until interrupted

$conf = new RdKafka\Conf();

// Set a rebalance callback to log partition assignments (optional)
$conf->setRebalanceCb(function (RdKafka\KafkaConsumer $kafka, $err, array $partitions = null) {
    switch ($err) {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            echo "Assign: ";
            var_dump($partitions);
            $kafka->assign($partitions);
            break;

        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            echo "Revoke: ";
            var_dump($partitions);
            $kafka->assign(null);
            break;

        default:
            throw new \Exception($err);
    }
});

$conf->set('group.id', 'myConsumerGroup');
$conf->set('metadata.broker.list', $brokers);
// Where to start when the group has no committed offset yet.
$conf->set('auto.offset.reset', 'earliest');
// Emit EOF events when the end of a partition is reached.
$conf->set('enable.partition.eof', 'true');

$consumer = new RdKafka\KafkaConsumer($conf);
$consumer->subscribe([$topicName]);

echo "Waiting for partition assignment... (make take some time when\n";
echo "quickly re-joining the group after leaving it.)\n";

$deadline = $maxSeconds > 0 ? microtime(true) + $maxSeconds : INF;
while (microtime(true) < $deadline) {
    $message = $consumer->consume(1000);
    switch ($message->err) {
        case RD_KAFKA_RESP_ERR_NO_ERROR:
            var_dump($message);
            break;
        case RD_KAFKA_RESP_ERR__PARTITION_EOF:
            echo "No more messages; will wait for more\n";
            break;
        case RD_KAFKA_RESP_ERR__TIMED_OUT:
            echo "Timed out\n";
            break;
        default:
            throw new \Exception($message->errstr(), $message->err);
    }
}
$consumer->close();
