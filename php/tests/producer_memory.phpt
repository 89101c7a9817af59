--TEST--
Producer: 1,000,000 produce() calls keep memory_get_usage() stable
--SKIPIF--
<?php require __DIR__ . '/skipif_broker.inc';
--INI--
memory_limit=256M
--FILE--
<?php
$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', getenv('KAFKARS_BROKERS'));
$conf->set('queue.buffering.max.messages', '2000000');
$p = new RdKafka\Producer($conf);
$t = $p->newTopic('phpt_mem_' . getmypid());
$payload = str_repeat('x', 100);
$samples = [];
for ($i = 0; $i < 1000000; $i++) {
    $t->produce(RD_KAFKA_PARTITION_UA, 0, $payload, "k$i");
    if (($i & 1023) === 0) $p->poll(0);
    if ($i % 100000 === 99999) $samples[] = memory_get_usage();
}
var_dump($p->flush(60000) === RD_KAFKA_RESP_ERR_NO_ERROR);
$growth = max($samples) - min($samples);
var_dump($growth < 64 * 1024);
var_dump(memory_get_usage() - $samples[0] < 64 * 1024);
--EXPECT--
bool(true)
bool(true)
bool(true)
