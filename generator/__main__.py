import sys

from labpress.cli import main

sys.exit(main())
