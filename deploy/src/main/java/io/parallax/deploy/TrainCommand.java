package io.parallax.deploy;

import io.parallax.engine.backend.Backends;
import io.parallax.engine.clip.GradientClipping;
import io.parallax.engine.data.CsvReader;
import io.parallax.engine.data.Dataset;
import io.parallax.engine.data.IdxReader;
import io.parallax.engine.data.InputFormat;
import io.parallax.engine.data.Normalization;
import io.parallax.engine.data.Preprocessing;
import io.parallax.engine.io.ModelFile;
import io.parallax.engine.io.ReplacingFile;
import io.parallax.engine.layer.Layer;
import io.parallax.engine.layer.Layers;
import io.parallax.engine.layer.Linear;
import io.parallax.engine.loss.BinaryCrossEntropyWithLogitsLoss;
import io.parallax.engine.loss.CrossEntropyLoss;
import io.parallax.engine.loss.Loss;
import io.parallax.engine.loss.MeanSquaredErrorLoss;
import io.parallax.engine.model.Sequential;
import io.parallax.engine.optim.Optimizer;
import io.parallax.engine.optim.Optimizers;
import io.parallax.engine.optim.ParameterGroups;
import io.parallax.engine.schedule.LearningRateSchedule;
import io.parallax.engine.train.EpochResult;
import io.parallax.engine.train.Trainer;
import io.parallax.engine.train.TrainingConfig;
import io.parallax.worker.job.JobPlan;
import io.parallax.worker.job.JobValidator;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trainer train}: trains a multi-layer perceptron in this process on a CSV file or an
 * IDX pair (MNIST / Fashion-MNIST), printing one line per epoch, and exports the model as
 * safetensors. The distributed runtime runs the same loop split across workers.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train an MLP in this process on a CSV file or IDX (MNIST-style) files.")
public class TrainCommand implements Callable<Integer> {

    @Option(names = "--csv", paramLabel = "FILE", description = "CSV file (gzipped or not) with a header row")
    Path csv;

    @Option(names = "--label", paramLabel = "COLUMN", description = "label column of the CSV (default: ${DEFAULT-VALUE})")
    String label = "label";

    @Option(names = "--ignore-column", paramLabel = "COLUMN", description = "a CSV column that is neither a feature "
            + "nor the label (an id, free text): left out (repeatable)")
    List<String> ignoreColumns = new ArrayList<>();

    @Option(names = "--idx-dir", paramLabel = "DIR",
            description = "folder with train-/t10k-{images-idx3,labels-idx1}-ubyte[.gz] (MNIST layout)")
    Path idxDir;

    @Option(names = "--validation-split", description = "fraction of the training rows held out for validation, 0 "
            + "for none (default: 0.2 of a CSV; with --idx-dir the t10k files are the validation set, unless this is given "
            + "or they are missing, when 0.2 of the training files is held out)")
    Double validationSplit;

    /** The validation fraction when none is given. */
    private static final double DEFAULT_VALIDATION_SPLIT = 0.2;

    @Option(names = "--hidden", split = ",", description = "hidden layer widths (default: 256,128)")
    List<Integer> hidden = new ArrayList<>(List.of(256, 128));

    @Option(names = "--activation",
            description = "hidden activation: relu, leaky_relu, elu, sigmoid, tanh, swish, … (default: ${DEFAULT-VALUE})")
    String activation = "relu";

    @Option(names = "--dropout", description = "dropout after each hidden layer, 0 for none (default: ${DEFAULT-VALUE})")
    float dropout = 0f;

    @Option(names = "--batch-norm", description = "batch normalisation after each hidden Linear")
    boolean batchNorm;

    @Option(names = "--loss", description = "cross_entropy, bce_with_logits (binary, one output) or mse (default: ${DEFAULT-VALUE})")
    String loss = "cross_entropy";

    @Option(names = "--optimizer", description = "sgd, adam, adamw, adagrad, adadelta, rmsprop, adamax, nadam, ftrl (default: ${DEFAULT-VALUE})")
    String optimizer = "adam";

    @Option(names = "--lr", description = "learning rate (default: the optimizer's PyTorch default)")
    Double lr;

    @Option(names = "--momentum", description = "momentum (SGD, RMSprop)")
    Double momentum;

    @Option(names = "--weight-decay", description = "weight decay")
    Double weightDecay;

    @Option(names = "--schedule", description = "constant or cosine (per epoch; default: ${DEFAULT-VALUE})")
    String schedule = "constant";

    @Option(names = "--warmup", description = "linear warm-up epochs before the schedule (default: ${DEFAULT-VALUE})")
    int warmup = 0;

    @Option(names = "--clip-norm", description = "clip the gradient's global L2 norm to this value")
    Double clipNorm;

    @Option(names = "--normalize", description = "none, min_max or standardize, fitted on the training set (default: ${DEFAULT-VALUE})")
    String normalize = "none";

    @Option(names = "--epochs", description = "default: ${DEFAULT-VALUE}")
    int epochs = 3;

    @Option(names = "--batch", description = "mini-batch size (default: ${DEFAULT-VALUE})")
    int batch = 128;

    @Option(names = "--seed", description = "default: ${DEFAULT-VALUE}")
    long seed = 0;

    @Option(names = "--threads", description = "OpenBLAS threads (default: ${DEFAULT-VALUE})")
    int threads = 1;

    @Option(names = "--export", paramLabel = "FILE", description = "write the trained model here (safetensors, PyTorch names)")
    Path export;

    @Option(names = "--metrics-out", paramLabel = "FILE", description = "write one JSON object per epoch here")
    Path metricsOut;

    /**
     * The bounds a job file's validator holds, for the same settings given as options: all of
     * them before any data is read, each refusal a usage error.
     */
    private void checkOptions() {
        if (batch < 1 || batch > JobValidator.MAX_BATCH_SIZE) {
            throw new UsageException("--batch must be between 1 and " + JobValidator.MAX_BATCH_SIZE + ", got " + batch);
        }
        if (epochs < 1) {
            throw new UsageException("--epochs must be ≥ 1, got " + epochs);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new UsageException("--dropout must be in [0, 1), got " + dropout);
        }
        if (warmup < 0) {
            throw new UsageException("--warmup must be ≥ 0 epochs, got " + warmup);
        }
        if (threads < 1) {
            throw new UsageException("--threads must be ≥ 1, got " + threads);
        }
        if (!JobValidator.ACTIVATIONS.contains(activation)) {
            throw new UsageException("unknown --activation '" + activation + "'; one of "
                    + String.join(", ", JobValidator.ACTIVATIONS));
        }
        for (int h : hidden) {
            if (h < 1 || h > JobValidator.MAX_WIDTH) {
                throw new UsageException("--hidden widths must be between 1 and " + JobValidator.MAX_WIDTH
                        + ", got " + h);
            }
        }
        if (!LOSSES.contains(loss)) {
            throw new UsageException("unknown --loss '" + loss + "'; known: " + String.join(", ", LOSSES));
        }
        if (!SCHEDULES.contains(schedule)) {
            throw new UsageException("unknown --schedule '" + schedule + "'; known: " + String.join(", ", SCHEDULES));
        }
        try {
            Normalization.Kind.parse(normalize);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--normalize: " + e.getMessage());
        }
        if (!Optimizers.NAMES.contains(optimizer)) {
            throw new UsageException("unknown --optimizer '" + optimizer + "'; known: "
                    + String.join(", ", Optimizers.NAMES));
        }
        try {
            // the optimizer's own checks, on a stand-in for the model's parameters
            Optimizers.create(optimizer, hyperparameters(), ParameterGroups.single(1));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--optimizer " + optimizer + ": " + e.getMessage());
        }
        if (clipNorm != null && !(clipNorm > 0 && Double.isFinite(clipNorm))) {
            throw new UsageException("--clip-norm must be > 0, got " + clipNorm);
        }
        if (validationSplit != null && !(validationSplit >= 0 && validationSplit < 1)) {
            throw new UsageException("--validation-split must be in [0, 1) (0: no validation), got "
                    + validationSplit);
        }
    }

    private static final List<String> LOSSES = List.of("cross_entropy", "bce_with_logits", "mse");
    private static final List<String> SCHEDULES = List.of("constant", "cosine");

    /** What only the data can tell: one class, a model too large, a one-row batch for batch norm. */
    private void checkAgainstData(Data data) {
        Dataset train = data.train();
        if (loss.equals("bce_with_logits") && train.classes() != 2) {
            throw new IllegalArgumentException(data.source() + ": --loss bce_with_logits trains one output for two "
                    + "classes; the data have " + train.classes() + " (--loss cross_entropy trains any number)");
        }
        if (train.singleClass()) {
            throw new IllegalArgumentException(data.source() + ": the training data hold one class only ('"
                    + data.preprocessing().classNames().get(train.labels()[0]) + "'); a classifier needs at least two");
        }
        long parameters = 0;
        long width = train.width();
        for (int h : hidden) {
            parameters += width * h + h;
            width = h;
        }
        parameters += width * train.classes() + train.classes();
        if (parameters > JobPlan.MAX_PARAMETERS) {
            throw new IllegalArgumentException("the model has " + parameters + " parameters, more than the "
                    + JobPlan.MAX_PARAMETERS + " one process holds; narrow --hidden");
        }
        String oneRow = batchNorm ? JobPlan.oneRowBatch(train.rows(), batch) : null;
        if (oneRow != null) {
            throw new IllegalArgumentException("--batch-norm: " + oneRow);
        }
    }

    /** The training and validation sets, normalised. */
    record Data(Dataset train, Dataset validation, String source, Preprocessing preprocessing) {}

    @Override
    public Integer call() throws IOException {
        checkOptions();
        OutputFiles.requireWritable(export, "--export");
        OutputFiles.requireWritable(metricsOut, "--metrics-out");
        OutputFiles.requireDifferent(export, "--export", metricsOut, "--metrics-out");
        OutputFiles.requireDifferent(export, "--export", csv, "--csv");
        OutputFiles.keepStandardOutputFor(export, metricsOut);
        Backends.cpu().setThreads(threads);
        int cores = Runtime.getRuntime().availableProcessors();
        if (threads > cores) {
            System.out.printf("note: %d BLAS threads on %d core(s) share them; --threads %d is usually faster%n",
                    threads, cores, cores);
        }
        Data data = loadData();
        checkAgainstData(data);
        Sequential model = buildModel(data.train());
        Loss lossFn = loss();
        Optimizer opt = Optimizers.create(optimizer, hyperparameters(), ParameterGroups.of(model));
        LearningRateSchedule sched = schedule(opt.learningRate());
        TrainingConfig config = new TrainingConfig(epochs, batch, seed, true, sched,
                LearningRateSchedule.Granularity.EPOCH,
                clipNorm == null ? GradientClipping.none() : GradientClipping.byGlobalNorm(clipNorm));
        System.out.printf("data: %s — %d training rows, %s, %d features, %d classes%n",
                data.source(), data.train().rows(), data.validation() == null ? "no validation"
                        : data.validation().rows() + " validation rows", data.train().width(),
                data.train().classes());
        System.out.print(model.summary());
        System.out.println("optimizer: " + opt);
        Trainer trainer = new Trainer(model, lossFn, opt, config);
        long start = System.nanoTime();
        // the single-process trainer cannot be asked to stop: Ctrl-C only says how far it got
        try (RunInterruption interruption = new RunInterruption(metricsOut == null ? "" : metricsOut.toString(), null);
             PrintWriter metrics = metricsOut == null ? null : new PrintWriter(ReplacingFile.streamWriter(metricsOut))) {
            trainer.fit(data.train(), data.validation(), r -> {
                report(r, start, metrics);
                interruption.epochDone(r.epoch() + 1);
            });
        }
        if (export != null) {
            ModelFile.save(model, export, data.preprocessing());
            System.out.println("model written to " + export);
        }
        return 0;
    }

    private void report(EpochResult r, long start, PrintWriter metrics) {
        double elapsed = (System.nanoTime() - start) / 1e9;
        boolean validated = r.validation() != null; // --validation-split 0: none
        System.out.printf(Locale.ROOT, "epoch %3d  train_loss %.4f  val_loss %s  val_accuracy %s  lr %.3g  %,.0f samples/s  %.1f s elapsed%n",
                r.epoch() + 1, r.trainLoss(), validated ? String.format(Locale.ROOT, "%.4f", r.validation().loss()) : "-",
                validated ? String.format(Locale.ROOT, "%.4f", r.validation().accuracy()) : "-", r.learningRate(),
                r.samplesPerSecond(), elapsed);
        if (metrics != null) {
            // losses and the learning rate in full, as 'trainer local' writes them: files compared
            // with another run's, or PyTorch's, must not differ in the seventh digit for want of it
            metrics.printf(Locale.ROOT, "{\"epoch\":%d,\"train_loss\":%s,\"val_loss\":%s,\"val_accuracy\":%s,"
                            + "\"learning_rate\":%s,\"samples_per_second\":%.1f,\"elapsed_seconds\":%.3f}%n",
                    r.epoch() + 1, json(r.trainLoss()), validated ? json(r.validation().loss()) : "null",
                    validated ? json(r.validation().accuracy()) : "null", json(r.learningRate()), r.samplesPerSecond(),
                    elapsed);
            metrics.flush();
        }
    }

    /** A double in JSON: the shortest decimal that reads back to it, or null for NaN and infinities (which JSON lacks). */
    private static String json(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "null";
    }

    Data loadData() throws IOException {
        if ((csv == null) == (idxDir == null)) {
            throw new IllegalArgumentException("give exactly one data source: --csv FILE or --idx-dir DIR");
        }
        Normalization.Kind norm = Normalization.Kind.parse(normalize);
        Dataset train;
        Dataset validation;
        String source;
        List<String> classNames = new ArrayList<>();
        InputFormat input;
        double fraction = validationSplit == null ? DEFAULT_VALIDATION_SPLIT : validationSplit;
        if (!(fraction >= 0 && fraction < 1)) {
            throw new UsageException("--validation-split must be in [0, 1) (0: no validation), got " + fraction);
        }
        if (csv != null) {
            List<String> columns = CsvReader.header(csv);
            if (!columns.contains(label)) {
                throw new java.io.IOException(csv + " has no column '" + label + "' (the label column: give --label "
                        + "COLUMN); its columns: " + columns);
            }
            CsvReader.LabelledCsv read = CsvReader.read(csv, label, ignoreColumns);
            classNames.addAll(read.classNames());
            input = InputFormat.csv(read.featureNames());
            Dataset.Split split = holdOut(read.dataset(), fraction);
            train = split.rest();
            validation = split.heldOut();
            source = csv.toString();
        } else {
            Dataset all = IdxReader.readDataset(idx("train-images-idx3-ubyte"), idx("train-labels-idx1-ubyte"));
            Path testImages = idxIfPresent("t10k-images-idx3-ubyte");
            Path testLabels = idxIfPresent("t10k-labels-idx1-ubyte");
            if (validationSplit == null && testImages != null && testLabels != null) {
                train = all;
                validation = IdxReader.readDataset(testImages, testLabels, train.classes());
            } else {
                if (validationSplit == null) {
                    System.out.printf(Locale.ROOT, "note: no t10k-images/t10k-labels files in %s: %.0f%% of the "
                            + "training rows are held out for validation%n", idxDir, fraction * 100);
                }
                Dataset.Split split = holdOut(all, fraction);
                train = split.rest();
                validation = split.heldOut();
            }
            source = idxDir.toString();
            // readDataset keeps only the flattened width: a row of that many pixels
            input = InputFormat.idx(List.of(train.width()));
            for (int c = 0; c < train.classes(); c++) {
                classNames.add(Integer.toString(c));
            }
        }
        Normalization fitted = Normalization.fit(norm, train);
        fitted.applyInPlace(train);
        train.releaseExact();
        if (validation != null) {
            fitted.applyInPlace(validation);
            validation.releaseExact();
        }
        return new Data(train, validation, source, new Preprocessing(input, fitted, classNames));
    }

    /** {@code fraction} of {@code data}'s rows, drawn with the seed, held out for validation; none for 0. */
    private Dataset.Split holdOut(Dataset data, double fraction) {
        if (fraction == 0) {
            return new Dataset.Split(data, null);
        }
        int rows = data.rows();
        int nVal = (int) Math.round(rows * fraction);
        if (nVal < 1 || nVal >= rows) {
            throw new IllegalArgumentException("--validation-split " + fraction + " of " + rows
                    + " rows leaves " + nVal + " for validation and " + (rows - nVal)
                    + " for training; both need at least 1");
        }
        return data.split(seed, nVal);
    }

    /** The IDX file {@code stem} (gzipped or not) in --idx-dir, or null. */
    private Path idxIfPresent(String stem) {
        for (String name : new String[] {stem + ".gz", stem}) {
            Path p = idxDir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    private Path idx(String stem) throws IOException {
        Path p = idxIfPresent(stem);
        if (p == null) {
            throw new NoSuchFileException(idxDir.resolve(stem + ".gz").toString(), null,
                    "IDX file not found (nor without .gz)");
        }
        return p;
    }

    Sequential buildModel(Dataset train) {
        int outputs = loss.equals("bce_with_logits") ? 1 : train.classes();
        List<Layer> layers = new ArrayList<>();
        int width = train.width();
        for (int h : hidden) {
            layers.add(new Linear(width, h));
            if (batchNorm) {
                layers.add(Layers.create("batch_norm1d", Map.of("num_features", h)));
            }
            layers.add(Layers.activation(activation));
            if (dropout > 0) {
                layers.add(Layers.create("dropout", Map.of("p", dropout)));
            }
            width = h;
        }
        layers.add(new Linear(width, outputs));
        return new Sequential(train.width(), layers, Backends.cpu(), seed);
    }

    private Loss loss() {
        return switch (loss) {
            case "cross_entropy" -> new CrossEntropyLoss();
            case "bce_with_logits" -> new BinaryCrossEntropyWithLogitsLoss();
            case "mse" -> new MeanSquaredErrorLoss();
            default -> throw new IllegalArgumentException("unknown --loss '" + loss
                    + "'; known: cross_entropy, bce_with_logits, mse");
        };
    }

    private Map<String, Object> hyperparameters() {
        Map<String, Object> h = new LinkedHashMap<>();
        if (lr != null) {
            h.put("lr", lr);
        }
        if (momentum != null) {
            h.put("momentum", momentum);
        }
        if (weightDecay != null) {
            h.put("weight_decay", weightDecay);
        }
        return h;
    }

    private LearningRateSchedule schedule(double lr0) {
        LearningRateSchedule s = switch (schedule) {
            case "constant" -> new io.parallax.engine.schedule.ConstantSchedule(lr0);
            case "cosine" -> new io.parallax.engine.schedule.CosineAnnealing(lr0, Math.max(1, epochs - warmup), 0);
            default -> throw new IllegalArgumentException("unknown --schedule '" + schedule + "'; known: constant, cosine");
        };
        return warmup > 0 ? s.withWarmup(warmup, 0.1) : s;
    }
}
