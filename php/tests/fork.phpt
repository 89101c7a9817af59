--TEST--
pcntl_fork(): a client inherited by the child refuses work with a clear exception; the child can create new clients
--SKIPIF--
<?php if (!function_exists('pcntl_fork')) die('skip pcntl not available');
--FILE--
<?php
$conf = new RdKafka\Conf();
$conf->set('bootstrap.servers', '127.0.0.1:1');
$conf->set('log_level', '0'); // no default stderr logger lines (librdkafka prints them)
$p = new RdKafka\Producer($conf);
$t = $p->newTopic('forked');
$pid = pcntl_fork();
if ($pid === 0) {
    try {
        $t->produce(0, 0, 'x');
        echo "child: produce worked\n";
    } catch (RdKafka\Exception $e) {
        echo "child: ", get_class($e), ": ", str_contains($e->getMessage(), 'fork') ? 'mentions fork' : $e->getMessage(), "\n";
    }
    try {
        $p->poll(0);
        echo "child: poll worked\n";
    } catch (RdKafka\Exception $e) {
        echo "child: poll refused\n";
    }
    $fresh = new RdKafka\Producer($conf);
    $fresh->newTopic('fresh')->produce(RD_KAFKA_PARTITION_UA, 0, 'y');
    echo "child: new producer outq ", $fresh->getOutQLen(), "\n";
    $fresh->purge(RD_KAFKA_PURGE_F_QUEUE);
    exit(0);
}
pcntl_waitpid($pid, $status);
echo "parent: child exit ", pcntl_wexitstatus($status), "\n";
$t->produce(0, 0, 'parent still works');
echo "parent: outq ", $p->getOutQLen(), "\n";
$p->purge(RD_KAFKA_PURGE_F_QUEUE);
--EXPECT--
child: RdKafka\Exception: mentions fork
child: poll refused
child: new producer outq 1
parent: child exit 0
parent: outq 1
