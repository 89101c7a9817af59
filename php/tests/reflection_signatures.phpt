--TEST--
Reflection signatures match php-rdkafka 6.0 (classes, methods, parameters, defaults, return types)
--FILE--
<?php
require __DIR__ . '/signatures.inc';
$expected = file_get_contents(__DIR__ . '/signatures.txt');
$actual = kafkars_sig_all(explode("\n", rtrim($expected)));
if ($actual === $expected) {
    echo "OK\n";
} else {
    $e = explode("\n", $expected);
    $a = explode("\n", $actual);
    foreach (array_diff($e, $a) as $l) echo "- $l\n";
    foreach (array_diff($a, $e) as $l) echo "+ $l\n";
}
--EXPECT--
OK
