package io.parallax.deploy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Defaults shared by the commands. */
final class DeployDefaults {

    /** Where Debian's dataset packages put their files. */
    static final Path SYSTEM_DATASETS = Path.of("/usr/share/datasets");

    private DeployDefaults() {}

    /**
     * The folders job data may come from: those given, else the job file's folder, the
     * repository (parallax.home) and /usr/share/datasets.
     */
    static List<Path> dataRoots(List<Path> given, Path jobFile) {
        List<Path> roots = new ArrayList<>();
        if (given != null && !given.isEmpty()) {
            given.forEach(p -> roots.add(p.toAbsolutePath().normalize()));
            return roots;
        }
        if (jobFile != null && jobFile.toAbsolutePath().getParent() != null) {
            roots.add(jobFile.toAbsolutePath().getParent().normalize());
        }
        roots.add(Path.of(System.getProperty("parallax.home", ".")).toAbsolutePath().normalize());
        roots.add(SYSTEM_DATASETS);
        return roots;
    }
}
