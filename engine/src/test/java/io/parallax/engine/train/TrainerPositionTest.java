package io.parallax.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.parallax.engine.backend.Backends;
import io.parallax.engine.data.Dataset;
import io.parallax.engine.layer.BatchNorm1d;
import io.parallax.engine.layer.Dropout;
import io.parallax.engine.layer.Linear;
import io.parallax.engine.layer.ReLU;
import io.parallax.engine.loss.CrossEntropyLoss;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.optim.Adam;
import io.parallax.engine.optim.ParameterGroups;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The trainer's position bookkeeping: what the step listener sees, stopping and going on in the
 * same trainer, {@link Trainer#trainSteps} at the end of the run, and a position that does not
 * fit the data. (Resuming through a checkpoint file is {@code io.CheckpointResumeTest}.)
 */
class TrainerPositionTest {

    /** 50 random rows of 4 features and 3 classes: with batch 8, an epoch is 7 steps (the last of 2 rows). */
    private static final Dataset DATA = randomData(50);
    private static final int STEPS_PER_EPOCH = 7;
    private static final TrainingConfig CONFIG = TrainingConfig.of(3, 8, 21);

    private static Dataset randomData(int rows) {
        SplittableRandom r = new SplittableRandom(4);
        float[] x = new float[rows * 4];
        int[] y = new int[rows];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < rows; i++) {
            y[i] = r.nextInt(3);
        }
        return new Dataset(x, y, 4, 3);
    }

    private static Trainer trainer(Sequential model) {
        return new Trainer(model, new CrossEntropyLoss(), Adam.builder().lr(0.01).build(ParameterGroups.of(model)),
                CONFIG);
    }

    private static Sequential model() {
        return new Sequential(4, List.of(new Linear(4, 6), new BatchNorm1d(6), new ReLU(), new Dropout(0.25f),
                new Linear(6, 3)), Backends.cpu(), 2);
    }

    @Test
    void theListenerSeesTheNextStepsPositionAndAnEpochsEndAsTheNextStart() {
        Trainer t = trainer(model());
        List<TrainingPosition> seen = new ArrayList<>();
        t.setStepListener(seen::add);
        List<EpochResult> results = t.fit(DATA, null, null);
        assertEquals(3, results.size());
        assertEquals(3 * STEPS_PER_EPOCH, seen.size());
        for (int s = 1; s <= seen.size(); s++) {
            assertEquals(new TrainingPosition(s / STEPS_PER_EPOCH, s % STEPS_PER_EPOCH, s, 21, 8), seen.get(s - 1));
        }
        assertEquals(new TrainingPosition(3, 0, 21, 21, 8), t.position());
    }

    @Test
    void stoppingAndGoingOnInTheSameTrainerEqualsOneRun() {
        Sequential straightModel = model();
        List<EpochResult> straight = trainer(straightModel).fit(DATA, DATA, null);

        Sequential model = model();
        Trainer t = trainer(model);
        t.setStepListener(p -> p.globalStep() != 10); // stop after step 10, inside epoch 1
        List<EpochResult> before = t.fit(DATA, DATA, null);
        assertEquals(1, before.size(), "the partial epoch 1 is not reported");
        assertEquals(new TrainingPosition(1, 3, 10, 21, 8), t.position());

        t.setStepListener(null);
        List<EpochResult> after = t.fit(DATA, DATA, null);
        assertEquals(List.of(1, 2), after.stream().map(EpochResult::epoch).toList());
        assertEquals(DATA.rows() - 3 * 8, after.get(0).samples(), "epoch 1 goes on from its fourth batch");
        assertEquals(DATA.rows(), after.get(1).samples());
        assertArrayEquals(straightModel.parameters().toArray(), model.parameters().toArray());
        assertArrayEquals(straightModel.buffers().toArray(), model.buffers().toArray());
        assertEquals(straight.get(2).validation(), after.get(1).validation());
        assertEquals(straight.get(2).trainLoss(), after.get(1).trainLoss());
    }

    @Test
    void trainStepsStopsAtTheEndOfTheConfiguredEpochs() {
        Trainer t = trainer(model());
        assertEquals(5, t.trainSteps(DATA, 5));
        assertEquals(3 * STEPS_PER_EPOCH - 5, t.trainSteps(DATA, 1000));
        assertEquals(new TrainingPosition(3, 0, 21, 21, 8), t.position());
        assertEquals(0, t.trainSteps(DATA, 1));
        assertTrue(t.fit(DATA, null, null).isEmpty());
    }

    @Test
    void trainEpochStartsAnotherEpochAtItsFirstBatch() {
        Trainer t = trainer(model());
        t.trainSteps(DATA, 3);
        EpochResult r = t.trainEpoch(DATA, 2, null);
        assertEquals(DATA.rows(), r.samples());
        assertEquals(new TrainingPosition(3, 0, 3 + STEPS_PER_EPOCH, 21, 8), t.position());
    }

    @Test
    void aPositionBeyondTheDataIsAnError() {
        Trainer t = trainer(model());
        t.resume(new TrainingPosition(1, STEPS_PER_EPOCH, 14, 21, 8));
        var e = assertThrows(IllegalStateException.class, () -> t.trainSteps(DATA, 1));
        assertTrue(e.getMessage().contains("beyond the 7 batches of an epoch of 50 rows"), e.getMessage());
    }
}
