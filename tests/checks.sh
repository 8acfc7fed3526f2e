# Shared by the shell suites (tests/ecosystem, tests/hardening): one "ok"/"FAIL" line per check,
# counted by scripts/test.sh, and a summary line that sets the exit status.
PASS=0 FAIL=0
check() { # check NAME EXPECTED ACTUAL
    if [ "$2" = "$3" ]; then
        echo "ok   $1"; PASS=$((PASS + 1))
    else
        echo "FAIL $1: expected '$2', got '$3'"; FAIL=$((FAIL + 1))
    fi
}
summary() { # summary SUITE
    echo "$1: $PASS passed, $FAIL failed"
    [ "$FAIL" = 0 ]
}
