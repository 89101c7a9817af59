--TEST--
IDE stubs (stubs/rdkafka.stub.php) match what the extension registers
--SKIPIF--
<?php if (!is_file(__DIR__ . '/../../stubs/generate.php')) die('skip stubs/ not found');
--FILE--
<?php
ob_start();
require __DIR__ . '/../../stubs/generate.php';
$generated = ob_get_clean();
$committed = file_get_contents(__DIR__ . '/../../stubs/rdkafka.stub.php');
echo $generated === $committed ? "in sync\n" : "drift: regenerate with php -d extension=... stubs/generate.php > stubs/rdkafka.stub.php\n";
--EXPECT--
in sync
