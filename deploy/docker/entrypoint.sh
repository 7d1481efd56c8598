#!/bin/sh
# The image's entry point: `trainer ARGS`. PARALLAX_HOST=auto becomes this container's IP
# address (what the other containers reach it by); JAVA_OPTS is split into JVM options.
set -eu
if [ "${PARALLAX_HOST:-}" = auto ]; then
    PARALLAX_HOST=$(hostname -i | awk '{print $1}')
    export PARALLAX_HOST
fi
# shellcheck disable=SC2086  # JAVA_OPTS holds several options
exec java ${JAVA_OPTS:-} -Dparallax.home=/opt/parallax -cp '/opt/parallax/lib/*' io.parallax.deploy.TrainerCli "$@"
