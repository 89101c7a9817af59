--TEST--
RD_KAFKA_* constants have librdkafka's values; every error constant, name and text matches the table
--FILE--
<?php
$fixed = [
    'RD_KAFKA_PRODUCER' => 0, 'RD_KAFKA_CONSUMER' => 1,
    'RD_KAFKA_OFFSET_BEGINNING' => -2, 'RD_KAFKA_OFFSET_END' => -1, 'RD_KAFKA_OFFSET_STORED' => -1000,
    'RD_KAFKA_PARTITION_UA' => -1, 'RD_KAFKA_MSG_F_BLOCK' => 4,
    'RD_KAFKA_PURGE_F_QUEUE' => 1, 'RD_KAFKA_PURGE_F_INFLIGHT' => 2, 'RD_KAFKA_PURGE_F_NON_BLOCKING' => 4,
    'RD_KAFKA_CONF_UNKNOWN' => -2, 'RD_KAFKA_CONF_INVALID' => -1, 'RD_KAFKA_CONF_OK' => 0,
    'RD_KAFKA_MSG_PARTITIONER_RANDOM' => 2, 'RD_KAFKA_MSG_PARTITIONER_CONSISTENT' => 3,
    'RD_KAFKA_MSG_PARTITIONER_CONSISTENT_RANDOM' => 4, 'RD_KAFKA_MSG_PARTITIONER_MURMUR2' => 5,
    'RD_KAFKA_MSG_PARTITIONER_MURMUR2_RANDOM' => 6,
    'RD_KAFKA_LOG_PRINT' => 100, 'RD_KAFKA_LOG_SYSLOG' => 101, 'RD_KAFKA_LOG_SYSLOG_PRINT' => 102,
];
foreach ($fixed as $name => $value) {
    if (!defined($name) || constant($name) !== $value) echo "bad $name\n";
}
$table = require __DIR__ . '/librdkafka_errors.inc';
$bad = 0;
foreach ($table as [$code, $name, $text]) {
    $const = "RD_KAFKA_RESP_ERR_$name";
    if (!defined($const) || constant($const) !== $code) { echo "bad constant $const\n"; $bad++; }
    if ($text !== '' && rd_kafka_err2str($code) !== $text) { echo "bad text $code: ", rd_kafka_err2str($code), "\n"; $bad++; }
    if ($text !== '' && rd_kafka_err2name($code) !== $name) { echo "bad name $code: ", rd_kafka_err2name($code), "\n"; $bad++; }
}
$count = 0;
foreach (get_defined_constants(true)['rdkafka'] as $name => $v) {
    if (str_starts_with($name, 'RD_KAFKA_RESP_ERR_')) $count++;
}
var_dump($bad, $count === count($table));

$descs = rd_kafka_get_err_descs();
foreach ($descs as $desc) {
    if ($desc['name'] == '_MSG_TIMED_OUT') var_dump($desc);
}
var_dump(count($descs) === count($table));
var_dump(rd_kafka_err2name(RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE));
var_dump(rd_kafka_err2str(RD_KAFKA_RESP_ERR__PARTITION_EOF));
var_dump(rd_kafka_err2str(-12345), rd_kafka_err2name(-12345));
var_dump(rd_kafka_offset_tail(10), rd_kafka_errno2err(110), rd_kafka_errno(), rd_kafka_err2str("3"));
--EXPECTF--
int(0)
bool(true)
array(3) {
  ["code"]=>
  int(-192)
  ["name"]=>
  string(14) "_MSG_TIMED_OUT"
  ["desc"]=>
  string(24) "Local: Message timed out"
}
bool(true)
string(19) "OFFSET_OUT_OF_RANGE"
string(24) "Broker: No more messages"
string(11) "Err--12345?"
string(11) "ERR_-12345?"

Deprecated: Function rd_kafka_errno2err() is deprecated in %s on line %d

Deprecated: Function rd_kafka_errno() is deprecated in %s on line %d
int(-2010)
int(-185)
int(0)
string(34) "Broker: Unknown topic or partition"
