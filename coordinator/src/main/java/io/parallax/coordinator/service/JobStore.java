package io.parallax.coordinator.service;

import com.google.protobuf.util.JsonFormat;
import io.parallax.coordinator.JobCheckpoints;
import io.parallax.engine.io.Checkpoint;
import io.parallax.engine.train.TrainingPosition;
import io.parallax.proto.v1.Job;
import io.parallax.proto.v1.JobState;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's job records on its disk, so that {@code GetJob} and {@code GetModel} answer
 * after a restart. Layout under the state directory:
 *
 * <pre>
 * lock                      held while a coordinator uses the directory
 * last-id                   the highest id given out (deleted jobs' ids are never given again)
 * jobs/job-000042/job.json  the Job record (protobuf JSON), replaced atomically on every change
 * jobs/job-000042/metrics.jsonl, model.safetensors, ...   the job's files
 * </pre>
 *
 * <p>On {@link #open}, a job that was RUNNING when the previous coordinator crashed goes back to
 * QUEUED if it left a checkpoint ({@value #CHECKPOINT}, written after steps, and where a run stopped): its record
 * keeps the epochs up to the checkpoint's, and the {@link JobQueue} resumes it from there, first
 * (it is older than every job queued after it). Without a usable checkpoint it becomes FAILED
 * with the reason {@value #RESTARTED}. A clean stop (SIGTERM) leaves its running job QUEUED the
 * same way, or ends it FAILED, {@value #STOPPED}, when it has no checkpoint yet. Jobs that were
 * QUEUED stay QUEUED: the queue runs them in their order. Ids continue after the highest one
 * found (folders without a readable record count too, and {@code last-id}, which remembers
 * deleted ones), so an id is never given twice. A FAILED or CANCELLED job keeps its checkpoint
 * (its record's {@code checkpoint_step}) until it is resumed or deleted.
 *
 * <p>Not thread-safe: the {@link JobQueue} calls it under its lock.
 */
public final class JobStore implements AutoCloseable {

    /**
     * The reason given, on the next start, to jobs that were running when the coordinator crashed
     * and left no checkpoint to resume from.
     */
    public static final String RESTARTED = "coordinator restarted while the job ran; resubmit it";

    /** The reason given to the job that was running when the coordinator was stopped (SIGTERM, Ctrl-C). */
    public static final String STOPPED = "the coordinator was stopped while the job ran; resubmit it";

    /** The record's file name in a job's folder. */
    public static final String RECORD = "job.json";

    /** The model's file name in a job's folder. */
    public static final String MODEL = "model.safetensors";

    /**
     * A running job's checkpoint in its folder ({@link io.parallax.engine.io.Checkpoint}: weights,
     * optimizer state, the epoch it resumes at), replaced after epochs while it runs; when the job
     * ends it is deleted, or kept for {@code ResumeJob} if the job FAILED or was CANCELLED (its
     * record's {@code checkpoint_step}).
     */
    public static final String CHECKPOINT = "checkpoint.safetensors";

    private static final Logger log = LoggerFactory.getLogger(JobStore.class);
    private static final Pattern ID = Pattern.compile("job-(\\d{6,18})");
    private static final String LAST_ID = "last-id";
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().preservingProtoFieldNames();
    private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();

    private final Path root;
    private final Path jobs;
    private final HeldFileLock lock;
    private final List<Job> loaded;
    private final Set<String> unsavedOnOpen = new LinkedHashSet<>();
    private final AtomicLong saves = new AtomicLong();
    private long lastId;

    private JobStore(Path root, HeldFileLock lock) {
        this.root = root;
        this.jobs = root.resolve("jobs");
        this.lock = lock;
        this.loaded = new ArrayList<>();
    }

    /**
     * Opens (creating it if need be) the state directory {@code root}, locks it, and reloads the
     * records.
     *
     * @throws IOException if it cannot be created or read, or another coordinator holds it
     */
    public static JobStore open(Path root) throws IOException {
        Path dir = root.toAbsolutePath().normalize();
        HeldFileLock lock;
        try {
            Files.createDirectories(dir.resolve("jobs"));
            lock = HeldFileLock.tryLock(dir.resolve("lock"));
        } catch (IOException e) {
            throw cannotOpen(dir, e);
        }
        if (lock == null) {
            throw new IOException("the state directory " + dir + " is in use by another coordinator");
        }
        JobStore store = new JobStore(dir, lock);
        try {
            store.reload();
        } catch (IOException e) {
            store.close();
            throw cannotOpen(dir, e);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        return store;
    }

    /**
     * {@code e} saying which state directory it is about and, for a full disk, what to do: the
     * JDK's message is often the bare reason ("No space left on device") or the bare path.
     */
    private static IOException cannotOpen(Path dir, IOException e) {
        // a reason alone gets its file; JobServiceImpl.describe names it already
        String why = e instanceof java.nio.file.FileAlreadyExistsException f ? f.getFile() + " exists and is not a folder"
                : e instanceof FileSystemException f && f.getFile() != null && f.getReason() != null
                ? f.getFile() + ": " + f.getReason() : whyUnreadable(e);
        String fix = noSpace(why)
                ? "; free space on its disk, then start the coordinator again"
                : e instanceof AccessDeniedException ? "; give the coordinator's user the right to write there, "
                        + "or choose another with --state-dir" : "";
        return new IOException("the state directory " + dir + " cannot be used (" + why + ")" + fix, e);
    }

    private void reload() throws IOException {
        Path last = root.resolve(LAST_ID);
        if (Files.exists(last)) {
            try {
                if (!Files.isRegularFile(last)) {
                    throw new IOException("it is not a regular file");
                }
                lastId = Long.parseLong(Files.readString(last, StandardCharsets.UTF_8).trim());
            } catch (IOException | NumberFormatException e) {
                // the job folders still tell the ids given out, all but those of deleted jobs
                log.warn("ignoring unreadable {}: {}", last, whyUnreadable(e));
            }
        }
        List<Path> dirs = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(jobs)) {
            ds.forEach(dirs::add);
        }
        dirs.sort(Comparator.comparing(Path::toString));
        long now = System.currentTimeMillis();
        for (Path d : dirs) {
            Matcher m = ID.matcher(d.getFileName().toString());
            if (!m.matches() || !Files.isDirectory(d)) {
                continue;
            }
            lastId = Math.max(lastId, Long.parseLong(m.group(1)));
            try {
                // a model or checkpoint whose write a crash cut short; this coordinator holds the folder
                long freed = io.parallax.engine.io.ReplacingFile.deleteLeftovers(d);
                if (freed > 0) {
                    log.info("{}: deleted {} bytes of temporary files a crash left", d, freed);
                }
            } catch (IOException e) {
                log.warn("{}: its temporary files could not be cleaned up: {}", d, e.toString());
            }
            Path file = d.resolve(RECORD);
            if (!Files.exists(file)) {
                continue;
            }
            Job job;
            try {
                job = readRecord(file);
            } catch (IOException | RuntimeException e) {
                // listed rather than skipped: its files (a model, metrics) stay reachable, and
                // 'trainer delete' can remove them; the damaged record itself is left as it is
                String why = whyUnreadable(e);
                log.warn("job record {} cannot be read; the job is listed as FAILED: {}", file, why);
                loaded.add(Job.newBuilder().setId(d.getFileName().toString()).setName("(record unreadable)")
                        .setState(JobState.FAILED).setQueuePosition(-1)
                        .setReason("its record " + file + " cannot be read (" + why + "); its other files "
                                + "are kept in " + d)
                        .setFinishedAtMs(Math.min(now, lastModifiedMillis(file, now)))
                        .setModelAvailable(Files.isRegularFile(d.resolve(MODEL)) && unusable(d.resolve(MODEL)) == null)
                        .build());
                continue;
            }
            if (!job.getId().equals(d.getFileName().toString())) {
                log.warn("skipping job record {}: it names job '{}'", file, job.getId());
                continue;
            }
            Job fixed = job;
            if (job.getState() == JobState.RUNNING && job.getCancelRequested()) {
                // cancelled, and the coordinator went before the job stopped: it ends as asked, and
                // keeps the checkpoint it has for a resume, as any cancelled job does
                long ended = Math.min(now, Files.getLastModifiedTime(file).toMillis());
                fixed = job.toBuilder().setState(JobState.CANCELLED).setReason("cancelled while running (the "
                        + "coordinator stopped before the job did)").setFinishedAtMs(ended).setQueuePosition(-1)
                        .setModelAvailable(false).setCheckpointStep(keptCheckpointStep(job.getId())).build();
            } else if (job.getState() == JobState.RUNNING || job.getState() == JobState.JOB_STATE_UNSPECIFIED) {
                String unusable = null;
                try {
                    fixed = resuming(job, "the coordinator restarted while the job ran").orElse(job);
                } catch (IOException | RuntimeException e) {
                    unusable = e.getMessage();
                    log.warn("job {}: its checkpoint cannot be read: {}", job.getId(), e.toString());
                }
                if (fixed == job) {
                    // it ended when its coordinator did: the record's last write is the closest
                    // moment known (within the 5 s between a running job's writes), not this start
                    long ended = Math.min(now, Files.getLastModifiedTime(file).toMillis());
                    fixed = job.toBuilder().setState(JobState.FAILED)
                            .setReason(unusable == null ? RESTARTED : RESTARTED + " (its checkpoint cannot be read: "
                                    + unusable + ")")
                            .setFinishedAtMs(ended).setQueuePosition(-1).setModelAvailable(false).build();
                    Files.deleteIfExists(checkpointFile(job.getId()));
                    log.warn("job {} FAILED: {}{}", job.getId(), fixed.getReason(), unusable != null ? ""
                            : " (it had taken no checkpoint yet: the first comes --checkpoint-every after its start)");
                }
            } else {
                // a queued or an ended job; a cancelled one may offer both a model and a checkpoint
                String damage;
                if (!job.getModelAvailable()) {
                    // nothing offered, nothing to check
                } else if (!Files.isRegularFile(d.resolve(MODEL))) {
                    log.warn("job {}: its model file is missing", job.getId());
                    fixed = job.toBuilder().setModelAvailable(false).build();
                } else if ((damage = unusable(d.resolve(MODEL))) != null) {
                    // cut short (a disk error, a copy that stopped): status must not offer it
                    log.warn("job {}: its model file is damaged: {}", job.getId(), damage);
                    fixed = job.toBuilder().setModelAvailable(false).build();
                }
                if (job.getCheckpointStep() > 0 && !Files.isRegularFile(checkpointFile(job.getId()))) {
                    // a failed or cancelled job's kept checkpoint, deleted by hand: ResumeJob must not offer it
                    log.warn("job {}: its checkpoint after step {} is missing", job.getId(), job.getCheckpointStep());
                    fixed = fixed.toBuilder().setCheckpointStep(0).build();
                }
            }
            if (fixed != job) {
                try {
                    save(fixed);
                } catch (IOException e) {
                    // a full disk after a crash must not keep the coordinator down: the record it
                    // starts from is right in memory, and the queue writes it once there is room;
                    // until then the old record on disk reads the same way at the next start
                    unsavedOnOpen.add(fixed.getId());
                    String why = JobServiceImpl.describe(e);
                    log.warn("job {}: its record could not be rewritten ({}); the coordinator goes on with it {} "
                            + "and writes it once it can{}", fixed.getId(), why, fixed.getState(),
                            noSpace(why) ? ": free space in the state directory " + root : "");
                }
            }
            loaded.add(fixed);
        }
    }

    /**
     * The record in {@code file}.
     *
     * @throws IOException when it is not a regular file (a folder, or a FIFO, whose reading would
     *                     wait for a writer and hold up the start), is not UTF-8 text, or is no Job
     */
    private static Job readRecord(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(Files.isDirectory(file) ? "it is a folder, not a file" : "it is not a regular file");
        }
        Job.Builder b = Job.newBuilder();
        PARSER.merge(Files.readString(file, StandardCharsets.UTF_8), b);
        return b.build();
    }

    /** Why a record could not be read, in words: some exceptions' messages say nothing alone. */
    /** Whether a failure's words are a full disk's (or a full quota's). */
    private static boolean noSpace(String why) {
        return why.contains("No space left") || why.contains("Disk quota");
    }

    private static String whyUnreadable(Exception e) {
        if (e instanceof CharacterCodingException) {
            return "it is not UTF-8 text (" + e + ")";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException f) {
            return f.getReason() != null ? f.getReason() : JobServiceImpl.describe(f);
        }
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }

    /** When {@code file} last changed, or {@code otherwise} when that cannot be told. */
    private static long lastModifiedMillis(Path file, long otherwise) {
        try {
            return Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            return otherwise;
        }
    }

    /**
     * The steps job {@code id}'s checkpoint holds, or 0 when it has none that can be read (one
     * that cannot is deleted): what an ended job keeps for a resume.
     */
    long keptCheckpointStep(String id) {
        Path checkpoint = checkpointFile(id);
        if (!Files.exists(checkpoint)) {
            return 0;
        }
        try {
            long step = Checkpoint.readPosition(checkpoint).globalStep();
            if (step > 0) {
                return step;
            }
        } catch (IOException | RuntimeException e) {
            log.warn("job {}: its checkpoint cannot be read, so it is deleted: {}", id, e.toString());
        }
        deleteCheckpoint(id);
        return 0;
    }

    /** Deletes job {@code id}'s checkpoint, if any; a failure is logged (the file is then only space). */
    void deleteCheckpoint(String id) {
        try {
            Files.deleteIfExists(checkpointFile(id));
        } catch (IOException e) {
            log.warn("job {}: its checkpoint could not be deleted: {}", id, e.toString());
        }
    }

    /**
     * Why a model file's header does not match its contents (cut short, say), or null when it does.
     *
     * @throws IOException when the file cannot be read at all
     */
    static String damaged(Path model) throws IOException {
        try (io.parallax.engine.io.SafeTensorsReader check = io.parallax.engine.io.SafeTensorsReader.open(model)) {
            check.metadata();
            return null;
        } catch (io.parallax.engine.io.SafeTensorsException e) {
            return e.getMessage();
        }
    }

    /** {@link #damaged}, an unreadable file counted as damaged: what a restart may offer for download. */
    private static String unusable(Path model) {
        try {
            return damaged(model);
        } catch (IOException e) {
            return e.getMessage();
        }
    }

    /**
     * {@code job}, which stopped running ({@code why}), queued again to resume from its checkpoint:
     * its record keeps the epochs before the checkpoint's and says so in its note. Empty when the
     * job left no checkpoint.
     *
     * @throws IOException when it left one that cannot be read
     */
    Optional<Job> resuming(Job job, String why) throws IOException {
        Path checkpoint = checkpointFile(job.getId());
        if (!Files.exists(checkpoint)) {
            return Optional.empty();
        }
        TrainingPosition at = Checkpoint.readPosition(checkpoint);
        int epochs = Math.min(at.epoch(), job.getEpochsCount());
        Job.Builder b = job.toBuilder().setState(JobState.QUEUED).setReason("").setQueuePosition(0).setCancelRequested(false)
                .setEpochsDone(at.epoch()).setStepsDone(at.globalStep()).clearEpochs()
                .setLastNote(why + "; it resumes from its checkpoint " + JobCheckpoints.where(at))
                .setLastNoteAtMs(System.currentTimeMillis());
        b.addAllEpochs(job.getEpochsList().subList(0, epochs));
        return Optional.of(b.build());
    }

    /** Where job {@code id}'s checkpoint is written while it runs. */
    public Path checkpointFile(String id) {
        return jobDir(id).resolve(CHECKPOINT);
    }

    /**
     * The ids of the {@link #loaded} records that {@link #open} changed (a running job queued to
     * resume or failed) but could not write (a full disk): they are to be written again later.
     */
    public Set<String> unsavedOnOpen() {
        return Set.copyOf(unsavedOnOpen);
    }

    /** The records found on {@link #open}, oldest first, running ones failed or queued to resume, queued ones still queued. */
    public List<Job> loaded() {
        return List.copyOf(loaded);
    }

    /** The state directory. */
    public Path root() {
        return root;
    }

    /** A fresh id ({@code job-000001}, …) with its folder created. */
    public String newId() throws IOException {
        String id = String.format("job-%06d", ++lastId);
        Path tmp = root.resolve(LAST_ID + ".tmp");
        try {
            writeNaming(tmp, root.resolve(LAST_ID), Long.toString(lastId));
            Files.move(tmp, root.resolve(LAST_ID), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            // as in save: a copy a full disk cut short is no use and would be left behind
            discard(tmp, e);
            throw e;
        }
        Files.createDirectories(jobs.resolve(id));
        return id;
    }

    /** Deletes job {@code id}'s folder: its record and every file of the job. */
    public void delete(String id) throws IOException {
        Path dir = jobDir(id);
        if (!Files.exists(dir)) {
            return;
        }
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(dir)) {
            paths = walk.sorted(Comparator.reverseOrder()).toList();
        }
        for (Path p : paths) {
            Files.deleteIfExists(p);
        }
    }

    /**
     * The folder of job {@code id}. Only ids this store gave out are accepted: a client's string
     * never becomes a path.
     */
    public Path jobDir(String id) {
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("not a job id: " + id);
        }
        return jobs.resolve(id);
    }

    /** Where job {@code id}'s model is (or will be) written. */
    public Path modelFile(String id) {
        return jobDir(id).resolve(MODEL);
    }

    /** Records written so far (for tests). */
    long saves() {
        return saves.get();
    }

    /** Writes {@code job}'s record: to a temporary file, then moved over the old one atomically. */
    public void save(Job job) throws IOException {
        saves.incrementAndGet();
        Path dir = jobDir(job.getId());
        Files.createDirectories(dir);
        Path tmp = dir.resolve(RECORD + ".tmp");
        try {
            writeNaming(tmp, dir.resolve(RECORD), PRINTER.print(job));
            try {
                Files.move(tmp, dir.resolve(RECORD), StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, dir.resolve(RECORD), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            // a half-written copy on a full disk would keep the space the next write needs
            discard(tmp, e);
            throw e;
        }
    }

    /** Deletes a temporary file a failed write left; a failure to is attached to {@code cause}, not thrown instead. */
    private static void discard(Path tmp, IOException cause) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }

    /**
     * Writes {@code text} to {@code tmp}, on its way to {@code file}. A failed write names no file
     * ("No space left on device"): the failure is given {@code file}'s name, which is what a
     * reader of the message knows.
     */
    private static void writeNaming(Path tmp, Path file, String text) throws IOException {
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw io.parallax.engine.io.ReplacingFile.naming(file, e);
        }
    }

    /** Releases the directory's lock. */
    @Override
    public void close() throws IOException {
        lock.close();
    }
}
