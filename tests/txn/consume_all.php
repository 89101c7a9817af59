<?php
// consume_all(): reads a topic from the beginning with a KafkaConsumer of a fresh group until
// the end (partition EOF after at least $want messages, or 20 s) and returns the payloads.
// $isolation: default | read_committed | read_uncommitted. Shared by the scripts here.

function consume_all(string $brokers, string $topic, string $isolation, int $want): array
{
    $conf = new RdKafka\Conf();
    $conf->set('bootstrap.servers', $brokers);
    $conf->set('group.id', "g-$isolation-" . bin2hex(random_bytes(4)));
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
        if ($m->err === RD_KAFKA_RESP_ERR__PARTITION_EOF && count($seen) >= $want) {
            break;
        }
        if ($m->err === RD_KAFKA_RESP_ERR_NO_ERROR) {
            $seen[] = $m->payload;
        }
    }
    $consumer->close();
    return $seen;
}
