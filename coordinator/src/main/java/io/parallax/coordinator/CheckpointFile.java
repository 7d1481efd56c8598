package io.parallax.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.parallax.engine.io.Checkpoint;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.optim.Optimizer;
import io.parallax.engine.train.TrainingPosition;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.IntToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link JobCheckpoints} in one file (an engine {@link Checkpoint}): the run resumes from it when
 * it exists, and replaces it after an epoch or a step once at least {@code every} has passed since
 * the run started or last saved (after every epoch, and never inside one, when zero). The file's
 * metadata {@value #PROGRESS_KEY} holds the run's seconds so far and the part of the epoch
 * trained. The job queue keeps one per job in its folder; {@code trainer local --checkpoint}
 * names one.
 */
public final class CheckpointFile implements JobCheckpoints {

    private static final Logger log = LoggerFactory.getLogger(CheckpointFile.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Metadata key of the run's progress at the checkpoint (JSON: {@code elapsed_seconds},
     * {@code epoch_loss_sum}, {@code epoch_train_seconds}, and the data trained on:
     * {@code data_digest} as a string, {@code train_rows}). A file without it (written before
     * 2026-11-23, always at an epoch's start) takes its seconds from the job's reports.
     */
    public static final String PROGRESS_KEY = "coordinator.progress";

    private final Path file;
    private final long everyNanos;
    private final IntToDoubleFunction elapsedAfter;
    private final Runnable beforeSave;
    private final Consumer<String> note;
    private long lastSave = System.nanoTime();
    private boolean mustExist;

    /**
     * @param elapsedAfter the seconds the run had taken after epoch n (1-based), as reported then;
     *                     what a resumed run's reports go on counting from
     * @param beforeSave   runs before each save (the queue writes the job's record, so that a
     *                     record read back after a crash holds every epoch up to the checkpoint's)
     * @param note         tells the job's watchers something (a resumption, a checkpoint that
     *                     could not be written)
     */
    public CheckpointFile(Path file, Duration every, IntToDoubleFunction elapsedAfter, Runnable beforeSave,
            Consumer<String> note) {
        this.file = file;
        // beyond a century it never comes (and toNanos would overflow)
        this.everyNanos = every.compareTo(Duration.ofDays(36_500)) > 0 ? Long.MAX_VALUE : every.toNanos();
        this.elapsedAfter = elapsedAfter;
        this.beforeSave = beforeSave;
        this.note = note;
    }

    /**
     * Makes a missing file fail the run instead of starting it afresh: for a run whose model is
     * built without what the checkpoint replaces (the job's {@code init_from} file).
     */
    public CheckpointFile mustExist() {
        mustExist = true;
        return this;
    }

    @Override
    public Optional<Resumed> restore(Sequential master, Optimizer optimizer) throws JobFailedException {
        if (!Files.exists(file)) {
            if (mustExist) {
                throw new JobFailedException("its checkpoint " + file + " is gone; resubmit the job to train it again "
                        + "from the first epoch");
            }
            return Optional.empty();
        }
        TrainingPosition at;
        try {
            at = Checkpoint.load(file, master, optimizer);
        } catch (IOException | RuntimeException e) {
            throw new JobFailedException("its checkpoint " + file + " cannot be resumed from (" + withoutPath(e)
                    + "); resubmit the job to train it again from the first epoch", e);
        } catch (OutOfMemoryError e) {
            throw new JobFailedException("the coordinator ran out of memory loading its checkpoint (" + e.getMessage()
                    + "): give it more (JAVA_OPTS=-Xmx…) and start it again, or resubmit the job", e);
        }
        double elapsed = -1;
        EpochSoFar soFar = EpochSoFar.NONE;
        TrainedOn data = null;
        try {
            String progress = Checkpoint.readMetadata(file).get(PROGRESS_KEY);
            if (progress != null) {
                JsonNode p = JSON.readTree(progress);
                elapsed = p.path("elapsed_seconds").asDouble(-1);
                soFar = new EpochSoFar(p.path("epoch_loss_sum").asDouble(0), p.path("epoch_train_seconds").asDouble(0));
                if (p.hasNonNull("data_digest")) {
                    // a string: a JSON number would go through a double and lose the digest's low bits
                    data = new TrainedOn(Long.parseLong(p.get("data_digest").asText()), p.path("train_rows").asInt(-1));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // the weights and the position came back: only the reports' figures fall back
            log.warn("{}: its progress figures cannot be read ({}); the run's seconds go on from its reports", file,
                    e.toString());
        }
        if (elapsed < 0) {
            elapsed = at.epoch() > 0 ? elapsedAfter.applyAsDouble(at.epoch()) : 0;
        }
        log.info("{}: resuming from the checkpoint {}", file, JobCheckpoints.where(at));
        note.accept("resuming from the checkpoint " + JobCheckpoints.where(at));
        return Optional.of(new Resumed(at, elapsed, soFar, data));
    }

    /**
     * The failure's message without the file's path, which the job's message already names:
     * "PATH: its bytes were …" gives "its bytes were …", "PATH is a checkpoint of …" "it is a
     * checkpoint of …".
     */
    private String withoutPath(Exception e) {
        String why = String.valueOf(e.getMessage());
        String path = file.toString();
        return why.startsWith(path + ": ") ? why.substring(path.length() + 2)
                : why.startsWith(path + " ") ? "it " + why.substring(path.length() + 1) : why;
    }

    @Override
    public boolean due(boolean epochEnd) {
        return everyNanos == 0 ? epochEnd : System.nanoTime() - lastSave >= everyNanos;
    }

    @Override
    public void save(Sequential master, Optimizer optimizer, TrainingPosition position, double elapsedSeconds,
            EpochSoFar soFar, TrainedOn data) {
        beforeSave.run();
        String failure = null;
        try {
            Checkpoint.save(file, master, optimizer, position, Map.of(PROGRESS_KEY, JSON.writeValueAsString(Map.of(
                    "elapsed_seconds", elapsedSeconds, "epoch_loss_sum", soFar.lossSum(),
                    "epoch_train_seconds", soFar.trainSeconds(), "data_digest", Long.toString(data.digest()),
                    "train_rows", data.trainRows()))));
        } catch (IOException | RuntimeException e) {
            failure = e.getMessage();
        } catch (OutOfMemoryError e) {
            // saving copies the optimizer's state: a model that only just fits trains on without
            failure = "out of memory copying the optimizer's state: " + e.getMessage();
        }
        if (failure != null) {
            log.warn("{}: no checkpoint {}: {}", file, JobCheckpoints.where(position), failure);
            note.accept("no checkpoint " + JobCheckpoints.where(position) + " (" + failure
                    + "); a resumption would start from the one before, if any");
        }
        lastSave = System.nanoTime();
    }
}
