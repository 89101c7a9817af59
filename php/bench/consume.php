<?php
require __DIR__ . '/extension_name.inc';
// KafkaConsumer::consume() throughput: reads COUNT messages of TOPIC from the
// beginning with a fresh group; prints one JSON line. Runs unchanged with
// php-rdkafka (PEER_EXT).
//
//   php -d extension=kafkars.so consume.php TOPIC [COUNT] [BROKERS]

$topicName = $argv[1] ?? 'bench';
$count = (int) ($argv[2] ?? 1000000);
$brokers = $argv[3] ?? (getenv('KAFKARS_BROKERS') ?: '127.0.0.1:9092');

$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', $brokers);
$conf->set('group.id', 'bench-' . getmypid() . '-' . mt_rand());
$conf->set('auto.offset.reset', 'earliest');
$conf->set('enable.auto.commit', 'false');
$consumer = new RdKafka\KafkaConsumer($conf);
$consumer->subscribe([$topicName]);

$received = 0;
$start = null;
$idleSince = microtime(true);
while ($received < $count) {
    $message = $consumer->consume(1000);
    if ($message->err === RD_KAFKA_RESP_ERR_NO_ERROR) {
        $start ??= hrtime(true);
        $received++;
        $idleSince = microtime(true);
    } elseif (microtime(true) - $idleSince > 30) {
        break;
    }
}
$seconds = $start === null ? 0 : (hrtime(true) - $start) / 1e9;
$consumer->close();
echo json_encode([
    'bench' => 'consume',
    'extension' => bench_extension_name(),
    'messages' => $received,
    'seconds' => round($seconds, 3),
    'msg_per_s' => $seconds > 0 ? (int) ($received / $seconds) : 0,
    'peak_memory' => memory_get_peak_usage(true),
]), "\n";
