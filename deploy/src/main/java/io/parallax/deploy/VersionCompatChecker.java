package io.parallax.deploy;

import akka.cluster.ConfigValidation;
import akka.cluster.Invalid;
import akka.cluster.JoinConfigCompatChecker;
import akka.cluster.Valid$;
import akka.japi.Util;
import com.typesafe.config.Config;
import java.util.List;
import scala.collection.immutable.Seq;

/**
 * Refuses a node of another Parallax version when it asks to join the cluster. Akka runs this
 * check on the seed (the coordinator) against the joining node's {@value #KEY}, and on the joining
 * node against the seed's; on a mismatch the joining node is not let in and shuts down
 * ({@link akka.actor.CoordinatedShutdown#incompatibleConfigurationDetectedReason()}), so a worker
 * left on an old version after an upgrade is told at once instead of training with another
 * meaning of the job. A node of a version before this check sends no {@value #KEY}: refused too.
 */
public final class VersionCompatChecker extends JoinConfigCompatChecker {

    /** The configuration key that carries a node's version ({@link NodeConfig} sets it). */
    static final String KEY = "parallax.version";

    /** Akka creates it by reflection, from the cluster's configuration. */
    public VersionCompatChecker() {}

    @Override
    public Seq<String> requiredKeys() {
        return Util.immutableSeq(List.of(KEY));
    }

    @Override
    public ConfigValidation check(Config toCheck, Config actualConfig) {
        String ours = actualConfig.hasPath(KEY) ? actualConfig.getString(KEY) : "unknown";
        String theirs = toCheck.hasPath(KEY) ? toCheck.getString(KEY) : null;
        if (ours.equals(theirs)) {
            return Valid$.MODULE$;
        }
        return new Invalid(Util.immutableSeq(List.of("Parallax versions differ: this node runs " + ours
                + ", the other " + (theirs == null ? "a version from before 0.1.0 (it sends none)" : theirs)
                + "; every node of a cluster must run the same version")));
    }
}
