"""``python -m novakeys ARGS``: runs the installed binary with ARGS."""

import os
import sys

from ._server import find_binary


def main():
    binary = find_binary()
    if os.name == "posix":
        os.execv(binary, [binary, *sys.argv[1:]])
    import subprocess

    sys.exit(subprocess.call([binary, *sys.argv[1:]]))


if __name__ == "__main__":
    main()
