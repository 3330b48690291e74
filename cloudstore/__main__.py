import sys

from cloudstore.cli import main

sys.exit(main())
