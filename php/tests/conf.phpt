--TEST--
RdKafka\Conf / TopicConf: librdkafka names, aliases, weak typing, error codes and texts, dump, callbacks
--FILE--
<?php
$conf = new RdKafka\Conf();
$conf->set("client.id", "acme");
$conf->set("message.max.bytes", 1 << 20);       // int, weak typing
$conf->set("linger.ms", 5);                      // alias of queue.buffering.max.ms
$conf->set("enable.idempotence", true);          // bool true -> "1"
$conf->set("topic.metadata.refresh.sparse", "true");
foreach ([["topic.metadata.refresh.sparse", "xx"], ["enable.auto.commit", "maybe"], ["invalid", "xx"], ["message.max.bytes", "abc"]] as [$k, $v]) {
    try {
        $conf->set($k, $v);
        echo "no exception for $k\n";
    } catch (RdKafka\Exception $e) {
        printf("%s(%d): %s\n", get_class($e), $e->getCode(), $e->getMessage());
    }
}
try { $conf->set("client.id", []); } catch (TypeError $e) { echo "TypeError\n"; }
$dump = $conf->dump();
var_dump($dump["client.id"], $dump["message.max.bytes"], $dump["queue.buffering.max.ms"], $dump["topic.metadata.refresh.sparse"]);
var_dump(isset($dump["dr_msg_cb"]));
$conf->setDrMsgCb(function () {});
$conf->setErrorCb('strlen');
$conf->setRebalanceCb(fn() => null);
$conf->setStatsCb(fn() => null);
$conf->setOffsetCommitCb(fn() => null);
$conf->setLogCb(fn() => null);
$conf->setConsumeCb(fn() => null);
$dump = $conf->dump();
foreach (["dr_msg_cb", "error_cb", "rebalance_cb", "stats_cb", "offset_commit_cb", "log_cb", "consume_cb"] as $k) {
    echo $k, ": ", isset($dump[$k]) ? "set" : "unset", "\n";
}
try { $conf->setDrMsgCb("no_such_function"); } catch (TypeError $e) { echo "TypeError for non-callable\n"; }

$conf->set("auto.offset.reset", "earliest");   // topic-level name given to Conf
$tc = new RdKafka\TopicConf();
$tc->set("auto.offset.reset", "smallest");
$tc->set("request.required.acks", -1);
var_dump($tc->dump()["auto.offset.reset"], $tc->dump()["request.required.acks"]);
$tc->setPartitioner(RD_KAFKA_MSG_PARTITIONER_MURMUR2);
try { $tc->setPartitioner(42); } catch (InvalidArgumentException $e) { echo get_class($e), ": ", $e->getMessage(), "\n"; }
try { $tc->set("client.id", "x"); } catch (RdKafka\Exception $e) { echo $e->getCode(), ": ", $e->getMessage(), "\n"; }
$conf->setDefaultTopicConf($tc);
echo "done\n";
--EXPECTF--
RdKafka\Exception(-1): Expected bool value for "topic.metadata.refresh.sparse": true or false
RdKafka\Exception(-1): Expected bool value for "enable.auto.commit": true or false
RdKafka\Exception(-2): No such configuration property: "invalid"
RdKafka\Exception(-1): Invalid value for configuration property "message.max.bytes"
TypeError
string(4) "acme"
string(7) "1048576"
string(1) "5"
string(4) "true"
bool(false)
dr_msg_cb: set
error_cb: set
rebalance_cb: set
stats_cb: set
offset_commit_cb: set
log_cb: set
consume_cb: set
TypeError for non-callable
string(8) "smallest"
string(2) "-1"
InvalidArgumentException: Invalid partitioner given
-2: No such configuration property: "client.id"

Deprecated: Method RdKafka\Conf::setDefaultTopicConf() is deprecated in %s on line %d
done
