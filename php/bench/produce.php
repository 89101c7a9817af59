<?php
require __DIR__ . '/extension_name.inc';
// Producer throughput: COUNT messages of SIZE bytes with produce() and a final
// flush(); prints one JSON line. Runs unchanged with php-rdkafka (PEER_EXT).
//
//   php -d extension=kafkars.so produce.php TOPIC [COUNT] [SIZE] [BROKERS]

$topicName = $argv[1] ?? 'bench';
$count = (int) ($argv[2] ?? 1000000);
$size = (int) ($argv[3] ?? 100);
$brokers = $argv[4] ?? (getenv('KAFKARS_BROKERS') ?: '127.0.0.1:9092');

$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', $brokers);
$conf->set('queue.buffering.max.messages', (string) max(100000, $count));
$conf->set('queue.buffering.max.kbytes', '2097151');
$conf->set('linger.ms', '5');
$producer = new RdKafka\Producer($conf);
$topic = $producer->newTopic($topicName);
$payload = str_repeat('x', $size);

$start = hrtime(true);
for ($i = 0; $i < $count; $i++) {
    $topic->produce(RD_KAFKA_PARTITION_UA, 0, $payload);
    if (($i & 4095) === 0) {
        $producer->poll(0);
    }
}
$err = $producer->flush(120000);
$seconds = (hrtime(true) - $start) / 1e9;
echo json_encode([
    'bench' => 'produce',
    'extension' => bench_extension_name(),
    'messages' => $count,
    'size' => $size,
    'seconds' => round($seconds, 3),
    'msg_per_s' => (int) ($count / $seconds),
    'flush' => $err,
    'peak_memory' => memory_get_peak_usage(true),
]), "\n";
