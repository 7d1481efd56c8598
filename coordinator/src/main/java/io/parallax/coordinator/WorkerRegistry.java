package io.parallax.coordinator;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.receptionist.Receptionist;
import io.parallax.worker.WorkerActor;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Watches the Receptionist for workers and keeps {@link LiveWorkers} current. The Receptionist's
 * listing holds only reachable workers: one whose node becomes unreachable drops out at once,
 * before the split-brain resolver downs it, so a running step notices within seconds.
 */
public final class WorkerRegistry extends AbstractBehavior<WorkerRegistry.Command> {

    /** Messages the registry accepts. */
    public sealed interface Command permits ListingChanged {}

    private record ListingChanged(Receptionist.Listing listing) implements Command {}

    /** The live workers, readable from any thread. */
    public static final class LiveWorkers {
        private final AtomicReference<List<ActorRef<WorkerActor.Command>>> current = new AtomicReference<>(List.of());
        /** When the live set last changed; guarded by this. Far in the past until it first does. */
        private long lastChangeNanos = System.nanoTime() - TimeUnit.HOURS.toNanos(1);

        /** Reachable workers now, in a stable order (by actor path). */
        public List<ActorRef<WorkerActor.Command>> get() {
            return current.get();
        }

        /** Blocks until at least {@code n} workers are live or {@code timeoutMillis} passes; returns the live ones. */
        public List<ActorRef<WorkerActor.Command>> await(int n, long timeoutMillis) throws InterruptedException {
            long deadline = System.currentTimeMillis() + timeoutMillis;
            synchronized (this) {
                while (current.get().size() < n) {
                    long left = deadline - System.currentTimeMillis();
                    if (left <= 0) {
                        break;
                    }
                    wait(left);
                }
            }
            return current.get();
        }

        /**
         * Waits until the live set has not changed for {@code quietMillis} (workers still
         * joining, as after a coordinator restart), but no longer than {@code timeoutMillis};
         * returns the live ones. Returns at once when nothing changed lately.
         */
        public List<ActorRef<WorkerActor.Command>> awaitSettled(long quietMillis, long timeoutMillis)
                throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            synchronized (this) {
                while (true) {
                    long quietFor = System.nanoTime() - lastChangeNanos;
                    long quietLeft = TimeUnit.MILLISECONDS.toNanos(quietMillis) - quietFor;
                    long left = deadline - System.nanoTime();
                    if (quietLeft <= 0 || left <= 0) {
                        break;
                    }
                    TimeUnit.NANOSECONDS.timedWait(this, Math.min(quietLeft, left));
                }
            }
            return current.get();
        }

        void set(List<ActorRef<WorkerActor.Command>> workers) {
            current.set(List.copyOf(workers));
            synchronized (this) {
                lastChangeNanos = System.nanoTime();
                notifyAll();
            }
        }
    }

    public static Behavior<Command> create(LiveWorkers live) {
        return Behaviors.setup(context -> {
            ActorRef<Receptionist.Listing> adapter = context.messageAdapter(Receptionist.Listing.class, ListingChanged::new);
            context.getSystem().receptionist().tell(Receptionist.subscribe(WorkerActor.SERVICE_KEY, adapter));
            return new WorkerRegistry(context, live);
        });
    }

    private final LiveWorkers live;

    private WorkerRegistry(ActorContext<Command> context, LiveWorkers live) {
        super(context);
        this.live = live;
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder().onMessage(ListingChanged.class, this::onListing)
                .onSignal(PostStop.class, stop -> noneLive()).build();
    }

    /**
     * This node stopped (downed, or shut down): no worker is reachable through it any more. A
     * running job sees its workers gone at once, rather than when its step times out.
     */
    private Behavior<Command> noneLive() {
        live.set(List.of());
        return this;
    }

    private Behavior<Command> onListing(ListingChanged m) {
        List<ActorRef<WorkerActor.Command>> workers = new ArrayList<>(m.listing().getServiceInstances(WorkerActor.SERVICE_KEY));
        workers.sort(Comparator.comparing(r -> r.path().toString()));
        int before = live.get().size();
        live.set(workers);
        if (workers.size() != before) {
            getContext().getLog().info("{} worker(s) live", workers.size());
        }
        return this;
    }
}
