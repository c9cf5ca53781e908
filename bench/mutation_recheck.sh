#!/bin/bash
# Re-run a mutant that `make mutation` left alive against the tests as they are now, without a
# new mutmut run (whose stats collection takes minutes): mutmut's trampolined copy in mutants/
# switches the mutant on through MUTANT_UNDER_TEST.
#   bench/mutation_recheck.sh MUTANT_NAME TEST_PATH... [pytest args]
# Prints KILLED or SURVIVED; a killed one goes into bench/mutation_rechecked.txt.
set -u
mutant=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
py=${PY:-.venv/bin/python}
out=$(PYTHONPATH=$root/mutants/src MUTANT_UNDER_TEST="$mutant" \
    "$py" -m pytest -x -q -p no:cacheprovider -n 0 "$@" 2>&1)
rc=$?
echo "$out" | grep -E "^(FAILED|ERROR)" | head -1
case $rc in
    0) echo "SURVIVED $mutant" ;;
    1) echo "KILLED $mutant" ;;
    *) echo "ERROR (pytest exit $rc) $mutant"; echo "$out" | tail -5; exit 2 ;;
esac
