package io.parallax.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trainer demo}: the README's first command. Trains 64-128-64-10 on the handwritten
 * digits the repository ships (examples/data/digits.csv.gz) with Adam, dropout and a cosine
 * schedule, then exports the model — a real run that needs nothing but the checkout. Every
 * {@code trainer train} option still applies; only the defaults differ.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Train a digit classifier on the data shipped in examples/ (takes seconds).")
public final class DemoCommand extends TrainCommand {

    @Option(names = "--out", paramLabel = "DIR", description = "where the model and metrics go (default: ${DEFAULT-VALUE})")
    Path out = Path.of("runs", "demo");

    {
        // the demo's defaults; picocli shows these in --help and lets any option override them
        csv = Path.of(System.getProperty("parallax.home", ".")).resolve("examples/data/digits.csv.gz");
        label = "digit";
        hidden = new ArrayList<>(List.of(128, 64));
        epochs = 40;
        batch = 32;
        schedule = "cosine";
        normalize = "standardize";
        dropout = 0.2f;
    }

    @Override
    public Integer call() throws IOException {
        if (idxDir != null) {
            csv = null;
        }
        Files.createDirectories(out);
        if (export == null) {
            export = out.resolve("model.safetensors");
        }
        if (metricsOut == null) {
            metricsOut = out.resolve("metrics.jsonl");
        }
        return super.call();
    }
}
