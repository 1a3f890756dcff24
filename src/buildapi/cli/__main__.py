"""`python -m buildapi.cli`."""

import sys

from buildapi.cli import main

sys.exit(main())
