<?php

declare(strict_types=1);

namespace Kafka;

/**
 * Errors of the nmred/kafka-php compatibility layer (nmred's own base exception name).
 */
class Exception extends \RuntimeException
{
}
