package io.parallax.coordinator.service;

import io.parallax.coordinator.JobCheckpoints;
import io.parallax.coordinator.JobFailedException;
import io.parallax.engine.io.Checkpoint;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.optim.Optimizer;
import io.parallax.engine.train.TrainingPosition;
import io.parallax.proto.v1.EpochMetrics;
import io.parallax.proto.v1.Job;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A queued job's checkpoint file ({@link JobStore#CHECKPOINT}): the run resumes from it when the
 * job was running when its coordinator stopped, and replaces it after an epoch when at least
 * {@code every} has passed since the run started or last saved (every epoch when zero). Before
 * each save the job's record is written, so that a record read back after a crash holds every
 * epoch up to the checkpoint's.
 */
final class JobCheckpointFile implements JobCheckpoints {

    private static final Logger log = LoggerFactory.getLogger(JobCheckpointFile.class);

    private final Path file;
    private final long everyNanos;
    private final List<EpochMetrics> earlierEpochs;
    private final Runnable writeRecord;
    private final Consumer<String> note;
    private long lastSave = System.nanoTime();

    /**
     * @param job         the record as the run starts (its epochs: those before the checkpoint, if any)
     * @param writeRecord writes the job's record as it is now
     * @param note        tells the job's watchers something (a checkpoint that could not be written)
     */
    JobCheckpointFile(Path file, Duration every, Job job, Runnable writeRecord, Consumer<String> note) {
        this.file = file;
        // beyond a century it never comes (and toNanos would overflow)
        this.everyNanos = every.compareTo(Duration.ofDays(36_500)) > 0 ? Long.MAX_VALUE : every.toNanos();
        this.earlierEpochs = job.getEpochsList();
        this.writeRecord = writeRecord;
        this.note = note;
    }

    @Override
    public Optional<Resumed> restore(Sequential master, Optimizer optimizer) throws JobFailedException {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        TrainingPosition at;
        try {
            at = Checkpoint.load(file, master, optimizer);
        } catch (IOException | RuntimeException e) {
            throw new JobFailedException("its checkpoint cannot be resumed from (" + e.getMessage() + "); resubmit it", e);
        } catch (OutOfMemoryError e) {
            throw new JobFailedException("the coordinator ran out of memory loading its checkpoint (" + e.getMessage()
                    + "): give it more (JAVA_OPTS=-Xmx…) and start it again, or resubmit the job", e);
        }
        double elapsed = at.epoch() > 0 && earlierEpochs.size() >= at.epoch()
                ? earlierEpochs.get(at.epoch() - 1).getElapsedSeconds() : 0;
        log.info("{}: resuming from the checkpoint after epoch {}", file.getParent().getFileName(), at.epoch());
        note.accept("resuming from the checkpoint after epoch " + at.epoch());
        return Optional.of(new Resumed(at, elapsed));
    }

    @Override
    public boolean due(int epochsDone) {
        return System.nanoTime() - lastSave >= everyNanos;
    }

    @Override
    public void save(Sequential master, Optimizer optimizer, TrainingPosition position) {
        writeRecord.run();
        String failure = null;
        try {
            Checkpoint.save(file, master, optimizer, position);
        } catch (IOException | RuntimeException e) {
            failure = e.getMessage();
        } catch (OutOfMemoryError e) {
            // saving copies the optimizer's state: a model that only just fits trains on without
            failure = "out of memory copying the optimizer's state: " + e.getMessage();
        }
        if (failure != null) {
            log.warn("{}: no checkpoint after epoch {}: {}", file.getParent().getFileName(), position.epoch(), failure);
            note.accept("no checkpoint after epoch " + position.epoch() + " (" + failure
                    + "); training goes on, and a restart resumes from the one before, if any");
        }
        lastSave = System.nanoTime();
    }
}
