--TEST--
Log callback: an unreachable broker gives a level-3 FAIL line through setLogCb inside poll(); nothing below log_level; setLogLevel() changes the level; debug contexts add level-7 lines
--FILE--
<?php
function client(array $set, array &$logs): RdKafka\Producer {
    $conf = new RdKafka\Conf();
    $conf->set('bootstrap.servers', '127.0.0.1:1');
    foreach ($set as $k => $v) $conf->set($k, $v);
    $conf->setLogCb(function ($kafka, $level, $facility, $message) use (&$logs) {
        $logs[] = [get_class($kafka), $level, $facility, $message];
    });
    $p = new RdKafka\Producer($conf);
    $p->newTopic('nowhere')->produce(RD_KAFKA_PARTITION_UA, 0, 'x');
    return $p;
}
function poll_for(RdKafka\Producer $p, float $seconds, callable $done): void {
    $deadline = microtime(true) + $seconds;
    while (!$done() && microtime(true) < $deadline) $p->poll(50);
}

$logs = [];
$p = client([], $logs);
poll_for($p, 10, fn() => (bool) $logs);
[$class, $level, $facility, $message] = $logs[0];
var_dump($class, $level, $facility, str_contains($message, 'Connect to ') && str_contains($message, '127.0.0.1:1 failed'));
var_dump(max(array_column($logs, 1)) <= 6);
$p->purge(RD_KAFKA_PURGE_F_QUEUE);

// log_level 2: errors (3) are below the threshold.
$quiet = [];
$p = client(['log_level' => '2'], $quiet);
poll_for($p, 1.5, fn() => false);
var_dump(count($quiet));
$p->purge(RD_KAFKA_PURGE_F_QUEUE);

// debug raises the level to 7; setLogLevel(6) takes it back down.
$dbg = [];
$p = client(['debug' => 'broker'], $dbg);
poll_for($p, 10, fn() => in_array(7, array_column($dbg, 1), true));
var_dump(in_array(7, array_column($dbg, 1), true));
@$p->setLogLevel(LOG_INFO); // deprecated in php-rdkafka, still effective
$p->poll(0);
$dbg = [];
poll_for($p, 1.5, fn() => false);
var_dump(in_array(7, array_column($dbg, 1), true));
$p->purge(RD_KAFKA_PURGE_F_QUEUE);
--EXPECT--
string(16) "RdKafka\Producer"
int(3)
string(4) "FAIL"
bool(true)
bool(true)
int(0)
bool(true)
bool(false)
