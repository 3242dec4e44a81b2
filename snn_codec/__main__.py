import sys

from snn_codec.cli import main

sys.exit(main())
