"""`python -m autograder.gradescope prepare|run --root ROOT`: what setup.sh and run_autograder call."""

import sys

from autograder.gradescope.container import main

sys.exit(main(sys.argv[1:]))
