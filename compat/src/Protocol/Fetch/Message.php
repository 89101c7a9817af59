<?php

declare(strict_types=1);

namespace Kafka\Protocol\Fetch;

/**
 * One fetched message; `(string) $message` is its payload, as in nmred/kafka-php.
 */
class Message
{
    /** @var string */
    private $message;

    /** @var string|null */
    private $key;

    /** @var int */
    private $offset;

    /** @var int */
    private $partition;

    /** @var int milliseconds */
    private $timestamp;

    /** @internal built from an \RdKafka\Message */
    public function __construct(\RdKafka\Message $m)
    {
        $this->message = (string) $m->payload;
        $this->key = $m->key;
        $this->offset = (int) $m->offset;
        $this->partition = (int) $m->partition;
        $this->timestamp = (int) $m->timestamp;
    }

    public function getMessage(): string
    {
        return $this->message;
    }

    public function getKey(): ?string
    {
        return $this->key;
    }

    public function getOffset(): int
    {
        return $this->offset;
    }

    public function getPartition(): int
    {
        return $this->partition;
    }

    public function getTimestamp(): int
    {
        return $this->timestamp;
    }

    public function __toString(): string
    {
        return $this->message;
    }
}
