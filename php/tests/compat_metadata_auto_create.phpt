--TEST--
php-rdkafka parity: a Producer's getMetadata() for one missing topic lets the broker auto-create it (allow.auto.create.topics defaults to true for producers, false for consumers)
--SKIPIF--
<?php require __DIR__ . '/skipif_broker.inc';
--FILE--
<?php
require __DIR__ . '/broker_tools.inc';
$base = kafkars_topic('phpt_md_auto');

// A broker may create the topic asynchronously (Apache Kafka answers LEADER_NOT_AVAILABLE
// first): with $untilCreated, ask again until it has partitions.
function describe(object $client, string $name, bool $untilCreated = false): string {
    $deadline = microtime(true) + 20;
    while (true) {
        $md = $client->getMetadata(false, $client->newTopic($name), 10000);
        $out = [];
        $created = false;
        foreach ($md->getTopics() as $t) {
            $out[] = sprintf('err=%d partitions=%d', $t->getErr(), count($t->getPartitions()));
            $created = $created || ($t->getErr() === 0 && count($t->getPartitions()) > 0);
        }
        if (!$untilCreated || $created || microtime(true) >= $deadline) {
            return implode(', ', $out);
        }
        usleep(100000);
    }
}

function client(string $class, ?string $autoCreate): object {
    $conf = new RdKafka\Conf();
    $conf->set('bootstrap.servers', getenv('KAFKARS_BROKERS'));
    if ($class === 'RdKafka\KafkaConsumer') $conf->set('group.id', 'phpt_md_auto');
    if ($autoCreate !== null) $conf->set('allow.auto.create.topics', $autoCreate);
    return new $class($conf);
}

$producer = client('RdKafka\Producer', null);
echo 'producer, default: ', describe($producer, "{$base}_p", true), "\n";
echo 'producer, again: ', describe($producer, "{$base}_p"), "\n";
echo 'producer, allow.auto.create.topics=false: ', describe(client('RdKafka\Producer', 'false'), "{$base}_pf"), "\n";
echo 'low-level consumer, default: ', describe(client('RdKafka\Consumer', null), "{$base}_c"), "\n";
echo 'KafkaConsumer, default: ', describe(client('RdKafka\KafkaConsumer', null), "{$base}_k"), "\n";
echo 'low-level consumer, allow.auto.create.topics=true: ', describe(client('RdKafka\Consumer', 'true'), "{$base}_ct", true), "\n";
echo 'producer sees the consumer-created topic: ', describe($producer, "{$base}_ct"), "\n";
?>
--EXPECT--
producer, default: err=0 partitions=1
producer, again: err=0 partitions=1
producer, allow.auto.create.topics=false: err=3 partitions=0
low-level consumer, default: err=3 partitions=0
KafkaConsumer, default: err=3 partitions=0
low-level consumer, allow.auto.create.topics=true: err=0 partitions=1
producer sees the consumer-created topic: err=0 partitions=1
