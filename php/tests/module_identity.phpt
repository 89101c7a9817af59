--TEST--
Module identity: registers as rdkafka 6.x, KAFKARS_VERSION, phpinfo() names kafkars
--FILE--
<?php
var_dump(extension_loaded('rdkafka'));
var_dump(version_compare(phpversion('rdkafka'), '6.0.0', '>=') && version_compare(phpversion('rdkafka'), '7.0.0', '<'));
var_dump(is_string(KAFKARS_VERSION) && preg_match('/^\d+\.\d+\.\d+/', KAFKARS_VERSION) === 1);
var_dump(sprintf('0x%08x', RD_KAFKA_VERSION), RD_KAFKA_BUILD_VERSION === RD_KAFKA_VERSION);
ob_start();
phpinfo(INFO_MODULES);
$info = ob_get_clean();
var_dump(str_contains($info, 'rdkafka support'), str_contains($info, 'kafkars version'), str_contains($info, KAFKARS_VERSION));
--EXPECT--
bool(true)
bool(true)
bool(true)
string(10) "0x020f00ff"
bool(true)
bool(true)
bool(true)
bool(true)
