package io.parallax.deploy;

import io.parallax.coordinator.CheckpointFile;
import io.parallax.coordinator.JobCheckpoints;
import io.parallax.coordinator.JobListener;
import io.parallax.coordinator.JobListeners;
import io.parallax.coordinator.JobRunner;
import io.parallax.coordinator.LocalCluster;
import io.parallax.coordinator.SlowNotice;
import io.parallax.coordinator.metrics.JsonLinesMetrics;
import io.parallax.coordinator.metrics.MetricsFailureNotes;
import io.parallax.coordinator.metrics.MetricsSinks;
import io.parallax.deploy.client.ExitCodes;
import io.parallax.engine.backend.Backends;
import io.parallax.engine.io.Checkpoint;
import io.parallax.engine.io.ModelFile;
import io.parallax.proto.v1.JobSpec;
import io.parallax.worker.job.DataRoots;
import io.parallax.worker.job.InvalidJobException;
import io.parallax.worker.job.JobFiles;
import io.parallax.worker.job.JobPlan;
import io.parallax.worker.job.JobValidator;
import io.parallax.worker.job.MemoryBudget;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code trainer local}: single-node mode. The coordinator and N worker actors run in this JVM
 * and exchange weights and gradients by reference (no serialization, no copies); the job runs
 * exactly as on a cluster.
 */
@Command(name = "local", mixinStandardHelpOptions = true,
        description = "Run a job in this process: a coordinator and N worker actors.")
public final class LocalCommand implements Callable<Integer> {

    /** How long the data may take to read before the run says it is reading them. */
    private static final java.time.Duration SLOW_LOAD = java.time.Duration.ofSeconds(3);

    /** How often, and how long, a model that cannot be written to {@code --export} is tried again (tests shorten them). */
    static volatile long exportRetryMillis = 10_000;
    static volatile long exportPatienceMillis = 10 * 60_000;

    @Mixin
    JobFileOption jobFile = new JobFileOption();

    @Option(names = "--workers",
            description = "worker actors, 1 to " + JobValidator.MAX_WORKERS + " (default: the job's 'workers', else 1)")
    Integer workers;

    @Option(names = "--metrics-out", paramLabel = "FILE", description = "write one JSON object per epoch here")
    Path metricsOut;

    @Option(names = "--export", paramLabel = "FILE", description = "write the trained model here (safetensors); a "
            + "write that fails (a full disk) is tried again every 10 s for up to 10 minutes")
    Path export;

    @Option(names = "--metrics-dir", paramLabel = "DIR", description = "write metrics.jsonl, TensorBoard event "
            + "files (tensorboard/) and a loss/accuracy chart (curves.png) here")
    Path metricsDir;

    /** How the command line named {@link #metricsDir} ({@code demo} calls it --out). */
    String metricsDirOption = "--metrics-dir";

    @Option(names = "--checkpoint", paramLabel = "FILE", description = "keep a checkpoint of the run here, "
            + "written after the step or epoch at which --checkpoint-every seconds have passed, and where Ctrl-C "
            + "stops the run: started again with the same options after Ctrl-C or a crash, the run resumes from "
            + "it and ends with the weights it would have had; deleted when the run ends")
    Path checkpoint;

    @Option(names = "--checkpoint-every", paramLabel = "SECONDS", description = "least time between two "
            + "checkpoints, inside an epoch too; 0: after every epoch, never inside one (default: ${DEFAULT-VALUE})")
    long checkpointEverySeconds = 60;

    @Option(names = "--data-root", paramLabel = "DIR", description = "read data only under these folders and the "
            + "job file's folder, as a cluster's nodes started with the same --data-root would (default: any path "
            + "the job names: unlike a cluster's nodes, this run has no client but you)")
    List<Path> dataRoots = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        Path job = jobFile.file();
        JobSpec spec = JobFiles.read(job);
        List<Path> roots = DeployDefaults.dataRoots(dataRoots, job);
        if (!dataRoots.isEmpty()) {
            roots.add(job.toAbsolutePath().normalize().getParent());
        }
        int n = workers != null ? workers : Math.max(1, spec.getWorkers());
        if (n < 1 || n > JobValidator.MAX_WORKERS) {
            throw new IllegalArgumentException("--workers must be between 1 and " + JobValidator.MAX_WORKERS + ", got "
                    + n);
        }
        // the outputs first (each named by its option), then, before anything is printed (the
        // notice below, while the data load), a model or metrics stream sent to standard output
        // must carry nothing else
        OutputFiles.requireWritable(export, "--export");
        OutputFiles.requireDifferent(export, "--export", job, "the job file");
        OutputFiles.requireDifferent(metricsOut, "--metrics-out", job, "the job file");
        OutputFiles.requireDifferent(export, "--export", metricsOut, "--metrics-out");
        OutputFiles.requireWritable(metricsOut, "--metrics-out");
        if (checkpoint != null) {
            OutputFiles.requireWritable(checkpoint, "--checkpoint");
            OutputFiles.requireDifferent(checkpoint, "--checkpoint", job, "the job file");
            OutputFiles.requireDifferent(checkpoint, "--checkpoint", export, "--export");
            OutputFiles.requireDifferent(checkpoint, "--checkpoint", metricsOut, "--metrics-out");
        }
        OutputFiles.keepStandardOutputFor(export, metricsOut);
        // validate and load before any actor starts: a bad job fails here with its message
        JobPlan plan;
        // a large data set takes a while to read: said once it has taken seconds, so that a run
        // that prints nothing for a minute does not look stuck
        try (SlowNotice slow = SlowNotice.after(SLOW_LOAD, () -> System.out.println("reading the job's data…"))) {
            plan = JobPlan.load(spec, dataRoots.isEmpty() ? DataRoots.anywhere(roots) : DataRoots.of(roots)
                    .advising(folder -> "given --data-root, trainer local reads data only under those folders and the "
                            + "job file's: add --data-root " + folder + ", or give none to read any path"),
                    p -> MemoryBudget.require(p, n, true, n)); // before the model is built to check it
        } catch (InvalidJobException e) {
            throw e.inFile(job); // as the file's own parse errors do
        } catch (OutOfMemoryError e) {
            // mostly the data (a folder of large images decodes each at full size first): the
            // memory check came before the model is built here, and it is built once
            boolean direct = String.valueOf(e.getMessage()).contains("Direct buffer");
            throw new IllegalStateException("out of memory loading the job, its data or one copy of its model ("
                    + e.getMessage() + "; this JVM may use " + Runtime.getRuntime().maxMemory() / (1 << 20)
                    + " MiB of heap): give it more with " + (direct ? "JAVA_OPTS=-XX:MaxDirectMemorySize=…"
                    : "JAVA_OPTS=-Xmx…") + ", or use less data, or smaller images");
        }
        if (checkpointEverySeconds < 0) {
            throw new IllegalArgumentException("--checkpoint-every must be ≥ 0, got " + checkpointEverySeconds);
        }
        if (checkpoint != null) {
            // a kill -9 in the middle of a checkpoint's write left its temporary file beside it
            long freed = io.parallax.engine.io.ReplacingFile.deleteLeftoversOf(checkpoint);
            if (freed > 0) {
                System.out.printf("note: deleted %,d bytes of an unfinished checkpoint write beside %s%n", freed,
                        checkpoint);
            }
        }
        // a run started again over its checkpoint goes on after the epochs it holds: the metrics
        // files keep those epochs' lines (and the chart draws them)
        int resumeAfter = checkpoint != null && Files.exists(checkpoint)
                ? Checkpoint.readPosition(checkpoint).epoch() : 0;
        Path metricsFile = metricsDir != null ? metricsDir.resolve(MetricsSinks.METRICS_FILE) : metricsOut;
        List<JobListener.EpochReport> earlier = metricsFile == null ? List.of()
                : JsonLinesMetrics.read(metricsFile, resumeAfter);
        // before anything is written there: another run's files would interleave with this one's
        OutputFolderLock held = metricsDir == null ? null : OutputFolderLock.acquire(metricsDir, metricsDirOption);
        AtomicReference<LocalCluster> running = new AtomicReference<>();
        AtomicBoolean stopAsked = new AtomicBoolean();
        // the hint only when there is a file to go on from (its writes may all have failed)
        RunInterruption interruption = new RunInterruption(outputs(), () -> checkpoint != null && Files.exists(checkpoint)
                ? "the same command resumes it from " + checkpoint : "", () -> {
            stopAsked.set(true);
            LocalCluster c = running.get();
            if (c != null) {
                c.cancelRunning();
            }
        });
        try (LocalCluster cluster = LocalCluster.start(n, Backends.cpu(), roots);
             EpochPrinter printer = new EpochPrinter(metricsOut, resumeAfter);
             MetricsSinks sinks = metricsDir == null ? MetricsSinks.of() : MetricsSinks.forJob(metricsDir, earlier)) {
            running.set(cluster);
            if (stopAsked.get()) {
                // the signal came while the data loaded or the cluster started: stop before the first step
                cluster.cancelRunning();
            }
            System.out.printf("job %s: %d worker(s) in this process%n", job, n);
            System.out.println(plan.dataSummary());
            int cores = Runtime.getRuntime().availableProcessors();
            if (n > cores) {
                // each worker computes on a thread of its own: more of them than cores only adds switching
                System.out.printf("note: %d workers on %d core(s) share them; --workers %d is usually faster%n",
                        n, cores, cores);
            }
            JobRunner.Result result;
            try {
                JobCheckpoints checkpoints = checkpoint == null ? JobCheckpoints.NONE
                        : new CheckpointFile(checkpoint, java.time.Duration.ofSeconds(checkpointEverySeconds),
                                epoch -> epoch <= earlier.size() ? earlier.get(epoch - 1).elapsedSeconds() : 0,
                                () -> { }, printer::onEvent);
                // --metrics-dir's files that stop being written (a full disk) get a note, as --metrics-out's do
                MetricsFailureNotes dirFailures = new MetricsFailureNotes();
                JobListener dirNotes = new JobListener() {
                    @Override
                    public void onEpoch(EpochReport epoch) {
                        String told = dirFailures.next(sinks.failure());
                        if (told != null) {
                            printer.onEvent(told);
                        }
                    }
                };
                result = cluster.run(plan, JobListeners.of(printer, sinks, dirNotes, interruption), checkpoints);
            } catch (Exception e) {
                if (interruption.interrupted()) {
                    // stopped by Ctrl-C or SIGTERM (or failed as the JVM shut its actors down):
                    // the signal's handler says so once the files are closed
                    return ExitCodes.INTERRUPTED;
                }
                throw e;
            }
            if (export != null && !saveExport(result, plan, stopAsked)) {
                return ExitCodes.INTERRUPTED; // the signal's handler says so once the files are closed
            }
            if (checkpoint != null) {
                Files.deleteIfExists(checkpoint); // the run is done: nothing to resume
            }
            // a signal from here on finds the run's outputs complete, and says so
            interruption.completed(export == null ? "" : "the model is in " + export);
            return 0;
        } finally {
            interruption.close(); // after the files: the chart is drawn as they close
            if (held != null) {
                held.close();
            }
        }
    }

    /**
     * Writes the trained model to {@code --export}. A write that fails (a full disk) is tried again
     * every {@link #exportRetryMillis} for up to {@link #exportPatienceMillis}, saying so, so that
     * freeing space in time saves the run instead of losing it; false when a signal stopped the
     * waiting.
     */
    private boolean saveExport(JobRunner.Result result, JobPlan plan, AtomicBoolean stopAsked)
            throws IOException, InterruptedException {
        long giveUpAt = System.nanoTime() + exportPatienceMillis * 1_000_000;
        boolean told = false;
        while (true) {
            try {
                ModelFile.save(result.model(), export, plan.preprocessing());
                System.out.println("model written to " + export);
                return true;
            } catch (IOException e) {
                String why = e instanceof java.nio.file.FileSystemException fse ? FileErrors.describe(fse)
                        : e.getMessage();
                if (System.nanoTime() > giveUpAt) {
                    throw new IOException("--export: the model could not be written (" + why + ")", e);
                }
                if (!told) {
                    told = true;
                    long minutes = Math.max(1, exportPatienceMillis / 60_000);
                    System.out.printf("note: --export: the model could not be written (%s); trying again every %d s "
                            + "for up to %d minute%s (free some space, or stop with Ctrl-C)%n", why,
                            Math.max(1, exportRetryMillis / 1000), minutes, minutes == 1 ? "" : "s");
                }
                for (long waited = 0; waited < exportRetryMillis; waited += 100) {
                    if (stopAsked.get()) {
                        return false;
                    }
                    Thread.sleep(Math.min(100, exportRetryMillis));
                }
            }
        }
    }

    /** Where an interrupted run's epochs are, for its message. */
    private String outputs() {
        List<String> where = new ArrayList<>();
        if (metricsOut != null) {
            where.add(metricsOut.toString());
        }
        if (metricsDir != null) {
            where.add(metricsDir.toString());
        }
        return String.join(" and ", where);
    }
}
