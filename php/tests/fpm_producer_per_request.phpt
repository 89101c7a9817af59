--TEST--
php-fpm: a Producer per request for 1,000 requests leaves no leaked threads in the workers
--SKIPIF--
<?php
if (!is_executable('/usr/sbin/php-fpm8.2')) die('skip php8.2-fpm not installed');
if (!is_executable('/usr/bin/cgi-fcgi')) die('skip cgi-fcgi (libfcgi-bin) not installed');
if (!is_readable('/proc/self/maps')) die('skip /proc not available');
--FILE--
<?php
// The extension file this PHP loaded (run-tests passes it with -d extension=).
$so = null;
foreach (file('/proc/self/maps') as $line) {
    if (preg_match('#(/\S*(?:kafkars|rdkafka)[^/\s]*\.so)\s*$#', $line, $m)) { $so = $m[1]; break; }
}
$dir = sys_get_temp_dir() . '/kafkars-fpm-' . getmypid();
@mkdir($dir);
$brokers = getenv('KAFKARS_BROKERS') ?: '127.0.0.1:1';
file_put_contents("$dir/index.php", <<<'PHP'
<?php
$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', $_SERVER['KAFKARS_TEST_BROKERS']);
$conf->set('message.timeout.ms', '5000');
$producer = new RdKafka\Producer($conf);
$producer->newTopic('phpt_fpm')->produce(RD_KAFKA_PARTITION_UA, 0, 'request ' . $_SERVER['REQUEST_TIME_FLOAT']);
if ($_SERVER['KAFKARS_TEST_BROKERS'] !== '127.0.0.1:1') {
    $producer->flush(5000);
} else {
    $producer->purge(RD_KAFKA_PURGE_F_QUEUE);
}
echo getmypid(), ' ', rd_kafka_thread_cnt(), "\n";
PHP);
$root = function_exists('posix_getuid') && posix_getuid() === 0;
$user = $root ? "user = root\ngroup = root" : '';
file_put_contents("$dir/fpm.conf", <<<CONF
[global]
error_log = $dir/fpm.log
daemonize = no
[www]
$user
listen = $dir/fpm.sock
pm = static
pm.max_children = 2
clear_env = no
CONF);
$cmd = array_merge(['/usr/sbin/php-fpm8.2'], $root ? ['-R'] : [], ['-n', '-y', "$dir/fpm.conf", '-d', "extension=$so"]);
$fpm = proc_open($cmd, [1 => ['file', "$dir/out.log", 'w'], 2 => ['file', "$dir/err.log", 'w']], $pipes);
$deadline = microtime(true) + 10;
while (!file_exists("$dir/fpm.sock") && microtime(true) < $deadline) usleep(20000);
$threads = [];
$failures = 0;
for ($i = 0; $i < 1000; $i++) {
    $env = "SCRIPT_FILENAME=$dir/index.php REQUEST_METHOD=GET KAFKARS_TEST_BROKERS=" . escapeshellarg($brokers);
    $out = shell_exec("env $env /usr/bin/cgi-fcgi -bind -connect " . escapeshellarg("$dir/fpm.sock") . " 2>&1");
    if (!preg_match('/^(\d+) (\d+)$/m', (string) $out, $m)) { $failures++; continue; }
    $threads[$m[1]][] = (int) $m[2];
}
proc_terminate($fpm, 3); // SIGQUIT: graceful stop
proc_close($fpm);
var_dump($failures);
var_dump(count($threads) >= 1);
$ok = true;
foreach ($threads as $pid => $counts) {
    // The runtime starts once per worker; later requests reuse it.
    if (max($counts) > 4 || end($counts) !== $counts[0]) { $ok = false; echo "worker $pid: ", implode(',', array_unique($counts)), "\n"; }
}
var_dump($ok);
array_map('unlink', glob("$dir/*"));
@rmdir($dir);
--EXPECT--
int(0)
bool(true)
bool(true)
