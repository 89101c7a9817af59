--TEST--
php-rdkafka parity: without a log callback, log lines go to stderr in librdkafka's format (%LEVEL|SECONDS.MS|FACILITY|NAME| [thrd:..]: text), filtered by log_level; with a log callback, nothing is printed; a client without bootstrap.servers says so (CONFWARN), unless group.id is set
--SKIPIF--
<?php if (!extension_loaded('rdkafka')) die('skip rdkafka (kafkars) not loaded');
--FILE--
<?php
// An error callback takes the error events, so the only line is the broker's FAIL line,
// printed before the error event is queued.
function run(array $settings, bool $logCb): void {
    $conf = new RdKafka\Conf();
    $conf->set('bootstrap.servers', '127.0.0.1:1');
    $conf->set('client.id', 'deflog');
    foreach ($settings as $k => $v) $conf->set($k, $v);
    $errors = 0;
    $conf->setErrorCb(function () use (&$errors) { $errors++; });
    if ($logCb) $conf->setLogCb(function () {});
    $producer = new RdKafka\Producer($conf);
    $producer->newTopic('deflog')->produce(RD_KAFKA_PARTITION_UA, 0, 'x');
    $deadline = microtime(true) + 10;
    while ($errors === 0 && microtime(true) < $deadline) $producer->poll(50);
    echo "error events: ", $errors > 0 ? 'yes' : 'no', "\n";
    $producer->purge(RD_KAFKA_PURGE_F_QUEUE);
}
echo "default:\n";
run([], false);
echo "log_level 2:\n";
run(['log_level' => '2'], false);
echo "log callback:\n";
run([], true);
echo "no bootstrap.servers:\n";
new RdKafka\Producer();
$groupConf = new RdKafka\Conf();
$groupConf->set('group.id', 'deflog');
new RdKafka\Consumer($groupConf);
new RdKafka\KafkaConsumer($groupConf);
new RdKafka\Consumer();
echo "done\n";
?>
--EXPECTF--
default:
%3|%d.%d|FAIL|deflog#producer-1| [thrd:127.0.0.1:1/bootstrap]: 127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused (after %dms in state CONNECT)
error events: yes
log_level 2:
error events: yes
log callback:
error events: yes
no bootstrap.servers:
%5|%d.%d|CONFWARN|rdkafka#producer-4| [thrd:app]: No `bootstrap.servers` configured: client will not be able to connect to Kafka cluster
%5|%d.%d|CONFWARN|rdkafka#consumer-7| [thrd:app]: No `bootstrap.servers` configured: client will not be able to connect to Kafka cluster
done
