--TEST--
php-rdkafka parity: a partition started at RD_KAFKA_OFFSET_STORED resumes after the offset committed by consumeStop()
--SKIPIF--
<?php require __DIR__ . '/skipif_broker.inc';
require __DIR__ . '/broker_tools.inc';
if (kafkars_cli() === null) die('skip kafkars CLI not built (set KAFKARS_BIN)');
--FILE--
<?php
require __DIR__ . '/broker_tools.inc';

function low_level(string $brokers, string $group): RdKafka\Consumer {
    $conf = new RdKafka\Conf();
    $conf->set('bootstrap.servers', $brokers);
    $conf->set('group.id', $group);
    $conf->set('auto.offset.reset', 'smallest');
    $conf->set('log_level', '0');
    return new RdKafka\Consumer($conf);
}

$name = kafkars_topic('phpt_stored');
kafkars_create_topic($name, 1);
kafkars_produce($name, [0 => ['m0', 'm1', 'm2', 'm3']]);
$group = $name;

function first_message(RdKafka\ConsumerTopic $topic): RdKafka\Message {
    $deadline = microtime(true) + 10;
    do {
        $m = $topic->consume(0, 500);
    } while (($m === null || $m->err !== RD_KAFKA_RESP_ERR_NO_ERROR) && microtime(true) < $deadline);
    return $m;
}
$consumer = low_level(getenv('KAFKARS_BROKERS'), $group);
$topic = $consumer->newTopic($name);
$topic->consumeStart(0, RD_KAFKA_OFFSET_STORED);
$m = first_message($topic);
$topic->offsetStore(0, $m->offset);
$topic->consumeStop(0);      // commits the stored offset (the next one: 1)
$topic->consumeStart(0, RD_KAFKA_OFFSET_STORED);
echo 'with a broker: ', $m->offset, ' ', first_message($topic)->offset, "\n";
?>
--EXPECT--
with a broker: 0 1
