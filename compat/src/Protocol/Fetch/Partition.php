<?php

declare(strict_types=1);

namespace Kafka\Protocol\Fetch;

use Kafka\Consumer;

/**
 * The partitions of one topic in a fetch result: partition id => {@see MessageSet}. As in
 * nmred/kafka-php, getHighOffset() and getMessageOffset() refer to the partition the
 * iteration is at.
 *
 * @implements \Iterator<int, MessageSet>
 */
class Partition implements \Iterator, \Countable
{
    /** @var string */
    private $topic;

    /** @var array<int, array<int, \RdKafka\Message>> */
    private $sets;

    /** @var array<int, int> partition ids in order */
    private $ids;

    /** @var int */
    private $at = 0;

    /** @var Consumer */
    private $consumer;

    /**
     * @param array<int, array<int, \RdKafka\Message>> $sets
     * @internal built by \Kafka\Consumer
     */
    public function __construct(string $topic, array $sets, Consumer $consumer)
    {
        ksort($sets);
        $this->topic = $topic;
        $this->sets = $sets;
        $this->ids = array_keys($sets);
        $this->consumer = $consumer;
    }

    public function current(): MessageSet
    {
        $id = $this->ids[$this->at];
        return new MessageSet($this->topic, $id, $this->sets[$id], $this->consumer);
    }

    public function key(): int
    {
        return $this->ids[$this->at];
    }

    public function next(): void
    {
        $this->at++;
    }

    public function rewind(): void
    {
        $this->at = 0;
    }

    public function valid(): bool
    {
        return $this->at < count($this->ids);
    }

    public function count(): int
    {
        return count($this->ids);
    }

    /** The topic's name. */
    public function getTopicName(): string
    {
        return $this->topic;
    }

    /** High watermark (offset after the last message) of the current partition. */
    public function getHighOffset(): int
    {
        return $this->valid() ? $this->consumer->highWatermark($this->topic, $this->key()) : -1;
    }

    /** Offset of the last message fetched from the current partition (-1 if none). */
    public function getMessageOffset(): int
    {
        if (!$this->valid()) {
            return -1;
        }
        $set = $this->sets[$this->key()];
        return $set === [] ? -1 : (int) end($set)->offset;
    }
}
