import sys

from netqa.cli import main

sys.exit(main())
