"""Zip the Python packages the Glue job imports, for its `--extra-py-files`.

Glue puts a zip named in `--extra-py-files` on the job's Python path, so the packages sit at the
zip's root (`shared/...`, `glue_streaming/...`). The zip is reproducible: the same sources give the
same bytes (fixed timestamps and permissions, sorted entries), so its hash, which names the object
in S3, changes only when the code does.

Run by the function's Makefile during `sam build` (standard library only, any Python 3):
    python3 bundle.py PROJECT_ROOT OUTPUT.zip
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

PACKAGES = ("shared", "glue_streaming")
# Build files and caches that are not part of a package's importable code.
EXCLUDED_NAMES = {"Makefile", "__pycache__"}
EXCLUDED_SUFFIXES = {".pyc", ".pyo"}
# The earliest time a zip entry can hold; any fixed time makes the archive reproducible.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class BundleError(RuntimeError):
    """A package to ship is missing or empty."""


def package_files(root: Path, packages: tuple[str, ...] = PACKAGES) -> list[Path]:
    """The files to ship, relative to root, sorted."""
    files = []
    for package in packages:
        folder = root / package
        if not (folder / "__init__.py").is_file():
            raise BundleError(f"{folder} is not a Python package (no __init__.py): the Glue job imports it")
        for path in folder.rglob("*"):
            relative = path.relative_to(root)
            excluded = EXCLUDED_NAMES.intersection(relative.parts) or path.suffix in EXCLUDED_SUFFIXES
            if path.is_file() and not excluded:
                files.append(relative)
    return sorted(files)


def build(root: Path, destination: Path, packages: tuple[str, ...] = PACKAGES) -> Path:
    """Write the zip of `packages` (folders under root) to destination; returns destination."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for relative in package_files(root, packages):
            entry = zipfile.ZipInfo(relative.as_posix(), date_time=ZIP_EPOCH)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, (root / relative).read_bytes())
    return destination


def main(argv: list[str]) -> int:
    """Command line: bundle.py PROJECT_ROOT OUTPUT.zip."""
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        built = build(Path(argv[0]), Path(argv[1]))
    except BundleError as error:
        print(f"bundle.py: {error}", file=sys.stderr)
        return 1
    print(f"bundle.py: wrote {built}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
