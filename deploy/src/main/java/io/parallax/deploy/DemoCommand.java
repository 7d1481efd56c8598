package io.parallax.deploy;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trainer demo}: the README's first command. Runs the digits job the repository ships
 * ({@code examples/digits.json}: 64-128-10 with dropout, Adam and a cosine schedule, on the UCI
 * handwritten digits in examples/data) in single-node mode — a coordinator and two worker
 * actors in this JVM, the cluster's code path — and writes the model and every metrics output
 * into one folder. Needs nothing but the checkout.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Train the shipped digits job in single-node mode (2 workers); takes seconds.")
public final class DemoCommand implements Callable<Integer> {

    @Option(names = "--job", paramLabel = "FILE", description = "the job (default: examples/digits.json)")
    Path job;

    @Option(names = "--workers", description = "worker actors (default: ${DEFAULT-VALUE})")
    int workers = 2;

    @Option(names = "--out", paramLabel = "DIR", description = "model and metrics go here (default: ${DEFAULT-VALUE})")
    Path out = Path.of("runs", "demo");

    @Override
    public Integer call() throws Exception {
        LocalCommand local = new LocalCommand();
        local.jobFile = new JobFileOption();
        local.jobFile.option = job != null ? job
                : Path.of(System.getProperty("parallax.home", ".")).resolve("examples").resolve("digits.json");
        local.workers = workers;
        local.metricsDir = out;
        local.metricsDirOption = "--out";
        local.export = out.resolve("model.safetensors");
        int code = local.call();
        if (code == 0) {
            System.out.println("model " + local.export + "; metrics " + out.resolve("metrics.jsonl")
                    + ", TensorBoard events in " + out.resolve("tensorboard") + ", chart " + out.resolve("curves.png"));
        }
        return code;
    }
}
