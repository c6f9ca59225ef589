"""Shell snippets to tell whether a command was killed, by waiting for a condition instead of sleeping."""

# Beats (rewrites `beat` every 20 ms) and prints "started" after its first beat: while any of it runs,
# `beat` keeps changing.
BEATER = "date +%s%N > beat; echo started; while true; do date +%s%N > beat.new; mv beat.new beat; sleep 0.02; done"

# Run in the same sandbox after BEATER should have been killed: prints "stopped" once `beat` has not
# changed for 5 reads 0.1 s apart (25 beats' time, by the sandbox's own clock), "still beating" after
# 10 s, "never beat" when BEATER never ran.
UNTIL_STOPPED = (
    "[ -s beat ] || { echo never beat; exit 0; }; last=; same=0; for i in $(seq 1 100); do now=$(cat beat); "
    'if [ "$now" = "$last" ]; then same=$((same+1)); [ $same -ge 5 ] && { echo stopped; exit 0; }; '
    "else same=0; fi; last=$now; sleep 0.1; done; echo still beating"
)
