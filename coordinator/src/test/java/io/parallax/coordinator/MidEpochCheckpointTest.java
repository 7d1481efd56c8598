package io.parallax.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.engine.backend.Backends;
import io.parallax.engine.io.Checkpoint;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.optim.Optimizer;
import io.parallax.engine.train.TrainingPosition;
import io.parallax.worker.job.DataRoots;
import io.parallax.worker.job.JobFiles;
import io.parallax.worker.job.JobPlan;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints inside an epoch: one taken after a step (the interval passed mid-epoch) or where a
 * run was cancelled resumes to the very weights of a straight run, and the resumed epoch's report
 * is the straight one's, its train loss over the steps before the checkpoint included.
 */
class MidEpochCheckpointTest {

    private static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();
    /** 455 training rows (80% of 569) in batches of 8. */
    private static final int STEPS_PER_EPOCH = 57;
    /** The checkpoint resumed from: 20 steps into the second epoch. */
    private static final long MID_STEP = STEPS_PER_EPOCH + 20;

    private static LocalCluster cluster;
    private static JobPlan plan;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        cluster = LocalCluster.start(2, Backends.cpu(), List.of(EXAMPLES));
        // dropout, Adam and a per-step schedule: each would differ if the resumed run were off by a step
        plan = plan(8, 0.2);
    }

    /** The test's job with {@code batch} and {@code validationSplit}. */
    private static JobPlan plan(int batch, double validationSplit) {
        return JobPlan.load(JobFiles.parse("""
                {
                  "name": "mid-epoch",
                  "model": {"layers": [{"linear": {"out_features": 16}}, {"activation": {"type": "relu"}},
                                       {"dropout": {"p": 0.2}}, {"linear": {"out_features": 2}}]},
                  "loss": "cross_entropy",
                  "optimizer": {"name": "adam", "lr": 0.01},
                  "schedule": {"type": "cosine", "granularity": "step"},
                  "data": {"train": {"csv": {"path": "data/breast_cancer.csv", "label_column": "target"}},
                           "validation_split": %s, "normalization": "standardize"},
                  "batch_size": %d, "epochs": 3, "seed": 3
                }""".formatted(validationSplit, batch)), DataRoots.of(List.of(EXAMPLES)));
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    /** Collects a run's epoch reports. */
    private static final class Reports implements JobListener {
        final List<EpochReport> epochs = new ArrayList<>();

        @Override
        public void onEpoch(EpochReport report) {
            epochs.add(report);
        }
    }

    /** A checkpoint file that also keeps a copy of the one saved at {@code copyAt} steps, and lists where it saved. */
    private static final class Copying implements JobCheckpoints {
        final CheckpointFile file;
        final Path path;
        final long copyAt;
        final Path copy;
        final List<TrainingPosition> saved = new ArrayList<>();

        Copying(Path path, Duration every, long copyAt, Path copy) {
            this.file = new CheckpointFile(path, every, epoch -> 0, () -> { }, note -> { });
            this.path = path;
            this.copyAt = copyAt;
            this.copy = copy;
        }

        @Override
        public Optional<Resumed> restore(Sequential master, Optimizer optimizer) throws JobFailedException {
            return file.restore(master, optimizer);
        }

        @Override
        public boolean due(boolean epochEnd) {
            return file.due(epochEnd);
        }

        @Override
        public void save(Sequential master, Optimizer optimizer, TrainingPosition position, double elapsedSeconds,
                EpochSoFar soFar, TrainedOn data) {
            file.save(master, optimizer, position, elapsedSeconds, soFar, data);
            saved.add(position);
            if (position.globalStep() == copyAt) {
                try {
                    Files.copy(path, copy, StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }

    private static float[] weights(JobRunner.Result result) {
        return result.model().parameters().toArray();
    }

    /** The straight run's reports and weights against a run resumed from {@code checkpoint}. */
    private static void assertResumesToTheStraightRun(Path checkpoint, Reports straight, float[] straightWeights)
            throws Exception {
        TrainingPosition at = Checkpoint.readPosition(checkpoint);
        Reports resumed = new Reports();
        JobRunner.Result result = cluster.run(plan, resumed,
                new CheckpointFile(checkpoint, Duration.ofHours(1), epoch -> 0, () -> { }, note -> { }));
        assertArrayEquals(straightWeights, weights(result), "the resumed run's weights are the straight run's");
        // every epoch from the checkpoint's on, the one it was inside included, reported as straight on
        assertEquals(3 - at.epoch(), resumed.epochs.size());
        for (JobListener.EpochReport r : resumed.epochs) {
            JobListener.EpochReport s = straight.epochs.get(r.epoch() - 1);
            assertEquals(s.trainLoss(), r.trainLoss(), "epoch " + r.epoch() + "'s train loss");
            assertEquals(s.valLoss(), r.valLoss(), "epoch " + r.epoch() + "'s validation loss");
            assertTrue(r.elapsedSeconds() > 0);
        }
    }

    @Test
    void aCheckpointTakenInsideAnEpochResumesToTheStraightRun() throws Exception {
        Reports straight = new Reports();
        float[] straightWeights = weights(cluster.run(plan, straight));

        // an interval that has always passed: a checkpoint after every step
        Path mid = dir.resolve("mid.safetensors");
        Copying every = new Copying(dir.resolve("checkpoint.safetensors"), Duration.ofNanos(1), MID_STEP, mid);
        Reports checkpointed = new Reports();
        assertArrayEquals(straightWeights, weights(cluster.run(plan, checkpointed, every)),
                "checkpoints change nothing of the run");
        assertTrue(every.saved.contains(new TrainingPosition(1, 20, MID_STEP, 3, 8)), every.saved.toString());
        assertTrue(every.saved.contains(new TrainingPosition(1, 0, STEPS_PER_EPOCH, 3, 8)), "and at the epoch's end");

        assertResumesToTheStraightRun(mid, straight, straightWeights);
    }

    @Test
    void aCheckpointOfARunWithAnotherBatchSizeOrOtherDataIsRefused() throws Exception {
        Path mid = dir.resolve("mid.safetensors");
        cluster.run(plan, new Reports(), new Copying(dir.resolve("checkpoint.safetensors"), Duration.ofNanos(1), MID_STEP,
                mid));
        // the data changed since (here: another split leaves 427 training rows of the 455)
        JobFailedException data = assertThrows(JobFailedException.class, () -> cluster.run(plan(8, 0.25), new Reports(),
                new CheckpointFile(mid, Duration.ofHours(1), epoch -> 0, () -> { }, note -> { })));
        assertTrue(data.getMessage().startsWith("its checkpoint was taken by a run with other data: 455 training rows "
                + "then, 427 now; put the job and its data back"), data.getMessage());
        JobFailedException batch = assertThrows(JobFailedException.class, () -> cluster.run(plan(16, 0.2), new Reports(),
                new CheckpointFile(mid, Duration.ofHours(1), epoch -> 0, () -> { }, note -> { })));
        assertTrue(batch.getMessage().contains("batch size 8 then, 16 now"), batch.getMessage());
    }

    @Test
    void aCancelledRunLeavesACheckpointWhereItStoppedAndResumesToTheStraightRun() throws Exception {
        Reports straight = new Reports();
        float[] straightWeights = weights(cluster.run(plan, straight));

        // checkpoints every epoch; cancelled 20 steps into the second
        Path path = dir.resolve("checkpoint.safetensors");
        Copying epochs = new Copying(path, Duration.ZERO, -1, null);
        JobListener cancelAt = new JobListener() {
            @Override
            public void onStep(StepReport step) {
                if (step.step() == MID_STEP) {
                    cluster.cancelRunning();
                }
            }
        };
        assertThrows(JobCancelledException.class, () -> cluster.run(plan, cancelAt, epochs));
        assertEquals(List.of(new TrainingPosition(1, 0, STEPS_PER_EPOCH, 3, 8), new TrainingPosition(1, 20, MID_STEP, 3, 8)),
                epochs.saved, "after the first epoch, then where the cancel stopped it");

        assertResumesToTheStraightRun(path, straight, straightWeights);
    }
}
