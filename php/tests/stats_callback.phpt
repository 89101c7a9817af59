--TEST--
Stats callback: statistics.interval.ms emits librdkafka's statistics JSON from poll()/flush(), with real message counts and broker round-trip times
--SKIPIF--
<?php require __DIR__ . '/skipif_broker.inc';
--FILE--
<?php
require __DIR__ . '/broker_tools.inc';
$topic = kafkars_topic('phpt_stats');
$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', getenv('KAFKARS_BROKERS'));
$conf->set('statistics.interval.ms', '100');
$stats = [];
$conf->setStatsCb(function ($kafka, $json, $len) use (&$stats) {
    if (!$kafka instanceof RdKafka\Producer || strlen($json) !== $len) throw new Exception('bad arguments');
    $stats[] = json_decode($json, true, 512, JSON_THROW_ON_ERROR);
});
$p = new RdKafka\Producer($conf);
$t = $p->newTopic($topic);
for ($i = 0; $i < 10; $i++) $t->produce(0, 0, "message $i");
var_dump($p->flush(10000));
$good = null;
$rtt = false;
$deadline = microtime(true) + 10;
while ((!$good || !$rtt) && microtime(true) < $deadline) {
    $p->poll(100);
    foreach ($stats as $s) {
        if ($s['txmsgs'] === 10) $good = $s;
        foreach ($s['brokers'] as $b) if ($b['rtt']['cnt'] > 0 && $b['rtt']['avg'] > 0) $rtt = true;
    }
}
var_dump($rtt);
var_dump($good['type'], str_starts_with($good['name'], 'rdkafka#producer-'), $good['client_id']);
var_dump($good['msg_cnt'], $good['tx'] > 0, $good['rx'] > 0, $good['tx_bytes'] > 100);
$b = array_values($good['brokers'])[0];
var_dump($b['state'], $b['nodeid'] >= 0, isset($b['toppars']["$topic-0"]));
$part = $good['topics'][$topic]['partitions'][0];
var_dump($part['txmsgs'], $part['msgq_cnt']);
--EXPECT--
int(0)
bool(true)
string(8) "producer"
bool(true)
string(7) "rdkafka"
int(0)
bool(true)
bool(true)
bool(true)
string(2) "UP"
bool(true)
bool(true)
int(10)
int(0)
