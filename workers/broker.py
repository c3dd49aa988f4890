"""The Redis transport our processes use: kombu's, except that a queue consumed without
acknowledgement is read many messages per round trip.

kombu's Redis consumer takes one message per BRPOP, so a worker pays a broker round trip, a poll
wake-up and a reply parse for every message. For the predict queue that was the largest cost left
in the worker's main process once acknowledgements were gone (celeryconfig.UNACKNOWLEDGED_QUEUES).
Here, each BRPOP that returns a message is followed by one pipelined ``RPOP key count`` per
priority of every such queue, and whatever it returns is delivered in the same turn of the loop.

Only unacknowledged queues are read this way. A message of an acknowledged queue must be recorded
as unacknowledged in the same atomic step that takes it (kombu's MULTI/EXEC), or a worker that
dies between the two would lose it; an unacknowledged message has no such record to keep.
Needs Redis 6.2 or later (``RPOP`` with a count).
"""
from kombu.transport import redis
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import loads

from workers.internals import RedisChannel


class Channel(RedisChannel):
    #: Messages taken per queue and priority after each BRPOP: enough to fill a gathered batch in a
    #: few round trips, few enough that one host does not take a queue's backlog from the others.
    #: Set with ``broker_transport_options={"fetch_at_once": N}``.
    fetch_at_once = 100
    from_transport_options = redis.Channel.from_transport_options + ("fetch_at_once",)

    #: After a look that found fewer than ``backlog`` messages waiting, this many BRPOPs go without
    #: one. A look costs a round trip, as a BRPOP does: one that brings back a single message saves
    #: nothing, and on a queue that is not backed up (single requests arriving at an even pace, the
    #: reader keeping up) every look was a second round trip for each message: a third of the main
    #: process's time at 1,000 messages a second (bench/bench_serving.py, py-spy).
    reads_between_looks = 8
    backlog = 2

    def __init__(self, *args, **kwargs):
        self._unacknowledged_consumers = {}  # consumer tag -> queue
        self._reads_before_next_look = 0
        super().__init__(*args, **kwargs)

    def basic_consume(self, queue, no_ack, callback, consumer_tag, **kwargs):
        if no_ack:
            self._unacknowledged_consumers[consumer_tag] = queue
        return super().basic_consume(queue, no_ack, callback, consumer_tag, **kwargs)

    def basic_cancel(self, consumer_tag):
        self._unacknowledged_consumers.pop(consumer_tag, None)
        return super().basic_cancel(consumer_tag)

    def after_delivery(self) -> None:
        if self._reads_before_next_look:
            self._reads_before_next_look -= 1
        elif self._deliver_waiting() < self.backlog:
            self._reads_before_next_look = self.reads_between_looks

    def _deliver_waiting(self) -> int:
        """Deliver up to ``fetch_at_once`` waiting messages of each unacknowledged queue and
        priority, highest priority first, in one round trip; how many were delivered."""
        queues = sorted(set(self._unacknowledged_consumers.values()).intersection(self.active_queues))
        if not queues:
            return 0
        keys = [(queue, self.queue_key(queue, priority)) for priority in self.priority_steps for queue in queues]
        with self.conn_or_acquire() as client, client.pipeline(transaction=False) as pipe:
            for _, key in keys:
                pipe.rpop(key, self.fetch_at_once)
            replies = pipe.execute()
        delivered = 0
        for (queue, _), messages in zip(keys, replies):
            for message in messages or ():
                self.deliver(loads(bytes_to_str(message)), queue)
                delivered += 1
        return delivered


class Transport(redis.Transport):
    Channel = Channel
