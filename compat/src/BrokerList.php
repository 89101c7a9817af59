<?php

declare(strict_types=1);

namespace Kafka;

/**
 * The address nmred/kafka-php 0.1 took was a ZooKeeper connect string. Kafka clients today
 * talk to brokers directly, so this layer takes a broker list ("host:9092,host2:9092") in
 * its place and refuses anything that looks like ZooKeeper, saying what to pass instead.
 *
 * @internal
 */
final class BrokerList
{
    /** ZooKeeper's well-known client port. */
    private const ZOOKEEPER_PORT = 2181;

    /**
     * @param string|array<int, string> $hostList
     * @throws Exception for an empty list or a ZooKeeper-style address
     */
    public static function parse($hostList): string
    {
        $items = is_array($hostList) ? $hostList : explode(',', (string) $hostList);
        $brokers = [];
        foreach ($items as $item) {
            $item = trim((string) $item);
            if ($item === '') {
                continue;
            }
            $hostPort = $item;
            $slash = strpos($item, '/');
            if ($slash !== false) {
                throw self::zookeeper($hostList, "it has a ZooKeeper chroot path ('" . substr($item, $slash) . "')");
            }
            $colon = strrpos($hostPort, ':');
            $port = $colon === false ? 9092 : (int) substr($hostPort, $colon + 1);
            if ($port === self::ZOOKEEPER_PORT) {
                throw self::zookeeper($hostList, 'port 2181 is ZooKeeper\'s');
            }
            $brokers[] = $colon === false ? "$hostPort:9092" : $hostPort;
        }
        if ($brokers === []) {
            throw new Exception('Kafka broker list is empty: pass "host:9092[,host2:9092]"');
        }
        return implode(',', $brokers);
    }

    /** @param string|array<int, string> $given */
    private static function zookeeper($given, string $why): Exception
    {
        $shown = is_array($given) ? implode(',', $given) : (string) $given;
        return new Exception(
            "'$shown' looks like a ZooKeeper address ($why). kafkars talks to Kafka brokers "
            . 'directly: pass the broker list instead, e.g. "127.0.0.1:9092" or '
            . '"kafka1:9092,kafka2:9092".'
        );
    }
}
