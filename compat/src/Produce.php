<?php

declare(strict_types=1);

namespace Kafka;

/**
 * nmred/kafka-php 0.1's producer API over php-rdkafka's classes (served by kafkars.so).
 *
 *     $produce = \Kafka\Produce::getInstance('127.0.0.1:9092', 3000);
 *     $produce->setRequireAck(-1);
 *     $produce->setMessages('test', 0, ['one', 'two']);
 *     $result = $produce->send();   // [topic => [partition => ['errCode' => 0, 'offset' => N]]]
 *
 * The first argument is a Kafka broker list (it was a ZooKeeper address in nmred 0.1; such an
 * address is refused with an explanation). Messages wait in memory until send(), which
 * produces them all and waits for every delivery report.
 */
class Produce
{
    /** @var self|null */
    private static $instance = null;

    /** @var string */
    private $brokers;

    /** @var int milliseconds */
    private $timeout;

    /** @var int */
    private $requiredAck = 1;

    /** @var array<string, array<int, array<int, string>>> topic => partition => payloads */
    private $payload = [];

    /** @var \RdKafka\Producer|null */
    private $producer = null;

    /** @var int|null acks the producer was built with */
    private $producerAck = null;

    /** @var array<string, array<int, array{errCode: int, offset: int}>> */
    private $results = [];

    /**
     * @param string|array<int, string> $hostList Kafka broker list, "host:port[,host:port]"
     * @param int|null $timeout request timeout in milliseconds (default 5000)
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
        $this->timeout = ($timeout === null || (int) $timeout <= 0) ? 5000 : (int) $timeout;
    }

    /**
     * Acknowledgements: 0 (none), 1 (leader), -1 (all in-sync replicas).
     */
    public function setRequireAck($ack = -1): self
    {
        $ack = (int) $ack;
        if ($ack < -1) {
            throw new Exception("invalid required ack $ack: use -1, 0 or 1");
        }
        $this->requiredAck = $ack;
        return $this;
    }

    /** Request timeout in milliseconds. */
    public function setTimeOut($timeout): self
    {
        $this->timeout = max(1, (int) $timeout);
        return $this;
    }

    /**
     * Queues messages for a partition until send().
     *
     * @param array<int, string>|string $messages
     */
    public function setMessages($topicName, $partitionId = 0, $messages = []): self
    {
        foreach ((array) $messages as $m) {
            $this->payload[(string) $topicName][(int) $partitionId][] = (string) $m;
        }
        return $this;
    }

    /**
     * Partition ids of a topic that currently have a leader.
     *
     * @return array<int, int>
     */
    public function getAvailablePartitions($topicName): array
    {
        $producer = $this->producer();
        $topic = $producer->newTopic((string) $topicName);
        try {
            $md = $producer->getMetadata(false, $topic, $this->timeout);
        } catch (\RdKafka\Exception $e) {
            throw new Exception('cannot read metadata of topic ' . $topicName . ': ' . $e->getMessage(), 0, $e);
        }
        $ids = [];
        foreach ($md->getTopics() as $t) {
            if ($t->getTopic() !== (string) $topicName || $t->getErr() !== 0) {
                continue;
            }
            foreach ($t->getPartitions() as $p) {
                if ($p->getLeader() >= 0) {
                    $ids[] = $p->getId();
                }
            }
        }
        sort($ids);
        return $ids;
    }

    /**
     * Sends every queued message and waits for the broker's answers.
     *
     * @return array<string, array<int, array{errCode: int, offset: int}>> per topic and
     *   partition: errCode (0 = success, else a Kafka/librdkafka error code) and the offset
     *   of the first message; an empty array when nothing was queued
     * @throws Exception when messages remain undelivered after the timeout
     */
    public function send(): array
    {
        if ($this->payload === []) {
            return [];
        }
        $producer = $this->producer();
        $this->results = [];
        foreach ($this->payload as $topicName => $partitions) {
            $topic = $producer->newTopic($topicName);
            foreach ($partitions as $partition => $messages) {
                foreach ($messages as $m) {
                    $topic->produce($partition, 0, $m);
                    $producer->poll(0);
                }
            }
        }
        $this->payload = [];
        $err = $producer->flush($this->timeout);
        if ($err !== RD_KAFKA_RESP_ERR_NO_ERROR) {
            throw new Exception(
                $producer->getOutQLen() . ' messages not delivered within ' . $this->timeout
                . ' ms: ' . rd_kafka_err2str($err)
            );
        }
        return $this->results;
    }

    private function producer(): \RdKafka\Producer
    {
        if ($this->producer !== null && $this->producerAck === $this->requiredAck) {
            return $this->producer;
        }
        if ($this->producer !== null) {
            $this->producer->flush($this->timeout);
        }
        $conf = new \RdKafka\Conf();
        $conf->set('metadata.broker.list', $this->brokers);
        $conf->set('acks', (string) $this->requiredAck);
        $conf->set('linger.ms', '1');
        $conf->set('socket.timeout.ms', (string) max(10, $this->timeout));
        $conf->set('message.timeout.ms', (string) max(1, $this->timeout));
        $conf->setDrMsgCb(function ($kafka, \RdKafka\Message $m): void {
            $r = &$this->results[$m->topic_name][$m->partition];
            if ($r === null || ($r['errCode'] === 0 && $m->err !== 0)) {
                $r = ['errCode' => $m->err, 'offset' => $m->err === 0 ? (int) $m->offset : -1];
            } elseif ($m->err === 0 && $r['errCode'] === 0 && $m->offset < $r['offset']) {
                $r['offset'] = (int) $m->offset;
            }
        });
        $this->producer = new \RdKafka\Producer($conf);
        $this->producerAck = $this->requiredAck;
        return $this->producer;
    }
}
