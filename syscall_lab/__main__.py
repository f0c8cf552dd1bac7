import sys

from syscall_lab.cli import main

sys.exit(main())
