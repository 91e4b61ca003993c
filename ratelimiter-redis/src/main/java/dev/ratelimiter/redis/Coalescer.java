package dev.ratelimiter.redis;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/*
 * Hot keys coalesced: the decisions of this process on one key that arrive while a call on that
 * key is in flight go to Redis together, as one script call, once it is answered.
 *
 * Protocol, per key: a decision on a key with no call in flight (no lane in the map) puts a lane
 * there and sends its own call at once, exactly the call it would send without coalescing: a lone
 * decision waits for nothing. A decision on a key whose lane is present joins the lane's waiting
 * queue. When the call in flight is over (answered, failed or timed out), the lane takes up to
 * MAX_BATCH waiting decisions, in the order they joined, and sends them as one call (a call of
 * one when one waits), whose end takes the next ones; when none waits, the lane leaves the map.
 * So at most one call per key and process is in flight, and every decision is sent after every
 * decision that joined before it was answered: Redis decides them in arrival order.
 *
 * Exactness: the batch script decides the requests one after another, each on the state the ones
 * before it left, at each request's own clock reading (client time) or at the one Redis time the
 * script reads (Redis time: as if they came within that microsecond); the GCRA and counter
 * scripts write the last grant's state once, the log and the composite run a lone decision's code
 * per request (a composite's lane is its limiter key, whose Redis keys are all its limits').
 * Each caller gets the very reply its own call would have got had the calls come one after another
 * in that order, so every bound of the algorithms holds unchanged.
 *
 * Timeouts and failures, per caller: a waiting decision has its own deadline, its arrival plus the
 * timeout (a synchronous caller waits until it on its own thread; an asynchronous one is
 * registered with the shared timer), so waiting behind a call in flight never makes a caller wait
 * longer than the timeout. A decision over before its batch is taken (timed out, its caller
 * interrupted) is left out of it: it counts nowhere. A batch that fails fails each of its decisions
 * with the same failure, which each caller's failure policy then answers; a batch call has the
 * timeout of any call, from its own sending, so it ends after every deadline of its decisions.
 *
 * Concurrency: the map holds a lane only while a call on its key is in flight. A lane's queue and
 * its `closed` flag are guarded by the lane's monitor; a lane is removed from the map, and closed,
 * under that monitor, so a decision that finds a closed lane looks the key up again and finds
 * either no lane (and sends) or a newer one. The calls' completions run on Lettuce's event loop
 * (or the timer thread), one per lane at a time, since a lane has one call in flight; each sends
 * the next batch before its callers' continuations run. A call Lettuce fails at once ends before
 * it is returned: the lane then answers its batch and takes the next in a loop, never recursing.
 */
/** Coalesces the concurrent decisions of one limit on each key; see the comment above. Thread-safe. */
final class Coalescer {

    /** The most decisions one batch call carries: 128. */
    static final int MAX_BATCH = 128;

    private final ConcurrentHashMap<String, Lane> lanes = new ConcurrentHashMap<>();
    private final ScriptCaller caller;
    private final String sha;
    private final String body;
    /** A batch call's arguments before its pairs: an operation's, the operation {@code "batch"}. */
    private final String[] batchTemplate;
    private final int permitsIndex;
    /** The figures of one decision in a batch's reply. */
    private final int figures;

    /**
     * A coalescer for one single limit's script, whose decisions answer four figures each.
     *
     * @param caller        the calls' caller
     * @param script        the script, which must have the {@code "batch"} operation
     * @param opTemplate    its operations' arguments, the clock reading (index 0), the permits and
     *                      the operation ({@code modeIndex}) left to fill; a batch sends them all,
     *                      then each decision's reading and permits
     * @param permitsIndex  where the permits go in a decision's arguments
     * @param modeIndex     where the operation goes
     */
    Coalescer(ScriptCaller caller, Scripts script, String[] opTemplate, int permitsIndex, int modeIndex) {
        this(caller, script.sha(), script.body(), batchTemplate(opTemplate, permitsIndex, modeIndex), permitsIndex, 4);
    }

    /**
     * @param caller        the calls' caller
     * @param sha           the script's SHA-1
     * @param body          the script, which must have the {@code "batch"} operation
     * @param batchTemplate a batch call's arguments before its pairs, the clock reading (index 0)
     *                      left to fill
     * @param permitsIndex  where the permits are in a decision's arguments
     * @param figures       how many figures a decision's reply has (a batch's reply has them of
     *                      each decision, one after another)
     */
    Coalescer(ScriptCaller caller, String sha, String body, String[] batchTemplate, int permitsIndex, int figures) {
        this.caller = caller;
        this.sha = sha;
        this.body = body;
        this.batchTemplate = batchTemplate;
        this.permitsIndex = permitsIndex;
        this.figures = figures;
    }

    private static String[] batchTemplate(String[] opTemplate, int permitsIndex, int modeIndex) {
        // Every argument of an operation (the log's floor included), then the pairs.
        String[] template = opTemplate.clone();
        template[permitsIndex] = "1"; // the batch's permits are in its pairs
        template[modeIndex] = "batch";
        return template;
    }

    /**
     * One decision, sent at once when no call on {@code key} is in flight, else with the next
     * batch on it.
     *
     * @param key       the limiter key, which decisions are coalesced by
     * @param redisKeys its Redis keys
     * @param argv      the decision's arguments as its own call would send them
     * @param sync      whether the caller waits for the reply itself ({@link ScriptCaller#await}),
     *                  else the shared timer times it out
     * @return the reply its own call would get: the figures of the decision
     */
    ScriptCaller.TimedReply decide(String key, String[] redisKeys, String[] argv, boolean sync) {
        while (true) {
            Lane lane = lanes.get(key);
            if (lane == null) {
                Lane mine = new Lane(key);
                if (lanes.putIfAbsent(key, mine) == null) {
                    return caller.start(sha, body, redisKeys, argv, !sync, mine);
                }
                continue;
            }
            Waiter w = null;
            synchronized (lane) {
                if (!lane.closed) {
                    w = new Waiter(redisKeys, argv, System.nanoTime() + caller.timeoutNanos());
                    if (lane.waiting == null) {
                        lane.waiting = new ArrayDeque<>();
                    }
                    lane.waiting.add(w);
                }
            }
            if (w != null) {
                if (!sync) {
                    caller.timeOutLater(w);
                }
                return w;
            }
        }
    }

    /**
     * {@link #decide} for a synchronous caller, waited for on its thread until its deadline, as
     * {@link ScriptCaller#callSync} does for a call of its own.
     *
     * @return the reply
     * @throws RedisRateLimiterException on failure or after the timeout
     * @throws InterruptedException      if interrupted before or while waiting (then the decision
     *                                   is abandoned: left out of any batch not yet sent)
     */
    List<Object> decideSync(String key, String[] redisKeys, String[] argv) throws InterruptedException {
        ScriptCaller.checkNotInterrupted();
        return caller.await(decide(key, redisKeys, argv, true));
    }

    /** @return the keys with a call in flight; for tests */
    int lanes() {
        return lanes.size();
    }

    /** @return the decisions on {@code key} waiting for its call in flight; for tests */
    int waiting(String key) {
        Lane lane = lanes.get(key);
        if (lane == null) {
            return 0;
        }
        synchronized (lane) {
            return lane.waiting == null ? 0 : lane.waiting.size();
        }
    }

    /**
     * The call on a lane's key is over: sends the decisions waiting, or closes the lane when none
     * waits. Runs on the thread that completed the call.
     */
    private void next(Lane lane) {
        // A loop, not a recursion: a call Lettuce fails at once (disconnected, its queue full)
        // ends before it is even returned, and a long run of such batches must not deepen the stack.
        while (true) {
            Waiter[] batch = take(lane);
            if (batch == null) {
                return;
            }
            ScriptCaller.TimedReply call;
            try {
                call = caller.start(sha, body, batch[0].redisKeys, argv(batch), true);
            } catch (RuntimeException | Error e) {
                // Nothing was sent: the decisions fail with it (their policy answers), the lane goes on.
                deliver(batch, null, e);
                continue;
            }
            if (call.isDone()) {
                call.whenComplete((reply, failure) -> deliver(batch, reply, failure)); // runs here, now
                continue;
            }
            call.whenComplete(new Answer(lane, batch));
            return;
        }
    }

    /**
     * Takes the decisions waiting on a lane for its next call, up to {@link #MAX_BATCH} in the
     * order they came, leaving out those already over; closes the lane when none is left.
     *
     * @return the decisions, or {@code null} when the lane was closed
     */
    private Waiter[] take(Lane lane) {
        synchronized (lane) {
            int n = 0;
            Waiter[] batch = null;
            ArrayDeque<Waiter> waiting = lane.waiting;
            for (Waiter w; waiting != null && n < MAX_BATCH && (w = waiting.poll()) != null; ) {
                if (w.isDone()) {
                    continue; // timed out or abandoned before it was sent: it counts nowhere
                }
                if (batch == null) {
                    batch = new Waiter[Math.min(MAX_BATCH, waiting.size() + 1)];
                } else if (n == batch.length) {
                    batch = Arrays.copyOf(batch, Math.min(MAX_BATCH, n + waiting.size() + 1));
                }
                batch[n++] = w;
            }
            if (n == 0) {
                lane.closed = true;
                lanes.remove(lane.key, lane);
                return null;
            }
            return n < batch.length ? Arrays.copyOf(batch, n) : batch;
        }
    }

    /** Answers each decision of a batch with its share of the reply, or with the failure. */
    private void deliver(Waiter[] batch, List<Object> reply, Throwable failure) {
        if (failure != null) {
            RedisRateLimiterException failed = failure instanceof RedisRateLimiterException r ? r
                    : new RedisRateLimiterException("rate-limit script failed for key "
                    + RedisKeys.forMessage(batch[0].key()) + ": " + failure, failure);
            for (Waiter w : batch) {
                w.completeExceptionally(failed);
            }
        } else if (batch.length == 1) {
            batch[0].complete(reply);
        } else if (reply.size() != figures * batch.length) {
            RedisRateLimiterException odd = new RedisRateLimiterException("rate-limit batch script for key "
                    + RedisKeys.forMessage(batch[0].key()) + " answered " + reply.size() + " figures for "
                    + batch.length + " decisions", null);
            for (Waiter w : batch) {
                w.completeExceptionally(odd);
            }
        } else {
            for (int i = 0; i < batch.length; i++) {
                batch[i].complete(reply.subList(figures * i, figures * i + figures));
            }
        }
    }

    /** @return a call's arguments: a lone decision's own, or the batch operation with each one's pair */
    private String[] argv(Waiter[] batch) {
        if (batch.length == 1) {
            return batch[0].argv;
        }
        String[] argv = Arrays.copyOf(batchTemplate, batchTemplate.length + 2 * batch.length);
        String first = batch[0].argv[0];
        argv[0] = first;
        int i = batchTemplate.length;
        for (Waiter w : batch) {
            String now = w.argv[0];
            argv[i++] = now.equals(first) ? "" : now;
            argv[i++] = w.argv[permitsIndex];
        }
        return argv;
    }

    /** A key's calls in flight: when one is over, the lane sends the next batch. */
    private final class Lane implements Runnable {
        final String key;
        /** The decisions waiting for the call in flight to end, made by the first; guarded by this. */
        ArrayDeque<Waiter> waiting;
        /** Whether the lane left the map; guarded by this. */
        boolean closed;

        Lane(String key) {
            this.key = key;
        }

        /** The lone call it was made for is over. */
        @Override
        public void run() {
            next(this);
        }
    }

    /** A batch's end: the next batch is sent, then each decision gets its share of the reply. */
    private final class Answer implements BiConsumer<List<Object>, Throwable> {
        private final Lane lane;
        private final Waiter[] batch;

        Answer(Lane lane, Waiter[] batch) {
            this.lane = lane;
            this.batch = batch;
        }

        @Override
        public void accept(List<Object> reply, Throwable failure) {
            next(lane); // before the callers' continuations run: the next batch waits for none of them
            deliver(batch, reply, failure);
        }
    }

    /** A decision waiting for the call on its key in flight. */
    private final class Waiter extends ScriptCaller.TimedReply {
        final String[] redisKeys;
        final String[] argv;
        private final long deadline;

        Waiter(String[] redisKeys, String[] argv, long deadline) {
            this.redisKeys = redisKeys;
            this.argv = argv;
            this.deadline = deadline;
        }

        @Override
        public long deadline() {
            return deadline;
        }

        @Override
        public void timeOut() {
            if (!isDone()) {
                completeExceptionally(caller.timedOut(key()));
            }
        }

        @Override
        String key() {
            return redisKeys[0];
        }
    }
}
