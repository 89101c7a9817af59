<?php

declare(strict_types=1);

namespace Kafka;

use Kafka\Protocol\Fetch\Topic;

/**
 * nmred/kafka-php 0.1's consumer API over php-rdkafka's KafkaConsumer (served by kafkars.so).
 *
 *     $consumer = \Kafka\Consumer::getInstance('127.0.0.1:9092');
 *     $consumer->setGroup('my-group');
 *     $consumer->setPartition('test', 0);          // offset from the group, else the oldest
 *     $consumer->setFromOffset(true);
 *     $consumer->setMaxBytes(102400);
 *     foreach ($consumer->fetch() as $topicName => $partition) {
 *         foreach ($partition as $partId => $messageSet) {
 *             foreach ($messageSet as $message) {
 *                 echo (string) $message, "\n";
 *             }
 *         }
 *     }
 *
 * Partitions are assigned explicitly (no group rebalancing, as in nmred 0.1); the group only
 * stores offsets. Each fetch() returns what the partitions hold beyond the consumer's
 * position, at most setMaxBytes() bytes per partition; a message set's offsets are committed
 * for the group once it has been iterated to its end, and the next fetch() continues there.
 */
class Consumer
{
    /** @var self|null */
    private static $instance = null;

    /** @var string */
    private $brokers;

    /** @var int milliseconds */
    private $timeout;

    /** @var string */
    private $group = '';

    /** @var bool start from the group's committed offset (else from the oldest message) */
    private $fromOffset = true;

    /** @var int */
    private $maxBytes = 1048576;

    /** @var array<string, array<int, int|null>> topic => partition => next offset (null: not resolved) */
    private $positions = [];

    /** @var \RdKafka\KafkaConsumer|null */
    private $consumer = null;

    /** @var string|null group the consumer was built for */
    private $consumerGroup = null;

    /**
     * @param string|array<int, string> $hostList Kafka broker list, "host:port[,host:port]"
     * @param int|null $timeout longest wait of one fetch() in milliseconds (default 1000)
     */
    public static function getInstance($hostList, $timeout = null): self
    {
        if (self::$instance === null) {
            self::$instance = new self($hostList, $timeout);
        }
        return self::$instance;
    }

    /** @param string|array<int, string> $hostList */
    private function __construct($hostList, $timeout = null)
    {
        $this->brokers = BrokerList::parse($hostList);
        $this->timeout = ($timeout === null || (int) $timeout <= 0) ? 1000 : (int) $timeout;
    }

    /** The group whose committed offsets are read and written. */
    public function setGroup($group): self
    {
        $this->group = (string) $group;
        return $this;
    }

    /**
     * Adds a partition to read; `$offset` null starts at the group's committed offset (with
     * setFromOffset(true), the default) or at the oldest message.
     */
    public function setPartition($topicName, $partitionId = 0, $offset = null): self
    {
        $this->positions[(string) $topicName][(int) $partitionId] = $offset === null ? null : (int) $offset;
        return $this;
    }

    /** Whether to start at the group's committed offset (true) or the oldest message. */
    public function setFromOffset($fromOffset): self
    {
        $this->fromOffset = (bool) $fromOffset;
        return $this;
    }

    /** Most bytes returned per partition by one fetch(). */
    public function setMaxBytes($maxSize): self
    {
        $this->maxBytes = max(1, (int) $maxSize);
        return $this;
    }

    /** Forgets the partitions set so far. */
    public function clearPayload(): void
    {
        $this->positions = [];
    }

    /**
     * Fetches what the partitions hold beyond the current positions.
     *
     * @return Topic|false topic name => partitions => message sets; false when no partition
     *   was set
     * @throws Exception on broker errors
     */
    public function fetch()
    {
        if ($this->positions === []) {
            return false;
        }
        $consumer = $this->consumer();
        $this->resolvePositions($consumer);
        $assignment = [];
        $open = [];
        foreach ($this->positions as $topic => $partitions) {
            foreach ($partitions as $partition => $offset) {
                $assignment[] = new \RdKafka\TopicPartition($topic, $partition, $offset);
                $open["$topic\0$partition"] = true;
            }
        }
        $consumer->assign($assignment);

        /** @var array<string, array<int, array<int, \RdKafka\Message>>> $messages */
        $messages = [];
        $bytes = [];
        $deadline = microtime(true) + $this->timeout / 1000;
        while ($open !== [] && ($left = $deadline - microtime(true)) > 0) {
            $m = $consumer->consume((int) max(1, min(100, $left * 1000)));
            if ($m === null || $m->err === RD_KAFKA_RESP_ERR__TIMED_OUT) {
                continue;
            }
            $key = "{$m->topic_name}\0{$m->partition}";
            if ($m->err === RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                unset($open[$key]);
                continue;
            }
            if ($m->err !== RD_KAFKA_RESP_ERR_NO_ERROR) {
                throw new Exception('fetch failed: ' . $m->errstr());
            }
            if (!isset($open[$key])) {
                // Past this partition's byte budget: the next fetch() starts here again.
                continue;
            }
            $messages[$m->topic_name][$m->partition][] = $m;
            $bytes[$key] = ($bytes[$key] ?? 0) + strlen((string) $m->payload);
            if ($bytes[$key] >= $this->maxBytes) {
                unset($open[$key]);
            }
        }
        foreach ($messages as $topic => $partitions) {
            foreach ($partitions as $partition => $list) {
                $this->positions[$topic][$partition] = end($list)->offset + 1;
            }
        }
        return new Topic($messages, $this->positions, $this);
    }

    /**
     * High watermark of a partition (-1 when unknown).
     *
     * @internal used by the fetch result objects
     */
    public function highWatermark(string $topic, int $partition): int
    {
        $low = $high = -1;
        try {
            $this->consumer()->queryWatermarkOffsets($topic, $partition, $low, $high, $this->timeout);
        } catch (\RdKafka\Exception $e) {
            return -1;
        }
        return $high;
    }

    /**
     * Commits `$next` (the offset after the last message read) for the group.
     *
     * @internal called when a message set has been iterated to its end
     */
    public function commitOffset(string $topic, int $partition, int $next): void
    {
        if ($this->group === '') {
            return;
        }
        try {
            $this->consumer()->commit([new \RdKafka\TopicPartition($topic, $partition, $next)]);
        } catch (\RdKafka\Exception $e) {
            throw new Exception("cannot commit offset $next of $topic-$partition: " . $e->getMessage(), 0, $e);
        }
    }

    /** Starting offsets for partitions set without one. */
    private function resolvePositions(\RdKafka\KafkaConsumer $consumer): void
    {
        $unresolved = [];
        foreach ($this->positions as $topic => $partitions) {
            foreach ($partitions as $partition => $offset) {
                if ($offset === null) {
                    $unresolved[] = new \RdKafka\TopicPartition($topic, $partition);
                }
            }
        }
        if ($unresolved === []) {
            return;
        }
        $committed = [];
        if ($this->fromOffset && $this->group !== '') {
            try {
                $committed = $consumer->getCommittedOffsets($unresolved, max(1000, $this->timeout));
            } catch (\RdKafka\Exception $e) {
                throw new Exception('cannot read committed offsets: ' . $e->getMessage(), 0, $e);
            }
        }
        foreach ($unresolved as $tp) {
            $this->positions[$tp->getTopic()][$tp->getPartition()] = RD_KAFKA_OFFSET_BEGINNING;
        }
        foreach ($committed as $tp) {
            if ($tp->getOffset() >= 0) {
                $this->positions[$tp->getTopic()][$tp->getPartition()] = $tp->getOffset();
            }
        }
    }

    private function consumer(): \RdKafka\KafkaConsumer
    {
        $group = $this->group === '' ? 'kafka-php' : $this->group;
        if ($this->consumer !== null && $this->consumerGroup === $group) {
            return $this->consumer;
        }
        $conf = new \RdKafka\Conf();
        $conf->set('metadata.broker.list', $this->brokers);
        $conf->set('group.id', $group);
        $conf->set('enable.auto.commit', 'false');
        $conf->set('enable.auto.offset.store', 'false');
        $conf->set('enable.partition.eof', 'true');
        $conf->set('auto.offset.reset', 'earliest');
        $conf->set('fetch.wait.max.ms', '100');
        $this->consumer = new \RdKafka\KafkaConsumer($conf);
        $this->consumerGroup = $group;
        return $this->consumer;
    }
}
