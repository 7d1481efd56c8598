package io.parallax.deploy.client;

import io.parallax.engine.io.ReplacingFile;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code trainer model JOB --out FILE}: downloads a job's model (a SUCCEEDED job's, or the weights
 * a job cancelled while it ran had at its last step; safetensors, PyTorch
 * {@code nn.Sequential} names). The bytes go to a temporary file next to {@code FILE}, which is
 * moved into place only once every chunk arrived in order and the size equals the announced
 * total: {@code FILE} is never left half written. A link is followed and a device written in
 * place ({@link ReplacingFile}).
 */
@Command(name = "model", mixinStandardHelpOptions = true,
        description = "Download a finished job's trained model as a safetensors file (a cancelled job's: "
                + "the weights of its last step).",
        footer = {"", "Exit code: 0 written, 1 no model (the job has none: see 'trainer status'), transfer or file error, 5 no such job.%n"})
public final class ModelCommand extends ClientCommand {

    @Parameters(paramLabel = "JOB", description = "the job's id")
    String job;

    @Option(names = "--out", paramLabel = "FILE", required = true,
            description = "where to write the model (replaced if it exists; missing folders on the way are made)")
    Path outFile;

    @Override
    int run(JobClient client) throws IOException {
        try {
            // a download stopped half way is worth nothing: Ctrl-C or SIGTERM removes its temporary file
            ReplacingFile.deleteUnfinishedOnExit();
            ReplacingFile.write(outFile, out -> receive(client, Channels.newOutputStream(out)));
        } catch (UncheckedIOException e) {
            throw namingOut(e.getCause());
        } catch (IOException e) {
            throw namingOut(e);
        }
        if (!ReplacingFile.target(outFile).equals(Path.of("/dev/stdout"))) {
            // the model itself went to stdout: nothing may follow it there
            out().println(outFile);
        }
        return ExitCodes.OK;
    }

    /** A file error as the option that named the file: "--out m/x.safetensors: No space left on device". */
    private IOException namingOut(IOException e) {
        if (e instanceof java.nio.file.FileSystemException fse) {
            return new IOException("--out " + io.parallax.deploy.FileErrors.describe(fse), e);
        }
        return e;
    }

    /** Writes the chunks in order, checking that they are contiguous and add up to the total; returns the size. */
    private long receive(JobClient client, OutputStream os) {
        long[] written = {0};
        long[] total = {-1};
        client.model(job, chunk -> {
            if (chunk.getOffset() != written[0]) {
                throw new ClientFailure(ExitCodes.ERROR, "the model stream of " + job + " skipped bytes: chunk at offset "
                        + chunk.getOffset() + ", expected " + written[0]);
            }
            if (total[0] < 0) {
                total[0] = chunk.getTotalSize();
            } else if (chunk.getTotalSize() != total[0]) {
                throw new ClientFailure(ExitCodes.ERROR, "the model stream of " + job + " changed its total size from "
                        + total[0] + " to " + chunk.getTotalSize() + " bytes");
            }
            try {
                chunk.getData().writeTo(os);
            } catch (IOException e) {
                throw new UncheckedIOException(ReplacingFile.naming(outFile, e));
            }
            written[0] += chunk.getData().size();
        });
        if (total[0] < 0) {
            throw new ClientFailure(ExitCodes.ERROR, "the coordinator sent no model data for " + job);
        }
        if (written[0] != total[0]) {
            throw new ClientFailure(ExitCodes.ERROR, "the model of " + job + " arrived incomplete: "
                    + written[0] + " of " + total[0] + " bytes");
        }
        return written[0];
    }
}
