--TEST--
Consumer group: two PHP processes share a two-partition topic, with Assign/Revoke rebalance callbacks
--SKIPIF--
<?php require __DIR__ . '/skipif_broker.inc';
require __DIR__ . '/broker_tools.inc';
if (kafkars_cli() === null) die('skip kafkars CLI not built (set KAFKARS_BIN)');
--FILE--
<?php
require __DIR__ . '/broker_tools.inc';
$topic = kafkars_topic('phpt_grp');
$group = "g_$topic";
var_dump(kafkars_create_topic($topic, 2));
$stop = sys_get_temp_dir() . "/$topic.stop";
@unlink($stop);
$so = null;
foreach (file('/proc/self/maps') as $line) {
    if (preg_match('#(/\S*(?:kafkars|rdkafka)[^/\s]*\.so)\s*$#', $line, $m)) { $so = $m[1]; break; }
}
$members = [];
$outputs = [];
foreach (['A', 'B'] as $name) {
    $out = sys_get_temp_dir() . "/$topic.$name.out";
    $outputs[$name] = $out;
    $members[$name] = proc_open([PHP_BINARY, '-n', '-d', "extension=$so", __DIR__ . '/group_member.inc', $topic, $group, $stop, $name],
        [1 => ['file', $out, 'w'], 2 => ['file', "$out.err", 'w']], $pipes);
}
$read = function () use ($outputs) {
    $events = [];
    foreach ($outputs as $name => $file) {
        foreach (file($file, FILE_IGNORE_NEW_LINES) ?: [] as $line) {
            if ($e = json_decode($line, true)) $events[] = $e;
        }
    }
    return $events;
};
// Wait until each member holds one partition.
$deadline = microtime(true) + 30;
do {
    usleep(200000);
    $owned = [];
    foreach ($read() as $e) {
        if ($e['event'] === 'assign') $owned[$e['member']] = $e['partitions'];
        if ($e['event'] === 'revoke') $owned[$e['member']] = [];
    }
} while (!(count($owned) === 2 && count($owned['A']) === 1 && count($owned['B']) === 1) && microtime(true) < $deadline);
var_dump(count($owned), array_merge($owned['A'] ?? [], $owned['B'] ?? []) == [0, 1] || array_merge($owned['A'] ?? [], $owned['B'] ?? []) == [1, 0]);

kafkars_produce($topic, [0 => ['p0-a', 'p0-b'], 1 => ['p1-a', 'p1-b']]);
$deadline = microtime(true) + 20;
do {
    usleep(200000);
    $messages = array_filter($read(), fn($e) => $e['event'] === 'message');
} while (count($messages) < 4 && microtime(true) < $deadline);
$byMember = [];
foreach ($messages as $e) $byMember[$e['member']][] = $e['partition'];
var_dump(count($messages));
foreach ($byMember as $member => $parts) {
    // every message a member got is from the partition it owns
    var_dump(array_unique($parts) === [$owned[$member][0]] || array_values(array_unique($parts)) === $owned[$member]);
}
touch($stop);
foreach ($members as $p) proc_close($p);
$events = $read();
var_dump(count(array_filter($events, fn($e) => $e['event'] === 'closed')));
var_dump(count(array_filter($events, fn($e) => $e['event'] === 'revoke')) >= 2);
foreach ($outputs as $f) { @unlink($f); @unlink("$f.err"); }
@unlink($stop);
--EXPECT--
bool(true)
int(2)
bool(true)
int(4)
bool(true)
bool(true)
int(2)
bool(true)
