#!/bin/sh
# Prints the directory of a working python3.13 (the Lambda runtime's version), or says why not and
# fails. Looks on PATH, then under pyenv's versions/3.13*: a pyenv shim that does not resolve to an
# installed 3.13 is skipped. `make build` puts the directory first on PATH for sam; tests/test_build.py
# uses it to skip, with this reason, where there is none.
for candidate in "$(command -v python3.13 2>/dev/null)" \
    "$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"/versions/3.13*/bin/python3.13; do
    if [ -x "$candidate" ] && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
        dirname "$candidate"
        exit 0
    fi
done
echo "no python3.13 found: none on PATH and none under \$(pyenv root)/versions/3.13*" >&2
exit 1
