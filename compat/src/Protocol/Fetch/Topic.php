<?php

declare(strict_types=1);

namespace Kafka\Protocol\Fetch;

use Kafka\Consumer;

/**
 * What \Kafka\Consumer::fetch() returns: topic name => {@see Partition}.
 *
 * @implements \IteratorAggregate<string, Partition>
 */
class Topic implements \IteratorAggregate, \Countable
{
    /** @var array<string, Partition> */
    private $topics = [];

    /**
     * @param array<string, array<int, array<int, \RdKafka\Message>>> $messages
     * @param array<string, array<int, int|null>> $positions every requested partition
     * @internal built by \Kafka\Consumer
     */
    public function __construct(array $messages, array $positions, Consumer $consumer)
    {
        foreach ($positions as $topic => $partitions) {
            $sets = [];
            foreach ($partitions as $partition => $next) {
                $sets[$partition] = $messages[$topic][$partition] ?? [];
            }
            $this->topics[$topic] = new Partition($topic, $sets, $consumer);
        }
    }

    /** @return \ArrayIterator<string, Partition> */
    public function getIterator(): \ArrayIterator
    {
        return new \ArrayIterator($this->topics);
    }

    public function count(): int
    {
        return count($this->topics);
    }
}
