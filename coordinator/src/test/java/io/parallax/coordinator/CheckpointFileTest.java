package io.parallax.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.engine.backend.Backends;
import io.parallax.engine.layer.Linear;
import io.parallax.engine.layer.ReLU;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.optim.Optimizer;
import io.parallax.engine.optim.Optimizers;
import io.parallax.engine.optim.ParameterGroups;
import io.parallax.engine.train.TrainingPosition;
import io.parallax.proto.v1.EpochMetrics;
import io.parallax.proto.v1.Job;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The queue's checkpoint file: when it saves, what a failed save or an unusable file does. */
class CheckpointFileTest {

    @TempDir
    Path dir;

    /** A digest beyond 2^53, which a JSON number read as a double would round. */
    private static final JobCheckpoints.TrainedOn DATA = new JobCheckpoints.TrainedOn(0x7123_4567_89ab_cdefL, 455);

    private final List<String> notes = new ArrayList<>();
    private final AtomicInteger recordWrites = new AtomicInteger();

    private static Sequential model(long seed) {
        return new Sequential(4, List.of(new Linear(4, 3), new ReLU(), new Linear(3, 2)), Backends.cpu(), seed);
    }

    private static Optimizer adam(Sequential m) {
        return Optimizers.create("adam", Map.of("lr", 0.01), ParameterGroups.of(m));
    }

    private CheckpointFile file(Path path, Duration every, Job job) {
        return new CheckpointFile(path, every, epoch -> job.getEpochs(epoch - 1).getElapsedSeconds(),
                recordWrites::incrementAndGet, notes::add);
    }

    @Test
    void savesWhenTheIntervalHasPassedAndResumesWithTheElapsedTimeOfTheEpochsBefore() throws Exception {
        Path path = dir.resolve("checkpoint.safetensors");
        CheckpointFile hourly = file(path, Duration.ofHours(1), Job.getDefaultInstance());
        assertFalse(hourly.due(true) || hourly.due(false), "an hour has not passed");
        CheckpointFile every = file(path, Duration.ZERO, Job.getDefaultInstance());
        assertTrue(every.due(true));
        assertFalse(every.due(false), "an interval of zero: after every epoch, never inside one");
        assertTrue(file(path, Duration.ofNanos(1), Job.getDefaultInstance()).due(false), "inside an epoch once due");
        assertTrue(every.restore(model(1), adam(model(1))).isEmpty(), "no file: a fresh start");

        Sequential saved = model(1);
        every.save(saved, adam(saved), new TrainingPosition(2, 0, 40, 7, 16), 7.5, JobCheckpoints.EpochSoFar.NONE,
                DATA);
        assertEquals(1, recordWrites.get(), "the record is written before the checkpoint");
        assertTrue(Files.exists(path));

        Sequential fresh = model(2);
        JobCheckpoints.Resumed at = file(path, Duration.ZERO, Job.getDefaultInstance()).restore(fresh, adam(fresh))
                .orElseThrow();
        assertEquals(new TrainingPosition(2, 0, 40, 7, 16), at.position());
        assertEquals(7.5, at.elapsedSeconds());
        assertEquals(JobCheckpoints.EpochSoFar.NONE, at.epochSoFar());
        assertArrayEquals(saved.parameters().toArray(), fresh.parameters().toArray());
        assertTrue(notes.contains("resuming from the checkpoint after epoch 2"), notes.toString());
    }

    @Test
    void aCheckpointInsideAnEpochKeepsWhatItsReportNeeds() throws Exception {
        Path path = dir.resolve("checkpoint.safetensors");
        Sequential saved = model(1);
        file(path, Duration.ZERO, Job.getDefaultInstance()).save(saved, adam(saved),
                new TrainingPosition(2, 5, 45, 7, 16), 9.75, new JobCheckpoints.EpochSoFar(12.5, 1.25), DATA);
        Sequential fresh = model(2);
        JobCheckpoints.Resumed at = file(path, Duration.ZERO, Job.getDefaultInstance()).restore(fresh, adam(fresh))
                .orElseThrow();
        assertEquals(new TrainingPosition(2, 5, 45, 7, 16), at.position());
        assertEquals(9.75, at.elapsedSeconds());
        assertEquals(new JobCheckpoints.EpochSoFar(12.5, 1.25), at.epochSoFar());
        assertEquals(DATA, at.data(), "the digest whole, past a double's 53 bits");
        assertTrue(notes.contains("resuming from the checkpoint in epoch 3, after its step 5"), notes.toString());
    }

    @Test
    void aCheckpointWithoutProgressFiguresTakesItsSecondsFromTheReports() throws Exception {
        // as written before the figures were kept: the engine's file alone
        Path path = dir.resolve("checkpoint.safetensors");
        Sequential saved = model(1);
        io.parallax.engine.io.Checkpoint.save(path, saved, adam(saved), new TrainingPosition(2, 0, 40, 7, 16));
        Job withEpochs = Job.newBuilder().addEpochs(EpochMetrics.newBuilder().setEpoch(1).setElapsedSeconds(3.5))
                .addEpochs(EpochMetrics.newBuilder().setEpoch(2).setElapsedSeconds(7.25)).build();
        Sequential fresh = model(2);
        JobCheckpoints.Resumed at = file(path, Duration.ZERO, withEpochs).restore(fresh, adam(fresh)).orElseThrow();
        assertEquals(7.25, at.elapsedSeconds());
        assertEquals(JobCheckpoints.EpochSoFar.NONE, at.epochSoFar());
        assertEquals(null, at.data(), "not said, so not checked");
    }

    @Test
    void aCheckpointThatCannotBeWrittenIsANoteAndTrainingGoesOn() {
        Path folder = dir.resolve("in-the-way");
        folder.toFile().mkdirs();
        Sequential m = model(1);
        file(folder, Duration.ZERO, Job.getDefaultInstance()).save(m, adam(m), new TrainingPosition(3, 0, 60, 7, 16), 1,
                JobCheckpoints.EpochSoFar.NONE, DATA);
        assertEquals(1, notes.size(), notes.toString());
        assertTrue(notes.get(0).startsWith("no checkpoint after epoch 3 ("), notes.get(0));
        assertTrue(notes.get(0).endsWith("a resumption would start from the one before, if any"), notes.get(0));
    }

    @Test
    void aCheckpointOfAnotherModelFailsTheJobNamingTheDifference() throws Exception {
        Path path = dir.resolve("checkpoint.safetensors");
        Sequential other = new Sequential(4, List.of(new Linear(4, 5), new ReLU(), new Linear(5, 2)), Backends.cpu(), 1);
        file(path, Duration.ZERO, Job.getDefaultInstance()).save(other, adam(other), new TrainingPosition(1, 0, 20, 7, 16),
                1, JobCheckpoints.EpochSoFar.NONE, DATA);
        Sequential m = model(1);
        JobFailedException e = assertThrows(JobFailedException.class,
                () -> file(path, Duration.ZERO, Job.getDefaultInstance()).restore(m, adam(m)));
        assertTrue(e.getMessage().startsWith("its checkpoint " + path + " cannot be resumed from ("), e.getMessage());
        assertTrue(e.getMessage().contains("(it is a checkpoint of another model"), e.getMessage());
        assertEquals(1, e.getMessage().split(java.util.regex.Pattern.quote(path.toString()), -1).length - 1,
                "the path once: " + e.getMessage());
    }

    @Test
    void aCheckpointDamagedOnDiskFailsTheJobSayingSo() throws Exception {
        Path path = dir.resolve("checkpoint.safetensors");
        Sequential saved = model(1);
        file(path, Duration.ZERO, Job.getDefaultInstance()).save(saved, adam(saved), new TrainingPosition(1, 0, 20, 7, 16),
                1, JobCheckpoints.EpochSoFar.NONE, DATA);
        byte[] bytes = java.nio.file.Files.readAllBytes(path);
        bytes[bytes.length - 3] ^= 1; // a weight or an optimizer value a little off: nothing else would notice
        java.nio.file.Files.write(path, bytes);
        Sequential m = model(2);
        JobFailedException e = assertThrows(JobFailedException.class,
                () -> file(path, Duration.ZERO, Job.getDefaultInstance()).restore(m, adam(m)));
        assertTrue(e.getMessage().startsWith("its checkpoint " + path + " cannot be resumed from (its bytes were "
                + "changed after it was written"), e.getMessage());
        assertTrue(e.getMessage().endsWith("the file is damaged); resubmit the job to train it again from the first "
                + "epoch"), e.getMessage());
    }
}
