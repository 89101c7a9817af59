<?php

declare(strict_types=1);

namespace Kafka\Protocol\Fetch;

use Kafka\Consumer;

/**
 * The messages fetched from one partition. Iterating to the end commits the position after
 * the last message for the consumer's group (nmred/kafka-php committed as it read, too).
 *
 * @implements \IteratorAggregate<int, Message>
 */
class MessageSet implements \IteratorAggregate, \Countable
{
    /** @var string */
    private $topic;

    /** @var int */
    private $partition;

    /** @var array<int, \RdKafka\Message> */
    private $messages;

    /** @var Consumer */
    private $consumer;

    /**
     * @param array<int, \RdKafka\Message> $messages
     * @internal built by \Kafka\Consumer
     */
    public function __construct(string $topic, int $partition, array $messages, Consumer $consumer)
    {
        $this->topic = $topic;
        $this->partition = $partition;
        $this->messages = $messages;
        $this->consumer = $consumer;
    }

    /** @return \Generator<int, Message> */
    public function getIterator(): \Generator
    {
        $last = null;
        foreach ($this->messages as $i => $m) {
            yield $i => new Message($m);
            $last = (int) $m->offset;
        }
        if ($last !== null) {
            $this->consumer->commitOffset($this->topic, $this->partition, $last + 1);
        }
    }

    public function count(): int
    {
        return count($this->messages);
    }

    public function getPartition(): int
    {
        return $this->partition;
    }
}
