<?php
// Reads a topic from the beginning with a KafkaConsumer until the end (partition EOF after
// at least WANT messages) and prints the payloads, comma separated.
// Usage: php consume.php BROKERS TOPIC ISOLATION(default|read_committed|read_uncommitted) WANT
[$_, $brokers, $topic, $isolation, $want] = $argv;
$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', $brokers);
$conf->set('group.id', 'g-' . bin2hex(random_bytes(6)));
$conf->set('auto.offset.reset', 'earliest');
$conf->set('enable.partition.eof', 'true');
if ($isolation !== 'default') {
    $conf->set('isolation.level', $isolation);
}
$consumer = new RdKafka\KafkaConsumer($conf);
$consumer->subscribe([$topic]);
$seen = [];
$deadline = microtime(true) + 20;
while (microtime(true) < $deadline) {
    $m = $consumer->consume(500);
    if ($m->err === RD_KAFKA_RESP_ERR__PARTITION_EOF && count($seen) >= (int) $want) {
        break;
    }
    if ($m->err === RD_KAFKA_RESP_ERR_NO_ERROR) {
        $seen[] = $m->payload;
    }
}
$consumer->close();
echo implode(',', $seen), "\n";
