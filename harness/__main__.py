"""`/usr/bin/python3 -m harness ...`. The dependencies are checked before anything imports
them: under an interpreter without them (a pyenv or venv `python3`) the harness prints one line
naming the interpreter to use and exits 2, instead of a ModuleNotFoundError traceback."""
import importlib.util
import sys

NEEDED = ("pandas", "matplotlib", "tqdm", "kconfiglib", "distributed")
INTERPRETER = "/usr/bin/python3"

missing = [m for m in NEEDED if importlib.util.find_spec(m) is None]
if missing:
    print(f"harness: this interpreter ({sys.executable}) lacks {', '.join(missing)}; run "
          f"`{INTERPRETER} -m harness ...` (Debian's Python, with the packages `make deps` "
          f"installs)", file=sys.stderr)
    sys.exit(2)

from .cli import main  # noqa: E402

sys.exit(main())
